// Hashing and signatures of the consensus layer: BLAKE2b-256 digests and ed25519 keys
// (libsodium). Thread-safe; libsodium is initialised on first use.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rustorium::chain {

using Digest = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

// BLAKE2b with a 32-byte output of `bytes`.
Digest HashBytes(std::string_view bytes);

// The first 8 bytes in hex: how digests and keys appear in logs.
std::string ShortHex(const Digest& digest);

std::string_view AsBytes(const Digest& digest);

// An ed25519 key pair.
class KeyPair {
 public:
  // A fresh random key pair.
  static KeyPair Generate();
  // The key pair of a 32-byte seed: the same seed always gives the same keys (simulations
  // and tests derive keys from their seed).
  static KeyPair FromSeed(const std::array<uint8_t, 32>& seed);
  // The 32-byte seed in 64 hex characters, and back. InvalidArgument on anything else.
  std::string SeedHex() const;
  static Result<KeyPair> FromSeedHex(std::string_view hex);

  // Signs the 32 bytes of `digest`.
  Signature Sign(const Digest& digest) const;
  const PublicKey& public_key() const { return public_; }

 private:
  std::array<uint8_t, 32> seed_{};
  std::array<uint8_t, 64> secret_{};
  PublicKey public_{};
};

// True when `signature` is `key`'s signature of `digest`. Rejects non-canonical signatures
// and small-order keys (libsodium's checks).
bool VerifySignature(const PublicKey& key, const Digest& digest, const Signature& signature);

}  // namespace rustorium::chain
