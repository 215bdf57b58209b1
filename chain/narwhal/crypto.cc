#include "chain/narwhal/crypto.h"

#include <sodium.h>

#include <cstdlib>

#include "base/codec.h"

namespace rustorium::chain {
namespace {

void InitSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // libsodium cannot work without a random source: nothing can go on
}

}  // namespace

Digest HashBytes(std::string_view bytes) {
  InitSodium();
  Digest out;
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return out;
}

std::string_view AsBytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string ShortHex(const Digest& digest) { return EncodeHex(AsBytes(digest).substr(0, 8)); }

KeyPair KeyPair::Generate() {
  InitSodium();
  std::array<uint8_t, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed);
}

KeyPair KeyPair::FromSeed(const std::array<uint8_t, 32>& seed) {
  InitSodium();
  KeyPair pair;
  pair.seed_ = seed;
  crypto_sign_seed_keypair(pair.public_.data(), pair.secret_.data(), seed.data());
  return pair;
}

std::string KeyPair::SeedHex() const { return EncodeHex(AsBytes(seed_)); }

Result<KeyPair> KeyPair::FromSeedHex(std::string_view hex) {
  std::string bytes;
  if (hex.size() != 64 || !DecodeHex(hex, bytes)) {
    return Status::InvalidArgument("a validator key is 64 hex characters");
  }
  std::array<uint8_t, 32> seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(bytes[i]);
  return FromSeed(seed);
}

Signature KeyPair::Sign(const Digest& digest) const {
  Signature signature;
  crypto_sign_detached(signature.data(), nullptr, digest.data(), digest.size(), secret_.data());
  return signature;
}

bool VerifySignature(const PublicKey& key, const Digest& digest, const Signature& signature) {
  InitSodium();
  return crypto_sign_verify_detached(signature.data(), digest.data(), digest.size(), key.data()) ==
         0;
}

}  // namespace rustorium::chain
