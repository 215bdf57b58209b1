// Encryption at rest: the right key opens the store, a wrong one changes nothing, and no
// plaintext reaches the disk.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "engine/encryption/aes_ctr_provider.h"
#include "engine/encryption/encryption_key.h"
#include "engine/engine.h"
#include "tests/test_util.h"

namespace rustorium::engine {
namespace {

namespace fs = std::filesystem;
using rustorium::testing::ReadFile;
using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

constexpr std::string_view kKeyA =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kKeyB =
    "f00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kMarker = "PLAINTEXT-MARKER-7d1e";

// Every file under `dir`, by relative path, with its full contents.
std::map<std::string, std::string> Listing(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      out[fs::relative(entry.path(), dir).string()] = ReadFile(entry.path().string());
    }
  }
  return out;
}

class EncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("key-a"), std::string(kKeyA) + "\n");
    WriteFile(dir_.Sub("key-b"), std::string(kKeyB));
  }
  StorageOptions Options(std::string_view key_name) {
    StorageOptions o;
    o.path = dir_.Sub("db");
    o.block_cache_size = 8 << 20;
    if (!key_name.empty()) {
      o.encryption = true;
      o.encryption_key_file = dir_.Sub(key_name);
    }
    return o;
  }
  // Writes marker-carrying keys and values: half flushed to SST files, half only in the log.
  void Fill(StorageOptions o) {
    o.compression = false;  // compression could hide the marker even without encryption
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    for (int i = 0; i < 200; ++i) {
      std::string k = std::string(kMarker) + "-key-" + std::to_string(i);
      std::string v = std::string(kMarker) + "-value-" + std::to_string(i);
      ASSERT_TRUE((*e)->Put(ColumnFamily::kDefault, k, v).ok());
      if (i == 99) {
        ASSERT_TRUE((*e)->Flush().ok());
      }
    }
  }
  int FilesContainingMarker() {
    int n = 0;
    for (const auto& [name, contents] : Listing(dir_.Sub("db"))) {
      if (name.rfind("LOG", 0) == 0) continue;  // RocksDB's info log holds no user data
      if (contents.find(kMarker) != std::string::npos) ++n;
    }
    return n;
  }
  TempDir dir_;
};

TEST_F(EncryptionTest, NoPlaintextOnDisk) {
  Fill(Options("key-a"));
  auto files = Listing(dir_.Sub("db"));
  bool has_sst = false, has_wal = false, has_manifest = false;
  for (const auto& [name, contents] : files) {
    has_sst |= name.ends_with(".sst");
    has_wal |= name.ends_with(".log");
    has_manifest |= name.rfind("MANIFEST", 0) == 0;
  }
  EXPECT_TRUE(has_sst && has_wal && has_manifest) << "the test must cover SST, WAL and MANIFEST";
  EXPECT_EQ(FilesContainingMarker(), 0);
}

TEST_F(EncryptionTest, ControlUnencryptedStoreShowsPlaintext) {
  // Without encryption the same search finds the marker: the search above can fail.
  Fill(Options(""));
  EXPECT_GE(FilesContainingMarker(), 2);
}

TEST_F(EncryptionTest, EveryFileHasItsOwnRandomIv) {
  Fill(Options("key-a"));
  std::set<std::string> ivs;
  int encrypted_files = 0;
  for (const auto& [name, contents] : Listing(dir_.Sub("db"))) {
    if (!(name.ends_with(".sst") || name.ends_with(".log") || name.rfind("MANIFEST", 0) == 0)) {
      continue;
    }
    auto iv = AesCtrEncryptionProvider::ParsePrefix(contents.data(), contents.size());
    ASSERT_TRUE(iv.ok()) << name << ": " << iv.status().ToString();
    ivs.insert(std::string(iv->begin(), iv->end()));
    ++encrypted_files;
  }
  EXPECT_GE(encrypted_files, 3);
  EXPECT_EQ(static_cast<int>(ivs.size()), encrypted_files);
}

TEST_F(EncryptionTest, SurvivesReopenCompactionAndCheckpoint) {
  Fill(Options("key-a"));
  {
    auto e = Engine::Open(Options("key-a"));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto v = (*e)->Get(ColumnFamily::kDefault, std::string(kMarker) + "-key-150");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, std::string(kMarker) + "-value-150");
    ASSERT_TRUE((*e)->CompactRange(ColumnFamily::kDefault).ok());
    ASSERT_TRUE((*e)->Checkpoint(dir_.Sub("checkpoint")).ok());
  }
  auto e = Engine::Open(Options("key-a"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  for (int i : {0, 99, 100, 199}) {
    auto v = (*e)->Get(ColumnFamily::kDefault, std::string(kMarker) + "-key-" + std::to_string(i));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, std::string(kMarker) + "-value-" + std::to_string(i));
  }
  StorageOptions cp = Options("key-a");
  cp.path = dir_.Sub("checkpoint");
  auto copy = Engine::Open(cp);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto v = (*copy)->Get(ColumnFamily::kDefault, std::string(kMarker) + "-key-7");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::string(kMarker) + "-value-7");
  for (const auto& [name, contents] : Listing(cp.path)) {
    if (name.rfind("LOG", 0) == 0) continue;
    EXPECT_EQ(contents.find(kMarker), std::string::npos) << name << " of the checkpoint";
  }
  // The checkpoint is as locked as the store: a wrong key cannot open it.
  cp.encryption_key_file = dir_.Sub("key-b");
  EXPECT_TRUE(Engine::Open(cp).status().IsFailedPrecondition());
}

TEST_F(EncryptionTest, WrongKeyIsRefusedAndEveryFileUnchanged) {
  Fill(Options("key-a"));
  const auto before = Listing(dir_.Sub("db"));
  auto e = Engine::Open(Options("key-b"));
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsFailedPrecondition()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("wrong encryption key"), std::string::npos)
      << e.status().ToString();
  EXPECT_EQ(Listing(dir_.Sub("db")), before) << "a refused key must leave every file as it was";
}

TEST_F(EncryptionTest, EncryptedStoreRefusedWithoutKey) {
  Fill(Options("key-a"));
  const auto before = Listing(dir_.Sub("db"));
  auto e = Engine::Open(Options(""));
  EXPECT_TRUE(e.status().IsFailedPrecondition()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("is encrypted"), std::string::npos);
  EXPECT_EQ(Listing(dir_.Sub("db")), before);
}

TEST_F(EncryptionTest, PlainStoreRefusedWithKey) {
  Fill(Options(""));
  const auto before = Listing(dir_.Sub("db"));
  auto e = Engine::Open(Options("key-a"));
  EXPECT_TRUE(e.status().IsFailedPrecondition()) << e.status().ToString();
  EXPECT_EQ(Listing(dir_.Sub("db")), before);
}

TEST_F(EncryptionTest, TamperedKeyCheckRecordIsCorruption) {
  Fill(Options("key-a"));
  const std::string record = dir_.Sub("db/" + std::string(kKeyCheckFileName));
  WriteFile(record, "rustorium-keycheck v1 nonsense\n");
  const auto before = Listing(dir_.Sub("db"));
  auto e = Engine::Open(Options("key-a"));
  EXPECT_TRUE(e.status().IsCorruption()) << e.status().ToString();
  EXPECT_EQ(Listing(dir_.Sub("db")), before);
}

TEST(KeyCheck, EncodeDecodeAndMatch) {
  EncryptionKey a = *ParseEncryptionKey(kKeyA);
  EncryptionKey b = *ParseEncryptionKey(kKeyB);
  auto check = KeyCheck::Create(a);
  ASSERT_TRUE(check.ok());
  auto decoded = KeyCheck::Decode(check->Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->Matches(a));
  EXPECT_FALSE(decoded->Matches(b));
  // The record never holds the key.
  EXPECT_EQ(check->Encode().find(kKeyA.substr(0, 16)), std::string::npos);
  // Two records of one key differ (fresh salt).
  EXPECT_NE(KeyCheck::Create(a)->Encode(), check->Encode());
}

// NIST SP 800-38A, appendix F.5.5 (CTR-AES256.Encrypt): key, initial counter, and the four
// plaintext and ciphertext blocks.
TEST(AesCtr, MatchesNistVectorAtEveryOffset) {
  auto key = ParseEncryptionKey("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  ASSERT_TRUE(key.ok());
  auto hex = [](std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i < h.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    }
    return out;
  };
  std::array<uint8_t, 16> iv{};
  std::string iv_bytes = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  std::copy(iv_bytes.begin(), iv_bytes.end(), iv.begin());
  const std::string plain =
      hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const std::string cipher =
      hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
          "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
  std::string whole = plain;
  ASSERT_TRUE(AesCtrXor(*key, iv, 0, whole.data(), whole.size()).ok());
  EXPECT_EQ(whole, cipher);
  // Any split point, in or between blocks, gives the same key stream.
  for (std::size_t split = 0; split <= plain.size(); ++split) {
    std::string parts = plain;
    ASSERT_TRUE(AesCtrXor(*key, iv, 0, parts.data(), split).ok());
    ASSERT_TRUE(AesCtrXor(*key, iv, split, parts.data() + split, parts.size() - split).ok());
    EXPECT_EQ(parts, cipher) << "split at " << split;
  }
}

TEST(AesCtr, CounterCarriesAcrossAllBytes) {
  EncryptionKey key = *ParseEncryptionKey(kKeyA);
  std::array<uint8_t, 16> iv;
  iv.fill(0xff);  // IV + 1 wraps to all zeros
  std::array<uint8_t, 16> zero{};
  std::string a(16, '\0'), b(16, '\0');
  ASSERT_TRUE(AesCtrXor(key, iv, 16, a.data(), a.size()).ok());   // block 1 of iv = all ones
  ASSERT_TRUE(AesCtrXor(key, zero, 0, b.data(), b.size()).ok());  // block 0 of iv = zero
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace rustorium::engine
