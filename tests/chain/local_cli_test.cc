// `rustorium chain local`, `submit` and `status` as a user runs them: separate processes, a
// transaction accepted and committed, bad transactions refused with exit code 2, SIGTERM stops
// the committee, and a second run on the same directory resumes with what was committed.
// Mutual TLS by default (certificates made on first use); plain TCP only with --plain, which
// writes plain = true; a config with neither is refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/ports.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;
using namespace std::chrono_literals;

class LocalCommittee {
 public:
  LocalCommittee(const std::string& dir, int base_port, bool plain = false)
      : out_(dir + "/local.out") {
    pid_ = fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(out_.c_str(), "a");
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
      execl(RUSTORIUM_BINARY, RUSTORIUM_BINARY, "chain", "local", "--validators", "4", "--dir",
            (dir + "/chain").c_str(), "--base-port", std::to_string(base_port).c_str(),
            plain ? "--plain" : static_cast<char*>(nullptr), static_cast<char*>(nullptr));
      _exit(127);
    }
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
  ~LocalCommittee() { Stop(); }
  std::string output() const { return rustorium::testing::ReadFile(out_); }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

// The number after "committed: " in `chain status` output, or -1.
long long CommittedIn(const std::string& status) {
  const size_t at = status.find("\ncommitted: ");
  return at == std::string::npos ? -1 : std::stoll(status.substr(at + 12));
}

// Polls `chain status NODE_AND_FLAGS` until `committed` reaches `at_least` (bounded); the
// last output.
std::string WaitCommitted(const std::string& node, long long at_least) {
  std::string last;
  for (int i = 0; i < 150; ++i) {
    const CliRun r = Rustorium("chain status --node " + node);
    last = r.out;
    if (r.exit_code == 0 && CommittedIn(r.out) >= at_least) break;
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

TEST(ChainCli, LocalCommitteeTakesTransactionsStopsAndResumes) {
  TempDir dir;
  // 4 primaries on base..base+3, workers on base+100..base+103: a free block below the
  // ephemeral range, away from other tests' random ports (22000 and up).
  const int base = 20000 + static_cast<int>(::getpid() % 8) * 200;
  const std::string certs = " --certs " + dir.Sub("chain/certs");
  const std::string primary = "127.0.0.1:" + std::to_string(base) + certs;
  const std::string worker = "127.0.0.1:" + std::to_string(base + 100) + certs;
  {
    LocalCommittee local(dir.path().string(), base);
    std::string status = WaitCommitted(primary, 0);
    ASSERT_EQ(CommittedIn(status), 0) << status << local.output();
    // Mutual TLS by default: certificates made on first use, one per validator.
    for (const char* f : {"ca.crt", "client.crt", "validator-0.crt", "validator-3.key"}) {
      EXPECT_TRUE(std::filesystem::exists(dir.Sub("chain/certs/") + f)) << f;
    }
    EXPECT_NE(rustorium::testing::ReadFile(dir.Sub("chain/validator-0.toml")).find("[tls]"),
              std::string::npos);
    EXPECT_NE(local.output().find("over mutual TLS"), std::string::npos) << local.output();
    // A plain TCP client gets no answer from a TLS validator; one without certificates is
    // told where they are.
    const CliRun plain = Rustorium("chain status --plain --node 127.0.0.1:" + std::to_string(base));
    EXPECT_NE(plain.exit_code, 0) << plain.out;
    const CliRun no_certs = Rustorium("chain status --certs " + dir.Sub("nowhere") +
                                      " --node 127.0.0.1:" + std::to_string(base));
    EXPECT_EQ(no_certs.exit_code, 2) << no_certs.out;
    EXPECT_NE(no_certs.out.find("validators speak TLS"), std::string::npos) << no_certs.out;
    for (int i = 0; i < 3; ++i) {
      const CliRun r = Rustorium("chain submit --node " + worker + " --tx tx-" + std::to_string(i));
      ASSERT_EQ(r.exit_code, 0) << r.out;
    }
    const CliRun empty = Rustorium("chain submit --node " + worker + " --tx ''");
    EXPECT_EQ(empty.exit_code, 2) << empty.out;
    EXPECT_NE(empty.out.find("empty transaction"), std::string::npos) << empty.out;
    status = WaitCommitted(primary, 3);
    ASSERT_EQ(CommittedIn(status), 3) << status;
    EXPECT_NE(status.find("last_committed_round: "), std::string::npos) << status;
    // --json: one object on one line with the text form's keys, numbers as numbers.
    const CliRun js = Rustorium("chain status --json --node " + primary);
    ASSERT_EQ(js.exit_code, 0) << js.out;
    EXPECT_EQ(js.out.find('\n'), js.out.size() - 1) << js.out;
    const auto j = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << js.out;
    EXPECT_EQ(j.value("committed", -1), 3) << js.out;
    for (const char* key : {"round", "last_committed_round", "consensus_index", "submitted",
                            "rejected_headers", "dropped_messages", "end_to_end_latency_samples"}) {
      EXPECT_TRUE(j.contains(key) && j[key].is_number_unsigned()) << key << ": " << js.out;
    }
    ASSERT_TRUE(j.contains("name") && j["name"].is_string()) << js.out;
    EXPECT_EQ(j["name"].get<std::string>().size(), 64u) << js.out;
    EXPECT_EQ(local.Stop(), 0) << local.output();
    EXPECT_NE(local.output().find("committee stopped"), std::string::npos) << local.output();
  }
  const CliRun down = Rustorium("chain status --node " + primary);  // (with its flags)
  EXPECT_NE(down.exit_code, 0) << "a validator outlived `chain local`: " << down.out;

  LocalCommittee again(dir.path().string(), base);
  const std::string status = WaitCommitted(primary, 3);
  EXPECT_EQ(CommittedIn(status), 3) << "the committed count survives a restart\n"
                                    << status << again.output();
  const CliRun more = Rustorium("chain submit --node " + worker + " --tx after-restart");
  ASSERT_EQ(more.exit_code, 0) << more.out;
  EXPECT_EQ(CommittedIn(WaitCommitted(primary, 4)), 4);
  EXPECT_EQ(again.Stop(), 0);
}

// --plain makes a committee whose configs say plain = true: it runs over plain TCP and is
// reached with --plain. Take plain = true out and the config is refused, with its reason.
TEST(ChainCli, PlainCommitteeOnlyWithPlainTrue) {
  TempDir dir;
  const int base = 20000 + static_cast<int>((::getpid() + 4) % 8) * 200 + 50;
  const std::string primary = "127.0.0.1:" + std::to_string(base) + " --plain";
  const std::string worker = "127.0.0.1:" + std::to_string(base + 100) + " --plain";
  {
    LocalCommittee local(dir.path().string(), base, /*plain=*/true);
    std::string status = WaitCommitted(primary, 0);
    ASSERT_EQ(CommittedIn(status), 0) << status << local.output();
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("chain/certs")));
    EXPECT_NE(local.output().find("over plain TCP"), std::string::npos) << local.output();
    const CliRun r = Rustorium("chain submit --node " + worker + " --tx plain-1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(CommittedIn(WaitCommitted(primary, 1)), 1);
    EXPECT_EQ(local.Stop(), 0) << local.output();
  }
  const std::string config = dir.Sub("chain/validator-2.toml");
  std::string text = rustorium::testing::ReadFile(config);
  const size_t at = text.find("[tls]\nplain = true");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at);  // neither certificate files nor plain = true
  rustorium::testing::WriteFile(config, text);
  const CliRun refused = Rustorium("chain local --validators 4 --dir " + dir.Sub("chain"));
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.out.find("validator-2.toml: tls: is missing"), std::string::npos)
      << refused.out;
  EXPECT_EQ(refused.out.find("pid"), std::string::npos)
      << "no validator may start: " << refused.out;
}

}  // namespace
}  // namespace rustorium::tools
