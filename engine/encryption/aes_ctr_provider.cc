#include "engine/encryption/aes_ctr_provider.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace rustorium::engine {

namespace {

constexpr char kMagic[8] = {'R', 'S', 'T', 'A', 'E', 'S', '0', '1'};

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// The cipher, fetched once: OpenSSL 3 looks the implementation up on every init otherwise.
const EVP_CIPHER* Aes256Ctr() {
  static const EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  return cipher;
}

// One cipher context per thread, keeping the key schedule of the last key it saw: a call
// with the same key only loads a new counter block. No lock is needed.
struct ThreadCipher {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx{EVP_CIPHER_CTX_new()};
  std::array<uint8_t, 32> key{};
  bool keyed = false;
};

// Prepares this thread's context for (key, counter); null on failure.
EVP_CIPHER_CTX* ThreadCipherContext(const EncryptionKey& key,
                                    const std::array<uint8_t, 16>& counter) {
  thread_local ThreadCipher tc;
  EVP_CIPHER_CTX* ctx = tc.ctx.get();
  const EVP_CIPHER* cipher = Aes256Ctr();
  if (ctx == nullptr || cipher == nullptr) return nullptr;
  if (!tc.keyed || tc.key != key.bytes) {
    tc.keyed = false;
    if (EVP_EncryptInit_ex(ctx, cipher, nullptr, key.bytes.data(), counter.data()) != 1) {
      return nullptr;
    }
    tc.key = key.bytes;
    tc.keyed = true;
    return ctx;
  }
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, counter.data()) != 1) return nullptr;
  return ctx;
}

// counter = iv + block_index, as 128-bit big-endian integers.
std::array<uint8_t, 16> CounterBlock(const std::array<uint8_t, 16>& iv, uint64_t block_index) {
  std::array<uint8_t, 16> counter = iv;
  uint64_t carry = block_index;
  for (int i = 15; i >= 0 && carry != 0; --i) {
    uint64_t sum = static_cast<uint64_t>(counter[i]) + (carry & 0xff);
    counter[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return counter;
}

class AesCtrCipherStream final : public rocksdb::BlockAccessCipherStream {
 public:
  AesCtrCipherStream(const EncryptionKey& key, const std::array<uint8_t, 16>& iv)
      : key_(key), iv_(iv) {}

  size_t BlockSize() override { return AesCtrEncryptionProvider::kBlockSize; }

  rocksdb::Status Encrypt(uint64_t file_offset, char* data, size_t size) override {
    return Xor(file_offset, data, size);
  }
  rocksdb::Status Decrypt(uint64_t file_offset, char* data, size_t size) override {
    return Xor(file_offset, data, size);
  }

 protected:
  void AllocateScratch(std::string& scratch) override { scratch.resize(BlockSize()); }
  rocksdb::Status EncryptBlock(uint64_t block_index, char* data, char*) override {
    return Xor(block_index * BlockSize(), data, BlockSize());
  }
  rocksdb::Status DecryptBlock(uint64_t block_index, char* data, char*) override {
    return Xor(block_index * BlockSize(), data, BlockSize());
  }

 private:
  rocksdb::Status Xor(uint64_t offset, char* data, size_t size) {
    Status s = AesCtrXor(key_, iv_, offset, data, size);
    return s.ok() ? rocksdb::Status::OK() : rocksdb::Status::IOError(s.message());
  }

  EncryptionKey key_;
  std::array<uint8_t, 16> iv_;
};

}  // namespace

Status AesCtrXor(const EncryptionKey& key, const std::array<uint8_t, 16>& iv, uint64_t offset,
                 char* data, size_t size) {
  if (size == 0) return Status::OK();
  const std::array<uint8_t, 16> counter =
      CounterBlock(iv, offset / AesCtrEncryptionProvider::kBlockSize);
  EVP_CIPHER_CTX* ctx = ThreadCipherContext(key, counter);
  if (ctx == nullptr) return Status::Internal("cannot set up OpenSSL's AES-256-CTR");
  int out_len = 0;
  // Move to the offset's position inside its block by consuming that much key stream.
  const size_t skip = offset % AesCtrEncryptionProvider::kBlockSize;
  if (skip != 0) {
    unsigned char discard[AesCtrEncryptionProvider::kBlockSize] = {};
    if (EVP_EncryptUpdate(ctx, discard, &out_len, discard, static_cast<int>(skip)) != 1) {
      return Status::Internal("EVP_EncryptUpdate failed");
    }
  }
  auto* bytes = reinterpret_cast<unsigned char*>(data);
  // EVP lengths are ints: go in chunks well below INT_MAX.
  constexpr size_t kChunk = size_t{1} << 30;
  for (size_t done = 0; done < size;) {
    const size_t n = std::min(kChunk, size - done);
    if (EVP_EncryptUpdate(ctx, bytes + done, &out_len, bytes + done, static_cast<int>(n)) != 1) {
      return Status::Internal("EVP_EncryptUpdate failed");
    }
    done += n;
  }
  return Status::OK();
}

rocksdb::Status AesCtrEncryptionProvider::CreateNewPrefix(const std::string& fname, char* prefix,
                                                          size_t prefix_length) const {
  if (prefix_length < 24) {
    return rocksdb::Status::InvalidArgument("encryption prefix too short for " + fname);
  }
  std::memset(prefix, 0, prefix_length);
  std::memcpy(prefix, kMagic, sizeof(kMagic));
  if (RAND_bytes(reinterpret_cast<unsigned char*>(prefix) + sizeof(kMagic), 16) != 1) {
    return rocksdb::Status::IOError("OpenSSL's random generator failed for " + fname);
  }
  return rocksdb::Status::OK();
}

rocksdb::Status AesCtrEncryptionProvider::AddCipher(const std::string&, const char*, size_t, bool) {
  return rocksdb::Status::NotSupported("the key is fixed when the provider is made");
}

Result<std::array<uint8_t, 16>> AesCtrEncryptionProvider::ParsePrefix(const char* prefix,
                                                                      size_t length) {
  if (length < sizeof(kMagic) + 16 || std::memcmp(prefix, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("file is not encrypted by this store (bad encryption header)");
  }
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), prefix + sizeof(kMagic), iv.size());
  return iv;
}

rocksdb::Status AesCtrEncryptionProvider::CreateCipherStream(
    const std::string& fname, const rocksdb::EnvOptions&, rocksdb::Slice& prefix,
    std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) {
  Result<std::array<uint8_t, 16>> iv = ParsePrefix(prefix.data(), prefix.size());
  if (!iv.ok()) return rocksdb::Status::Corruption(fname + ": " + iv.status().message());
  result->reset(new AesCtrCipherStream(key_, *iv));
  return rocksdb::Status::OK();
}

}  // namespace rustorium::engine
