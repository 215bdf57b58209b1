// `rustorium chain local`, `submit` and `status` as a user runs them: separate processes, a
// transaction accepted and committed, bad transactions refused with exit code 2, SIGTERM stops
// the committee, and a second run on the same directory resumes with what was committed.
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
using namespace std::chrono_literals;

class LocalCommittee {
 public:
  LocalCommittee(const std::string& dir, int base_port) : out_(dir + "/local.out") {
    pid_ = fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(out_.c_str(), "a");
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
      execl(RUSTORIUM_BINARY, RUSTORIUM_BINARY, "chain", "local", "--validators", "4", "--dir",
            (dir + "/chain").c_str(), "--base-port", std::to_string(base_port).c_str(),
            static_cast<char*>(nullptr));
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

// Polls `chain status` until `committed` reaches `at_least` (bounded); the last output.
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
  const std::string primary = "127.0.0.1:" + std::to_string(base);
  const std::string worker = "127.0.0.1:" + std::to_string(base + 100);
  {
    LocalCommittee local(dir.path().string(), base);
    std::string status = WaitCommitted(primary, 0);
    ASSERT_EQ(CommittedIn(status), 0) << status << local.output();
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
    EXPECT_EQ(local.Stop(), 0) << local.output();
    EXPECT_NE(local.output().find("committee stopped"), std::string::npos) << local.output();
  }
  const CliRun down = Rustorium("chain status --node " + primary);
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

}  // namespace
}  // namespace rustorium::tools
