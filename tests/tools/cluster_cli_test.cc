// The cluster as a user runs it: `rustorium playground` starts PD and three stores as child
// processes with mutual TLS; every `rustorium kv` command and `status check` run against it as
// separate processes; a proof written by `kv get --proof-out` verifies offline; Ctrl-C
// (SIGTERM) stops everything, and a second run finds the data intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/ports.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;

class Playground {
 public:
  Playground(const std::string& dir, const std::string& pd, int store_port) {
    log_ = dir + "/playground.out";
    // Emptied here, before the child runs: the banner of an earlier run must not count.
    std::FILE* truncate = std::fopen(log_.c_str(), "w");
    if (truncate != nullptr) std::fclose(truncate);
    pid_ = fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(log_.c_str(), "a");
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
      execl(RUSTORIUM_BINARY, RUSTORIUM_BINARY, "playground", "--dir", (dir + "/data").c_str(),
            "--pd", pd.c_str(), "--store-port", std::to_string(store_port).c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  // Waits for the "Rustorium playground" banner (the cluster serves); false if it exits first.
  bool WaitServing() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (rustorium::testing::ReadFile(log_).find("Rustorium playground:") != std::string::npos)
        return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // SIGTERM, as Ctrl-C would; the exit code.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~Playground() { Stop(); }
  std::string log() const { return rustorium::testing::ReadFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

TEST(ClusterCli, PlaygroundServesEveryKvCommandWithVerifiedProofsAndRestarts) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const std::string pd = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
  const int store_port = rustorium::testing::PickPort();
  const std::string flags = " --pd " + pd + " --certs " + d + "/data/certs";
  {
    Playground playground(d, pd, store_port);
    ASSERT_TRUE(playground.WaitServing()) << playground.log();

    CliRun r = Rustorium("kv put hello world" + flags);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("proof: verified"), std::string::npos) << r.out;
    r = Rustorium("kv get hello" + flags + " --proof-out " + d + "/hello.proof");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out.substr(0, 6), "world\n");
    EXPECT_NE(r.out.find("proof: verified"), std::string::npos);
    const std::string root = r.out.substr(r.out.find("root: ") + 6, 66);
    // The proof checks offline, and not for another value.
    r = Rustorium("proof verify --root " + root +
                  " --key-bytes hello --value-bytes world --proof " + d + "/hello.proof");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = Rustorium("proof verify --root " + root +
                  " --key-bytes hello --value-bytes w0rld --proof " + d + "/hello.proof");
    EXPECT_EQ(r.exit_code, 1) << r.out;

    r = Rustorium("kv get absent" + flags);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("not found"), std::string::npos);
    EXPECT_NE(r.out.find("verified (non-inclusion)"), std::string::npos);

    r = Rustorium("kv get hello --json" + flags);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const char* field : {"\"value\":\"world\"", "\"verified\":true",
                              "\"tree_key\":", "\"tree_value\":", "\"root\":\"0x"}) {
      EXPECT_NE(r.out.find(field), std::string::npos) << field << " in " << r.out;
    }

    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(Rustorium("kv put user/" + std::to_string(i) + " v" + std::to_string(i) + flags)
                    .exit_code,
                0);
    r = Rustorium("kv scan user/1 user/4" + flags);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("user/1 = v1\nuser/2 = v2\nuser/3 = v3\n3 keys"), std::string::npos)
        << r.out;

    r = Rustorium("kv cas hello wrong x" + flags);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("not swapped: world"), std::string::npos) << r.out;
    r = Rustorium("kv cas hello world there" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = Rustorium("kv delete user/0" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Rustorium("kv get user/0" + flags).exit_code, 1);

    r = Rustorium("status check" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(": up"), std::string::npos);
    EXPECT_NE(r.out.find("region 1 [, ): 3 replicas, leader store "), std::string::npos) << r.out;

    // Issue 18's first scenario: a key of exactly max_key_size (8 KiB) once froze the region.
    // It is stored; one byte more is refused at the door, naming the limit; the region serves.
    const std::string at_limit(8192, 'k');
    r = Rustorium("kv put " + at_limit + " big" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 500);
    r = Rustorium("kv put " + at_limit + "k big" + flags);
    EXPECT_EQ(r.exit_code, 2) << r.out.substr(0, 500);  // invalid input
    EXPECT_NE(r.out.find("max_key_size 8192"), std::string::npos) << r.out.substr(0, 500);
    r = Rustorium("kv get " + at_limit + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 500);
    EXPECT_EQ(r.out.substr(0, 4), "big\n");
    EXPECT_EQ(Rustorium("kv put after-big ok" + flags).exit_code, 0);

    // Clear errors: a malformed argument, a cluster that is not there, plain TCP against TLS.
    EXPECT_EQ(Rustorium("kv put onlykey" + flags).exit_code, 2);
    r = Rustorium("kv get hello --pd 127.0.0.1:1 --certs " + d + "/data/certs");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("error:"), std::string::npos);
    EXPECT_NE(Rustorium("kv get hello --plain --pd " + pd).exit_code, 0);

    EXPECT_EQ(playground.Stop(), 0) << playground.log();
  }
  // Every child stopped with it: the ports are free for the second run, which finds the data.
  Playground again(d, pd, store_port);
  ASSERT_TRUE(again.WaitServing()) << again.log();
  CliRun r = Rustorium("kv get hello" + flags);
  std::string logs;
  for (const char* name : {"pd.log", "store1.log", "store2.log", "store3.log"}) {
    logs += std::string("--- ") + name + "\n" + rustorium::testing::ReadFile(d + "/data/" + name);
  }
  EXPECT_EQ(r.exit_code, 0) << r.out << logs;
  EXPECT_EQ(r.out.substr(0, 6), "there\n");
  EXPECT_EQ(again.Stop(), 0);
  // The children (built with the sanitizers in CI) stopped without a finding.
  for (const char* name : {"pd.log", "store1.log", "store2.log", "store3.log"}) {
    const std::string log = rustorium::testing::ReadFile(d + "/data/" + name);
    EXPECT_EQ(log.find("Sanitizer"), std::string::npos) << name << ":\n" << log;
    EXPECT_EQ(log.find("runtime error"), std::string::npos) << name << ":\n" << log;
    EXPECT_NE(log.find("stopped"), std::string::npos) << name << " did not stop cleanly:\n" << log;
  }
}

}  // namespace
}  // namespace rustorium::tools
