// The encryption key of a store and the key-check record that proves a key is the right one
// before RocksDB opens any file.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium::engine {

// A 256-bit AES key.
struct EncryptionKey {
  std::array<uint8_t, 32> bytes{};
};

// Parses a key file's contents: exactly 64 hex characters (either case), optionally followed
// by one "\n" or "\r\n". Anything else is InvalidArgument, with a message that never echoes
// the key material.
Result<EncryptionKey> ParseEncryptionKey(std::string_view contents);

// Reads and parses the key file at `path`. A missing or unreadable file is InvalidArgument.
Result<EncryptionKey> ReadEncryptionKeyFile(const std::string& path);

// Name of the key-check record inside an encrypted store's directory.
inline constexpr std::string_view kKeyCheckFileName = "RUSTORIUM-KEYCHECK";

// The key-check record: a random salt and HMAC-SHA256(key, label || salt). It reveals nothing
// about the key and tells a wrong key from the right one in constant time.
struct KeyCheck {
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 32> mac{};

  // A fresh record for `key`, with a salt from OpenSSL's random generator.
  static Result<KeyCheck> Create(const EncryptionKey& key);

  // True when `key` is the key this record was created with.
  bool Matches(const EncryptionKey& key) const;

  // One text line: "rustorium-keycheck v1 <salt hex> <mac hex>\n".
  std::string Encode() const;
  // Inverse of Encode(); malformed input is Corruption.
  static Result<KeyCheck> Decode(std::string_view text);
};

}  // namespace rustorium::engine
