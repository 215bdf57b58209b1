// The log level of a server process: `--log-level` (before or after the subcommand), else
// $SPDLOG_LEVEL, else info; the flag wins; an invalid level is refused with exit 2. Runs a PD
// and a store as real processes on loopback, as `rustorium pd` and `rustorium server`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "tests/support/ports.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"
#include "tools/rustorium/child_process.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::ReadFile;
using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

// A `rustorium` process with its output in a file, stopped with SIGTERM when destroyed.
class Process {
 public:
  Process(std::vector<std::string> args, std::string log, std::string spdlog_level)
      : log_(std::move(log)) {
    WriteFile(log_, "");
    args.insert(args.begin(), RUSTORIUM_BINARY);
    ChildOptions o;
    o.log = log_;
    o.env = {"SPDLOG_LEVEL=" + spdlog_level};  // empty reads as unset
    o.stop_with_parent = true;
    pid_ = SpawnChild(args, o);
  }
  ~Process() { Stop(); }

  // Waits until the log holds `text`; false once the process exits or 60 s pass.
  bool WaitFor(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(text) != std::string::npos) return true;
      int status = 0;
      if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return log().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string log() const { return ReadFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

class LogLevelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string pd = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
    WriteFile(dir_.Sub("pd.toml"), "[pd]\ndata_dir = \"" + dir_.Sub("pd") + "\"\naddress = \"" +
                                       pd + "\"\nreplicas = 1\n[tls]\nplain = true\n");
    WriteFile(dir_.Sub("store.toml"),
              "[store]\ndata_dir = \"" + dir_.Sub("store") +
                  "\"\naddress = \"127.0.0.1:" + std::to_string(rustorium::testing::PickPort()) +
                  "\"\npd = [\"" + pd + "\"]\nheartbeat_ms = 100\n[tls]\nplain = true\n");
    pd_ = std::make_unique<Process>(std::vector<std::string>{"pd", "--config", dir_.Sub("pd.toml")},
                                    dir_.Sub("pd.log"), "");
    ASSERT_TRUE(pd_->WaitFor("pd serving on")) << pd_->log();
  }

  // A store started with `args` around `server --config store.toml` and $SPDLOG_LEVEL; its log
  // once it serves and, when `expect_debug`, once its Raft state is logged at debug level.
  std::string RunStore(std::vector<std::string> before, std::vector<std::string> after,
                       const std::string& spdlog_level, bool expect_debug) {
    std::vector<std::string> args = before;
    for (const char* a : {"server", "--config"}) args.push_back(a);
    args.push_back(dir_.Sub("store.toml"));
    args.insert(args.end(), after.begin(), after.end());
    Process store(args, dir_.Sub("store-" + std::to_string(++runs_) + ".log"), spdlog_level);
    EXPECT_TRUE(store.WaitFor(" serving on ")) << store.log();
    if (expect_debug) {
      // The store hosts region 1 (replicas = 1) and logs its Raft state at each heartbeat.
      EXPECT_TRUE(store.WaitFor(" region 1 state ")) << store.log();
    } else {
      // Ten heartbeats: the state would have been logged by now at debug level.
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    }
    store.Stop();
    return store.log();
  }

  TempDir dir_;
  std::unique_ptr<Process> pd_;
  int runs_ = 0;
};

TEST_F(LogLevelTest, DebugFromTheFlagOrTheEnvironmentAndTheFlagWins) {
  const std::string info = RunStore({}, {}, "", false);
  EXPECT_EQ(info.find("[debug]"), std::string::npos) << info;
  EXPECT_NE(info.find("store stopped"), std::string::npos) << info;

  const std::string flag_after = RunStore({}, {"--log-level", "debug"}, "", true);
  EXPECT_NE(flag_after.find("[debug] store: config "), std::string::npos) << flag_after;

  const std::string flag_before = RunStore({"--log-level", "debug"}, {}, "", true);
  EXPECT_NE(flag_before.find("[debug] store: config "), std::string::npos) << flag_before;

  const std::string env = RunStore({}, {}, "debug", true);
  EXPECT_NE(env.find("[debug] store: config "), std::string::npos) << env;

  const std::string flag_wins = RunStore({"--log-level", "info"}, {}, "debug", false);
  EXPECT_EQ(flag_wins.find("[debug]"), std::string::npos) << flag_wins;
  // User-facing lines stay plain text, whatever the level.
  EXPECT_NE(flag_wins.find("\nstore stopped\n"), std::string::npos) << flag_wins;
}

TEST(LogLevel, AnInvalidLevelIsRefusedWithExitTwo) {
  TempDir dir;
  WriteFile(dir.Sub("store.toml"),
            "[store]\ndata_dir = \"" + dir.Sub("s") + "\"\n[tls]\nplain = true\n");
  const std::string server = " server --config " + dir.Sub("store.toml");
  CliRun flag = Rustorium("--log-level loud" + server);
  EXPECT_EQ(flag.exit_code, 2) << flag.out;
  EXPECT_NE(flag.out.find("'loud' is not a log level"), std::string::npos) << flag.out;
  CliRun after = Rustorium(server.substr(1) + " --log-level loud");
  EXPECT_EQ(after.exit_code, 2) << after.out;
  CliRun env = rustorium::testing::RunCommand("SPDLOG_LEVEL=loud " RUSTORIUM_BINARY + server);
  EXPECT_EQ(env.exit_code, 2) << env.out;
  EXPECT_NE(env.out.find("SPDLOG_LEVEL"), std::string::npos) << env.out;
  // The flag wins over a bad $SPDLOG_LEVEL: the command runs, and stops at its missing config.
  CliRun both = rustorium::testing::RunCommand("SPDLOG_LEVEL=loud " RUSTORIUM_BINARY
                                               " --log-level warn pd --config " +
                                               dir.Sub("absent.toml"));
  EXPECT_EQ(both.exit_code, 2) << both.out;
  EXPECT_EQ(both.out.find("SPDLOG_LEVEL"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("cannot read"), std::string::npos) << both.out;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("s"))) << "nothing started";
}

}  // namespace
}  // namespace rustorium::tools
