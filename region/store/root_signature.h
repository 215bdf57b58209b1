// Stores sign what they answer: (region id, epoch, applied index, root). A client that knows
// the store's public key (from PD) can then check a proof without trusting the connection.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::store {

// A root on the wire and in apply results: 32 bytes, big-endian.
std::string RootToBytes(const proof::Fr& root);
// Corruption unless `bytes` is 32 bytes holding a field element.
Result<proof::Fr> RootFromBytes(std::string_view bytes);

// The bytes signed: "rustorium.root.v1", region id, conf_ver, version, applied index (each
// 8 bytes big-endian) and the root (32 bytes big-endian).
std::string RootStatement(uint64_t region_id, uint64_t conf_ver, uint64_t version,
                          uint64_t applied_index, const proof::Fr& root);

// A store's ed25519 key pair (libsodium).
class StoreKey {
 public:
  // Reads the key file at `path` (64-byte libsodium secret key, mode 0600), creating it with
  // a fresh key when missing. InvalidArgument when the file is not a key; IOError when it cannot
  // be read or written.
  static Result<StoreKey> LoadOrCreate(const std::string& path);
  static StoreKey Generate();

  std::string Sign(std::string_view message) const;  // 64 bytes
  const std::array<uint8_t, 32>& public_key() const { return public_; }
  std::string public_key_bytes() const {
    return {reinterpret_cast<const char*>(public_.data()), public_.size()};
  }

 private:
  std::array<uint8_t, 64> secret_{};
  std::array<uint8_t, 32> public_{};
};

// True when `signature` is `public_key`'s signature of `message`.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

}  // namespace rustorium::store
