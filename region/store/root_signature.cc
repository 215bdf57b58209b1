#include "region/store/root_signature.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/codec.h"

namespace rustorium::store {

namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

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

StoreKey StoreKey::Generate() {
  SodiumReady();
  StoreKey k;
  crypto_sign_keypair(k.public_.data(), k.secret_.data());
  return k;
}

Result<StoreKey> StoreKey::LoadOrCreate(const std::string& path) {
  if (!SodiumReady()) return Status::Internal("libsodium failed to initialise");
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    if (bytes.size() != crypto_sign_SECRETKEYBYTES) {
      return Status::InvalidArgument(path + " is not a store key (" + std::to_string(bytes.size()) +
                                     " bytes, want 64)");
    }
    StoreKey k;
    std::memcpy(k.secret_.data(), bytes.data(), bytes.size());
    crypto_sign_ed25519_sk_to_pk(k.public_.data(), k.secret_.data());
    return k;
  }
  StoreKey k = Generate();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IOError("cannot write store key " + path);
    out.write(reinterpret_cast<const char*>(k.secret_.data()),
              static_cast<std::streamsize>(k.secret_.size()));
    if (!out.good()) return Status::IOError("cannot write store key " + path);
  }
  ::chmod(path.c_str(), 0600);
  return k;
}

std::string StoreKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return sig;
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
