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
