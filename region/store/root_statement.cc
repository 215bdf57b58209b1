#include "region/store/root_statement.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "base/codec.h"
#include "proof/poseidon/byte_hash.h"

namespace rustorium::store {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

proof::Fr TreeKey(std::string_view key) { return proof::HashBytes(key); }
proof::Fr TreeValue(std::string_view value) { return proof::HashBytes(value); }

std::string RootToBytes(const proof::Fr& root) {
  const auto b = root.ToBytesBE();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

Result<proof::Fr> RootFromBytes(std::string_view bytes) {
  if (bytes.size() != 32)
    return Status::Corruption("a root is 32 bytes, not " + std::to_string(bytes.size()));
  std::array<uint8_t, 32> b{};
  std::copy(bytes.begin(), bytes.end(), b.begin());
  Result<proof::Fr> root = proof::Fr::FromBytesBE(b);
  if (!root.ok()) return Status::Corruption("a root is not a field element");
  return root;
}

std::string RootStatement(uint64_t region_id, uint64_t conf_ver, uint64_t version,
                          uint64_t applied_index, const proof::Fr& root) {
  std::string s = "rustorium.root.v1";
  PutFixed64BE(s, region_id);
  PutFixed64BE(s, conf_ver);
  PutFixed64BE(s, version);
  PutFixed64BE(s, applied_index);
  return s + RootToBytes(root);
}

namespace {

constexpr std::string_view kSplitTag = "rustorium.split.v1";
constexpr std::string_view kMergeTag = "rustorium.merge.v1";

// Reads a 32-byte root that is a field element.
bool ReadRoot(ByteReader& r, proof::Fr& out) {
  std::string_view bytes;
  if (!r.Raw(32, bytes)) return false;
  Result<proof::Fr> parsed = RootFromBytes(bytes);
  if (!parsed.ok()) return false;
  out = *parsed;
  return true;
}

}  // namespace

std::string SplitStatement(const SplitFacts& f) {
  std::string s(kSplitTag);
  for (uint64_t v :
       {f.split_index, f.parent_id, f.parent_conf_ver, f.parent_version, f.parent_applied_index})
    PutFixed64BE(s, v);
  s += RootToBytes(f.parent_root);
  PutFixed32BE(s, static_cast<uint32_t>(f.split_key.size()));
  s += f.split_key;
  PutFixed64BE(s, f.left_id);
  PutFixed64BE(s, f.left_version);
  s += RootToBytes(f.left_root);
  PutFixed64BE(s, f.right_id);
  PutFixed64BE(s, f.right_version);
  s += RootToBytes(f.right_root);
  return s;
}

Result<SplitFacts> ParseSplitStatement(std::string_view statement) {
  const Status malformed = Status::Corruption("split statement malformed");
  if (statement.substr(0, kSplitTag.size()) != kSplitTag) return malformed;
  ByteReader r(statement.substr(kSplitTag.size()));
  SplitFacts f;
  auto root = [&r](proof::Fr& out) { return ReadRoot(r, out); };
  std::string_view key;
  if (!r.U64(f.split_index) || !r.U64(f.parent_id) || !r.U64(f.parent_conf_ver) ||
      !r.U64(f.parent_version) || !r.U64(f.parent_applied_index) || !root(f.parent_root) ||
      !r.Bytes(key, r.remaining()) || !r.U64(f.left_id) || !r.U64(f.left_version) ||
      !root(f.left_root) || !r.U64(f.right_id) || !r.U64(f.right_version) || !root(f.right_root) ||
      !r.done()) {
    return malformed;
  }
  f.split_key = std::string(key);
  return f;
}

std::string MergeStatement(const MergeFacts& f) {
  std::string s(kMergeTag);
  for (uint64_t v :
       {f.merge_index, f.target_id, f.target_conf_ver, f.target_version, f.target_applied_index})
    PutFixed64BE(s, v);
  s += RootToBytes(f.target_root);
  for (uint64_t v : {f.source_id, f.source_conf_ver, f.source_version, f.source_prepare_index})
    PutFixed64BE(s, v);
  s += RootToBytes(f.source_root);
  PutFixed64BE(s, f.merged_version);
  s += RootToBytes(f.merged_root);
  return s;
}

Result<MergeFacts> ParseMergeStatement(std::string_view statement) {
  if (statement.substr(0, kMergeTag.size()) != kMergeTag)
    return Status::Corruption("merge statement malformed");
  ByteReader r(statement.substr(kMergeTag.size()));
  MergeFacts f;
  if (!r.U64(f.merge_index) || !r.U64(f.target_id) || !r.U64(f.target_conf_ver) ||
      !r.U64(f.target_version) || !r.U64(f.target_applied_index) || !ReadRoot(r, f.target_root) ||
      !r.U64(f.source_id) || !r.U64(f.source_conf_ver) || !r.U64(f.source_version) ||
      !r.U64(f.source_prepare_index) || !ReadRoot(r, f.source_root) || !r.U64(f.merged_version) ||
      !ReadRoot(r, f.merged_root) || !r.done()) {
    return Status::Corruption("merge statement malformed");
  }
  return f;
}

bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (!SodiumReady() || public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

}  // namespace rustorium::store
