#include "proof/smt/proof.h"

#include <nlohmann/json.hpp>

#include "proof/poseidon/poseidon.h"

namespace rustorium::proof {

namespace {

constexpr std::size_t kElemBytes = 32;
constexpr std::size_t kBitmapBytes = 30;
constexpr uint8_t kFlagNonExistence = 1;
constexpr uint8_t kFlagNodeAux = 2;

void AppendElem(std::string& out, const Fr& f) {
  const auto le = f.ToBytesLE();
  out.append(reinterpret_cast<const char*>(le.data()), le.size());
}

Result<Fr> ReadElem(std::string_view bytes, std::size_t at) {
  std::array<uint8_t, 32> le;
  std::copy(bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + 32),
            le.begin());
  Result<Fr> f = Fr::FromBytesLE(le);
  if (!f.ok()) return Status::Corruption("proof element out of range");
  return f;
}

}  // namespace

std::string SmtProof::EncodeBinary() const {
  std::string out(2 + kBitmapBytes, '\0');
  if (!existence) out[0] |= kFlagNonExistence;
  if (node_aux.has_value()) out[0] |= kFlagNodeAux;
  out[1] = static_cast<char>(siblings.size());
  for (std::size_t i = 0; i < siblings.size(); ++i) {
    if (siblings[i].IsZero()) continue;
    out[2 + kBitmapBytes - 1 - i / 8] |= static_cast<char>(1 << (i % 8));
    AppendElem(out, siblings[i]);
  }
  if (node_aux.has_value()) {
    AppendElem(out, node_aux->key);
    AppendElem(out, node_aux->value);
  }
  return out;
}

Result<SmtProof> SmtProof::DecodeBinary(std::string_view bytes) {
  if (bytes.size() < 2 + kBitmapBytes) return Status::Corruption("proof shorter than its header");
  const auto flags = static_cast<uint8_t>(bytes[0]);
  if ((flags & ~(kFlagNonExistence | kFlagNodeAux)) != 0) {
    return Status::Corruption("proof has unknown flags");
  }
  SmtProof p;
  p.existence = (flags & kFlagNonExistence) == 0;
  const bool has_aux = (flags & kFlagNodeAux) != 0;
  if (p.existence && has_aux) return Status::Corruption("inclusion proof with node_aux");
  const int depth = static_cast<uint8_t>(bytes[1]);
  if (depth > kMaxProofDepth) return Status::Corruption("proof depth above 240");
  auto bit = [&](int i) {
    return (static_cast<uint8_t>(bytes[2 + kBitmapBytes - 1 - i / 8]) >> (i % 8)) & 1;
  };
  int non_zero = 0;
  for (int i = 0; i < static_cast<int>(kBitmapBytes) * 8; ++i) {
    if (!bit(i)) continue;
    if (i >= depth) return Status::Corruption("proof bitmap marks a sibling below its depth");
    ++non_zero;
  }
  if (depth > 0 && !bit(depth - 1)) {
    return Status::Corruption("proof depth does not end at a non-zero sibling");
  }
  const std::size_t want =
      2 + kBitmapBytes + kElemBytes * (static_cast<std::size_t>(non_zero) + (has_aux ? 2 : 0));
  if (bytes.size() != want) return Status::Corruption("proof length does not match its bitmap");
  std::size_t at = 2 + kBitmapBytes;
  p.siblings.resize(static_cast<std::size_t>(depth));
  for (int i = 0; i < depth; ++i) {
    if (!bit(i)) continue;
    ASSIGN_OR_RETURN(p.siblings[i], ReadElem(bytes, at));
    if (p.siblings[i].IsZero()) return Status::Corruption("proof sibling marked non-zero is zero");
    at += kElemBytes;
  }
  if (has_aux) {
    NodeAux aux;
    ASSIGN_OR_RETURN(aux.key, ReadElem(bytes, at));
    ASSIGN_OR_RETURN(aux.value, ReadElem(bytes, at + kElemBytes));
    p.node_aux = aux;
  }
  return p;
}

std::string SmtProof::ToJson() const {
  nlohmann::ordered_json j;
  j["existence"] = existence;
  j["siblings"] = nlohmann::ordered_json::array();
  for (const Fr& s : siblings) j["siblings"].push_back(s.ToDecimal());
  if (node_aux.has_value()) {
    j["node_aux"] = {{"key", node_aux->key.ToDecimal()}, {"value", node_aux->value.ToDecimal()}};
  }
  return j.dump();
}

Result<SmtProof> SmtProof::FromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("proof is not a JSON object");
  auto parse_elem = [](const nlohmann::json& v, const char* what) -> Result<Fr> {
    if (!v.is_string()) return Status::Corruption(std::string(what) + " is not a string");
    Result<Fr> f = Fr::FromDecimal(v.get<std::string>());
    if (!f.ok()) return Status::Corruption(std::string(what) + ": " + f.status().message());
    return f;
  };
  SmtProof p;
  auto existence = j.find("existence");
  if (existence == j.end() || !existence->is_boolean()) {
    return Status::Corruption("proof lacks a boolean \"existence\"");
  }
  p.existence = existence->get<bool>();
  auto siblings = j.find("siblings");
  if (siblings == j.end() || !siblings->is_array()) {
    return Status::Corruption("proof lacks a \"siblings\" array");
  }
  if (siblings->size() > static_cast<std::size_t>(kMaxProofDepth)) {
    return Status::Corruption("proof has more than 240 siblings");
  }
  for (const auto& s : *siblings) {
    ASSIGN_OR_RETURN(Fr f, parse_elem(s, "sibling"));
    p.siblings.push_back(f);
  }
  // Trailing zero siblings carry nothing; iden3 drops them too.
  while (!p.siblings.empty() && p.siblings.back().IsZero()) p.siblings.pop_back();
  auto aux = j.find("node_aux");
  if (aux == j.end()) aux = j.find("nodeAux");
  if (aux != j.end() && !aux->is_null()) {
    if (!aux->is_object() || !aux->contains("key") || !aux->contains("value")) {
      return Status::Corruption("node_aux must hold \"key\" and \"value\"");
    }
    NodeAux a;
    ASSIGN_OR_RETURN(a.key, parse_elem((*aux)["key"], "node_aux.key"));
    ASSIGN_OR_RETURN(a.value, parse_elem((*aux)["value"], "node_aux.value"));
    if (p.existence) return Status::Corruption("inclusion proof with node_aux");
    p.node_aux = a;
  }
  for (const auto& [name, value] : j.items()) {
    if (name != "existence" && name != "siblings" && name != "node_aux" && name != "nodeAux") {
      return Status::Corruption("proof has an unknown field \"" + name + "\"");
    }
  }
  return p;
}

Result<Fr> RootFromProof(const SmtProof& proof, const Fr& key, const Fr& value) {
  if (proof.siblings.size() > static_cast<std::size_t>(kMaxProofDepth)) {
    return Status::InvalidArgument("proof has more than 240 siblings");
  }
  Fr node;
  if (proof.existence) {
    node = Poseidon3(key, value, Fr::One());
  } else if (proof.node_aux.has_value()) {
    if (proof.node_aux->key == key) {
      return Status::InvalidArgument("non-inclusion proof names the key itself as node_aux");
    }
    node = Poseidon3(proof.node_aux->key, proof.node_aux->value, Fr::One());
  }
  const Limbs path = key.ToCanonical();
  for (int i = static_cast<int>(proof.siblings.size()) - 1; i >= 0; --i) {
    node =
        PathBit(path, i) ? Poseidon2(proof.siblings[i], node) : Poseidon2(node, proof.siblings[i]);
  }
  return node;
}

Status VerifyProof(const Fr& root, const Fr& key, const std::optional<Fr>& value,
                   const SmtProof& proof) {
  if (value.has_value() && !proof.existence) {
    return Status::FailedPrecondition("proof is a non-inclusion proof, not an inclusion proof");
  }
  if (!value.has_value() && proof.existence) {
    return Status::FailedPrecondition("proof is an inclusion proof, not a non-inclusion proof");
  }
  if (proof.node_aux.has_value()) {
    // The other leaf must really sit on the key's path: share every bit above its depth.
    const Limbs a = proof.node_aux->key.ToCanonical(), b = key.ToCanonical();
    for (std::size_t i = 0; i < proof.siblings.size(); ++i) {
      if (PathBit(a, static_cast<int>(i)) != PathBit(b, static_cast<int>(i))) {
        return Status::FailedPrecondition("node_aux does not lie on the key's path");
      }
    }
  }
  Result<Fr> computed = RootFromProof(proof, key, value.value_or(Fr::Zero()));
  if (!computed.ok()) return Status::FailedPrecondition(computed.status().message());
  if (!(*computed == root)) {
    return Status::FailedPrecondition("proof leads to root " + computed->ToHex() + ", not " +
                                      root.ToHex());
  }
  return Status::OK();
}

}  // namespace rustorium::proof
