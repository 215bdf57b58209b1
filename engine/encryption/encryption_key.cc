#include "engine/encryption/encryption_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/codec.h"

namespace rustorium::engine {

namespace {

constexpr std::string_view kKeyCheckLabel = "rustorium-keycheck-v1";
constexpr std::string_view kKeyCheckHeader = "rustorium-keycheck v1 ";

// Decodes exactly 2*N hex characters into `out`.
template <std::size_t N>
bool DecodeHexInto(std::string_view hex, std::array<uint8_t, N>& out) {
  std::string bytes;
  if (hex.size() != 2 * N || !DecodeHex(hex, bytes)) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

template <std::size_t N>
std::string HexOf(const std::array<uint8_t, N>& in) {
  return EncodeHex(std::string_view(reinterpret_cast<const char*>(in.data()), N));
}

std::array<uint8_t, 32> KeyCheckMac(const EncryptionKey& key, const std::array<uint8_t, 16>& salt) {
  std::string message(kKeyCheckLabel);
  message.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  std::array<uint8_t, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.bytes.data(), static_cast<int>(key.bytes.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len);
  return mac;
}

}  // namespace

Result<EncryptionKey> ParseEncryptionKey(std::string_view contents) {
  if (contents.size() >= 2 && contents.substr(contents.size() - 2) == "\r\n") {
    contents.remove_suffix(2);
  } else if (!contents.empty() && contents.back() == '\n') {
    contents.remove_suffix(1);
  }
  if (contents.size() != 64) {
    return Status::InvalidArgument("encryption key must be 64 hex characters (256 bits), found " +
                                   std::to_string(contents.size()) + " characters");
  }
  EncryptionKey key;
  if (!DecodeHexInto(contents, key.bytes)) {
    return Status::InvalidArgument("encryption key holds a character that is not hex");
  }
  return key;
}

Result<EncryptionKey> ReadEncryptionKeyFile(const std::string& path) {
  if (path.empty()) {
    return Status::InvalidArgument("encryption is on but no encryption_key_file is set");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read encryption key file " + path + ": " +
                                   std::strerror(errno));
  }
  // A key file is 66 bytes at most; reading a little more is enough to refuse a long one.
  std::string contents(128, '\0');
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<std::size_t>(in.gcount()));
  Result<EncryptionKey> key = ParseEncryptionKey(contents);
  if (!key.ok()) return key.status().WithContext("encryption key file " + path);
  return key;
}

Result<KeyCheck> KeyCheck::Create(const EncryptionKey& key) {
  KeyCheck check;
  if (RAND_bytes(check.salt.data(), static_cast<int>(check.salt.size())) != 1) {
    return Status::Internal("OpenSSL's random generator failed");
  }
  check.mac = KeyCheckMac(key, check.salt);
  return check;
}

bool KeyCheck::Matches(const EncryptionKey& key) const {
  std::array<uint8_t, 32> want = KeyCheckMac(key, salt);
  return CRYPTO_memcmp(want.data(), mac.data(), mac.size()) == 0;
}

std::string KeyCheck::Encode() const {
  return std::string(kKeyCheckHeader) + HexOf(salt) + " " + HexOf(mac) + "\n";
}

Result<KeyCheck> KeyCheck::Decode(std::string_view text) {
  constexpr std::size_t kSize = kKeyCheckHeader.size() + 32 + 1 + 64 + 1;
  if (text.size() != kSize || text.substr(0, kKeyCheckHeader.size()) != kKeyCheckHeader ||
      text[kKeyCheckHeader.size() + 32] != ' ' || text.back() != '\n') {
    return Status::Corruption("malformed key-check record");
  }
  KeyCheck check;
  std::string_view body = text.substr(kKeyCheckHeader.size());
  if (!DecodeHexInto(body.substr(0, 32), check.salt) ||
      !DecodeHexInto(body.substr(33, 64), check.mac)) {
    return Status::Corruption("malformed key-check record");
  }
  return check;
}

}  // namespace rustorium::engine
