#include "region/store/store_key.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "region/store/root_statement.h"

namespace rustorium::store {

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

}  // namespace rustorium::store
