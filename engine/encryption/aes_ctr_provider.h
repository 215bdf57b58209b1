// File-level AES-256-CTR for RocksDB's encrypted environment, with OpenSSL's EVP cipher and a
// fresh random IV per file from OpenSSL's generator. (RocksDB's stock CTR provider seeds its
// IVs from the clock, which can repeat a key stream across files.)
#pragma once

#include <rocksdb/env_encryption.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/encryption/encryption_key.h"

namespace rustorium::engine {

// Every encrypted file starts with a plaintext prefix of kPrefixLength bytes:
//   bytes 0..7   magic "RSTAES01"
//   bytes 8..23  the file's 128-bit initial counter block (IV), random
//   the rest     zero
// followed by the file's data encrypted with AES-256-CTR, whose block i (counted from the
// first byte after the prefix) uses the counter IV + i (big-endian, mod 2^128).
class AesCtrEncryptionProvider final : public rocksdb::EncryptionProvider {
 public:
  static constexpr std::size_t kPrefixLength = 4096;
  static constexpr std::size_t kBlockSize = 16;

  explicit AesCtrEncryptionProvider(const EncryptionKey& key) : key_(key) {}

  const char* Name() const override { return "RustoriumAesCtr"; }
  size_t GetPrefixLength() const override { return kPrefixLength; }
  rocksdb::Status CreateNewPrefix(const std::string& fname, char* prefix,
                                  size_t prefix_length) const override;
  rocksdb::Status AddCipher(const std::string& descriptor, const char* cipher, size_t len,
                            bool for_write) override;
  rocksdb::Status CreateCipherStream(
      const std::string& fname, const rocksdb::EnvOptions& options, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override;

  // Reads the IV out of a file prefix; Corruption when the prefix is not ours. Exposed for
  // the fuzzer and tests.
  static Result<std::array<uint8_t, 16>> ParsePrefix(const char* prefix, size_t length);

 private:
  EncryptionKey key_;
};

// XORs `data` in place with the AES-256-CTR key stream of (key, iv) starting at byte
// `offset` of the stream. Encryption and decryption are the same operation. Thread-safe.
Status AesCtrXor(const EncryptionKey& key, const std::array<uint8_t, 16>& iv, uint64_t offset,
                 char* data, size_t size);

}  // namespace rustorium::engine
