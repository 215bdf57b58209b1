// Bad input gets a clear Status and changes no stored data.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "engine/encryption/encryption_key.h"
#include "engine/engine.h"
#include "tests/test_util.h"

namespace rustorium::engine {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

StorageOptions Options(const std::string& path) {
  StorageOptions o;
  o.path = path;
  o.block_cache_size = 8 << 20;
  o.max_key_size = 64;
  o.max_value_size = 1024;
  return o;
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

TEST(BadInput, EmptyKeyIsRefused) {
  TempDir dir;
  auto e = Engine::Open(Options(dir.Sub("db")));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Status put = (*e)->Put(ColumnFamily::kDefault, "", "v");
  EXPECT_TRUE(put.IsInvalidArgument()) << put.ToString();
  EXPECT_TRUE(Contains(put, "empty key")) << put.ToString();
  EXPECT_TRUE((*e)->Delete(ColumnFamily::kDefault, "").IsInvalidArgument());
  EXPECT_TRUE((*e)->Get(ColumnFamily::kDefault, "").status().IsInvalidArgument());
  Result<EngineStats> st = (*e)->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->keys, 0u);
}

TEST(BadInput, OversizedKeyAndValueAreRefused) {
  TempDir dir;
  auto e = Engine::Open(Options(dir.Sub("db")));
  ASSERT_TRUE(e.ok());
  Engine& db = **e;
  ASSERT_TRUE(db.Put(ColumnFamily::kDefault, std::string(64, 'k'), std::string(1024, 'v')).ok())
      << "keys and values at the limit are accepted";
  Status key = db.Put(ColumnFamily::kDefault, std::string(65, 'k'), "v");
  EXPECT_TRUE(key.IsInvalidArgument());
  EXPECT_TRUE(Contains(key, "max_key_size 64")) << key.ToString();
  Status value = db.Put(ColumnFamily::kDefault, "k", std::string(1025, 'v'));
  EXPECT_TRUE(value.IsInvalidArgument());
  EXPECT_TRUE(Contains(value, "max_value_size 1024")) << value.ToString();
  EXPECT_TRUE(db.Delete(ColumnFamily::kDefault, std::string(65, 'k')).IsInvalidArgument());
  auto got = db.Get(ColumnFamily::kDefault, "k");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(BadInput, DataPathThatIsAFile) {
  TempDir dir;
  const std::string file = dir.Sub("a-file");
  WriteFile(file, "not a store");
  auto e = Engine::Open(Options(file));
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
  EXPECT_TRUE(Contains(e.status(), "is not a directory")) << e.status().ToString();
  EXPECT_EQ(rustorium::testing::ReadFile(file), "not a store");
}

TEST(BadInput, BadOptionsAreRefused) {
  TempDir dir;
  StorageOptions o = Options("");
  EXPECT_TRUE(Engine::Open(o).status().IsInvalidArgument());
  o = Options(dir.Sub("db"));
  o.sync_mode = SyncMode::kAsync;
  o.sync_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(Engine::Open(o).status().IsInvalidArgument());
  o = Options(dir.Sub("db"));
  o.max_key_size = 0;
  EXPECT_TRUE(Engine::Open(o).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db"))) << "refused options must create nothing";
}

TEST(BadInput, MissingStoreWithoutCreateIsNotFound) {
  TempDir dir;
  StorageOptions o = Options(dir.Sub("absent"));
  o.create_if_missing = false;
  auto e = Engine::Open(o);
  EXPECT_TRUE(e.status().IsNotFound()) << e.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent")));
}

// Opens a store in a directory this process cannot write. Returns the Status's text, or ""
// when the open succeeded.
std::string OpenUnwritable(const std::string& path) {
  auto e = Engine::Open(Options(path));
  return e.ok() ? "" : e.status().ToString();
}

TEST(BadInput, ReadOnlyDirectory) {
  TempDir dir;
  const std::string ro = dir.Sub("read-only");
  std::filesystem::create_directory(ro);
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(ro.c_str(), 0555);
  if (::geteuid() != 0) {
    std::string text = OpenUnwritable(ro);
    EXPECT_NE(text, "");
    EXPECT_NE(text.find("io_error"), std::string::npos) << text;
    EXPECT_NE(text.find(ro), std::string::npos) << text;
  } else {
    // Root ignores permission bits: drop to `nobody` in a child process and try there.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
      std::string text = OpenUnwritable(ro);
      ssize_t n = ::write(fds[1], text.data(), text.size());
      _exit(n == static_cast<ssize_t>(text.size()) ? 0 : 4);
    }
    ::close(fds[1]);
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) text.append(buf, n);
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFEXITED(wstatus));
    ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "child could not drop privileges or report";
    EXPECT_NE(text, "") << "opening a store in a read-only directory must fail";
    EXPECT_NE(text.find("io_error"), std::string::npos) << text;
    EXPECT_NE(text.find(ro), std::string::npos) << text;
  }
  EXPECT_TRUE(std::filesystem::is_empty(ro));
}

TEST(BadInput, MalformedKeyFiles) {
  TempDir dir;
  const std::string key_file = dir.Sub("key");
  const std::string good(64, 'a');
  struct Case {
    std::string contents;
    std::string why;
  } cases[] = {
      {"", "empty"},
      {good.substr(0, 63), "63 characters"},
      {good + "a", "65 characters"},
      {good + "\n\n", "two newlines"},
      {" " + good, "leading space"},
      {good.substr(0, 63) + "g", "non-hex character"},
      {good.substr(0, 62) + "\x00\x01", "binary"},
  };
  for (const Case& c : cases) {
    WriteFile(key_file, c.contents);
    StorageOptions o = Options(dir.Sub("db"));
    o.encryption = true;
    o.encryption_key_file = key_file;
    auto e = Engine::Open(o);
    EXPECT_TRUE(e.status().IsInvalidArgument()) << c.why << ": " << e.status().ToString();
    EXPECT_TRUE(Contains(e.status(), key_file)) << e.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("db"))) << c.why << ": nothing may be created";
  }
  StorageOptions o = Options(dir.Sub("db"));
  o.encryption = true;
  o.encryption_key_file = dir.Sub("no-such-key");
  EXPECT_TRUE(Engine::Open(o).status().IsInvalidArgument());
  o.encryption_key_file = "";
  EXPECT_TRUE(Engine::Open(o).status().IsInvalidArgument());
}

TEST(BadInput, KeyFileMayEndWithOneNewline) {
  TempDir dir;
  for (std::string ending : {"", "\n", "\r\n"}) {
    const std::string key_file = dir.Sub("key");
    WriteFile(key_file, std::string(64, 'F') + ending);
    Result<EncryptionKey> key = ReadEncryptionKeyFile(key_file);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    for (uint8_t b : key->bytes) EXPECT_EQ(b, 0xff);
  }
}

}  // namespace
}  // namespace rustorium::engine
