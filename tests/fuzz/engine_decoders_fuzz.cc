// Decoders of bytes the engine reads from disk: the key file, the key-check record and the
// encryption prefix of every file. None may crash; what decodes must round-trip.
#include <string>
#include <string_view>

#include "engine/encryption/aes_ctr_provider.h"
#include "engine/encryption/encryption_key.h"
#include "tests/fuzz/fuzz_driver.h"

using rustorium::engine::AesCtrEncryptionProvider;
using rustorium::engine::KeyCheck;
using rustorium::engine::ParseEncryptionKey;

std::vector<std::string> FuzzSeeds() {
  rustorium::engine::EncryptionKey key;
  std::string prefix(64, '\0');
  prefix.replace(0, 8, "RSTAES01");
  return {
      std::string(64, 'a'),
      std::string(64, '0') + "\n",
      std::string(64, 'F') + "\r\n",
      KeyCheck::Create(key)->Encode(),
      prefix,
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto key = ParseEncryptionKey(input);
  if (key.ok()) {
    FUZZ_CHECK(size >= 64 && size <= 66);
  } else {
    FUZZ_CHECK(key.status().IsInvalidArgument());
    // The error never echoes key material.
    FUZZ_CHECK(size < 8 || key.status().message().find(input.substr(0, 8)) == std::string::npos);
  }

  auto check = KeyCheck::Decode(input);
  if (check.ok()) {
    // Canonical form is lower-case hex; a decoded record re-encodes to an equivalent record.
    auto again = KeyCheck::Decode(check->Encode());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->salt == check->salt && again->mac == check->mac);
  } else {
    FUZZ_CHECK(check.status().IsCorruption());
  }

  auto iv = AesCtrEncryptionProvider::ParsePrefix(input.data(), input.size());
  if (iv.ok()) {
    FUZZ_CHECK(size >= 24 && input.substr(0, 8) == "RSTAES01");
  } else {
    FUZZ_CHECK(iv.status().IsCorruption());
  }
  return 0;
}
