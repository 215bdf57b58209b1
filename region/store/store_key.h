// A store's ed25519 signing key (libsodium): it signs every root statement the store answers
// (root_statement.h says what is signed and how clients check it).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium::store {

class StoreKey {
 public:
  // Reads the key file at `path` (64-byte libsodium secret key, mode 0600), creating it with
  // a fresh key when missing. InvalidArgument when the file is not a key; IOError when it cannot
  // be read or written.
  static Result<StoreKey> LoadOrCreate(const std::string& path);
  static StoreKey Generate();

  std::string Sign(std::string_view message) const;  // 64 bytes; thread-safe
  const std::array<uint8_t, 32>& public_key() const { return public_; }
  std::string public_key_bytes() const {
    return {reinterpret_cast<const char*>(public_.data()), public_.size()};
  }

 private:
  std::array<uint8_t, 64> secret_{};
  std::array<uint8_t, 32> public_{};
};

}  // namespace rustorium::store
