#include "proof/zk/snarkjs_json.h"

#include <nlohmann/json.hpp>

#include "proof/curve/pairing.h"

namespace rustorium::proof::zk {
namespace {

using json = nlohmann::ordered_json;

json G1Json(const G1Affine& p) {
  const auto c = G1ToSnarkjsJson(p);
  return json::array({c[0], c[1], c[2]});
}

json G2Json(const G2Affine& p) {
  const auto c = G2ToSnarkjsJson(p);
  json out = json::array();
  for (const auto& pair : c) out.push_back(json::array({pair[0], pair[1]}));
  return out;
}

Status Bad(const char* what, const std::string& why) {
  return Status::Corruption(std::string(what) + ": " + why);
}

// A JSON array of 2 or 3 strings.
Result<G1Affine> G1FromJson(const json& j, const char* what) {
  if (!j.is_array() || j.size() < 2 || j.size() > 3) return Bad(what, "not a G1 point");
  std::vector<std::string> c;
  for (const json& e : j) {
    if (!e.is_string()) return Bad(what, "coordinates must be strings");
    c.push_back(e.get<std::string>());
  }
  auto p = G1FromSnarkjsJson(c);
  if (!p.ok()) return Bad(what, p.status().message());
  return *p;
}

Result<G2Affine> G2FromJson(const json& j, const char* what) {
  if (!j.is_array() || j.size() < 2 || j.size() > 3) return Bad(what, "not a G2 point");
  std::vector<std::array<std::string, 2>> c;
  for (const json& pair : j) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return Bad(what, "coordinates must be pairs of strings");
    }
    c.push_back({pair[0].get<std::string>(), pair[1].get<std::string>()});
  }
  auto p = G2FromSnarkjsJson(c, SubgroupCheck::kCheck);
  if (!p.ok()) return Bad(what, p.status().message());
  return *p;
}

Result<json> Parse(std::string_view text, const char* what) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad(what, "not JSON");
  return j;
}

const json* Field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// A JSON object whose "protocol" and "curve", where given, are groth16 and bn128.
Result<json> ParseGroth16Object(std::string_view text, const char* what) {
  ASSIGN_OR_RETURN(json j, Parse(text, what));
  if (!j.is_object()) return Bad(what, "not a JSON object");
  const json* protocol = Field(j, "protocol");
  if (protocol != nullptr && (!protocol->is_string() || *protocol != "groth16")) {
    return Bad(what, "protocol is not groth16");
  }
  const json* curve = Field(j, "curve");
  if (curve != nullptr && (!curve->is_string() || *curve != "bn128")) {
    return Bad(what, "curve is not bn128");
  }
  return j;
}

}  // namespace

std::string VerifyingKeyToJson(const VerifyingKey& vk) {
  json j;
  j["protocol"] = "groth16";
  j["curve"] = "bn128";
  j["nPublic"] = vk.num_public();
  j["vk_alpha_1"] = G1Json(vk.alpha1);
  j["vk_beta_2"] = G2Json(vk.beta2);
  j["vk_gamma_2"] = G2Json(vk.gamma2);
  j["vk_delta_2"] = G2Json(vk.delta2);
  const Fq12 alphabeta = Pairing(vk.alpha1, vk.beta2);
  json gt = json::array();
  for (const Fq6* six : {&alphabeta.c0, &alphabeta.c1}) {
    json row = json::array();
    for (const Fq2* two : {&six->c0, &six->c1, &six->c2}) {
      row.push_back(json::array({two->c0.ToDecimal(), two->c1.ToDecimal()}));
    }
    gt.push_back(row);
  }
  j["vk_alphabeta_12"] = gt;
  json ic = json::array();
  for (const G1Affine& p : vk.ic) ic.push_back(G1Json(p));
  j["IC"] = ic;
  return j.dump(1);
}

Result<VerifyingKey> VerifyingKeyFromJson(std::string_view text) {
  constexpr const char* kWhat = "verification key";
  ASSIGN_OR_RETURN(json j, ParseGroth16Object(text, kWhat));
  const json* alpha = Field(j, "vk_alpha_1");
  const json* beta = Field(j, "vk_beta_2");
  const json* gamma = Field(j, "vk_gamma_2");
  const json* delta = Field(j, "vk_delta_2");
  const json* ic = Field(j, "IC");
  if (!alpha || !beta || !gamma || !delta || !ic || !ic->is_array() || ic->empty()) {
    return Bad(kWhat, "needs vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2 and IC");
  }
  VerifyingKey vk;
  ASSIGN_OR_RETURN(vk.alpha1, G1FromJson(*alpha, kWhat));
  ASSIGN_OR_RETURN(vk.beta2, G2FromJson(*beta, kWhat));
  ASSIGN_OR_RETURN(vk.gamma2, G2FromJson(*gamma, kWhat));
  ASSIGN_OR_RETURN(vk.delta2, G2FromJson(*delta, kWhat));
  for (const json& p : *ic) {
    ASSIGN_OR_RETURN(G1Affine point, G1FromJson(p, kWhat));
    vk.ic.push_back(point);
  }
  const json* n = Field(j, "nPublic");
  if (n != nullptr && (!n->is_number_unsigned() || n->get<uint64_t>() != vk.num_public())) {
    return Bad(kWhat, "nPublic disagrees with IC");
  }
  return vk;
}

std::string ProofToJson(const Groth16Proof& proof) {
  json j;
  j["pi_a"] = G1Json(proof.a);
  j["pi_b"] = G2Json(proof.b);
  j["pi_c"] = G1Json(proof.c);
  j["protocol"] = "groth16";
  j["curve"] = "bn128";
  return j.dump(1);
}

Result<Groth16Proof> ProofFromJson(std::string_view text) {
  constexpr const char* kWhat = "proof";
  ASSIGN_OR_RETURN(json j, ParseGroth16Object(text, kWhat));
  const json* a = Field(j, "pi_a");
  const json* b = Field(j, "pi_b");
  const json* c = Field(j, "pi_c");
  if (!a || !b || !c) return Bad(kWhat, "needs pi_a, pi_b and pi_c");
  Groth16Proof proof;
  ASSIGN_OR_RETURN(proof.a, G1FromJson(*a, kWhat));
  ASSIGN_OR_RETURN(proof.b, G2FromJson(*b, kWhat));
  ASSIGN_OR_RETURN(proof.c, G1FromJson(*c, kWhat));
  return proof;
}

std::string PublicInputsToJson(std::span<const Fr> inputs) {
  json j = json::array();
  for (const Fr& x : inputs) j.push_back(x.ToDecimal());
  return j.dump(1);
}

Result<std::vector<Fr>> PublicInputsFromJson(std::string_view text) {
  constexpr const char* kWhat = "public inputs";
  ASSIGN_OR_RETURN(json j, Parse(text, kWhat));
  if (!j.is_array()) return Bad(kWhat, "not a JSON array");
  std::vector<Fr> out;
  for (const json& e : j) {
    if (!e.is_string()) return Bad(kWhat, "each input must be a decimal string");
    auto x = Fr::Parse(e.get<std::string>());
    if (!x.ok()) return Bad(kWhat, x.status().message());
    out.push_back(*x);
  }
  return out;
}

}  // namespace rustorium::proof::zk
