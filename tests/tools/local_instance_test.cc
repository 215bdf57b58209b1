// One `rustorium playground` or `chain local` per directory (issue 22): a second instance on a
// directory in use, or with a port taken, is refused at once with the reason and exit 1; a
// child that exits is reported by name with its log's last lines and the command exits 1;
// SIGINT stops everything quickly. Real processes on loopback; every wait is bounded.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ports.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/instance_lock.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::PickPort;
using rustorium::testing::ReadFile;
using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;
using Clock = std::chrono::steady_clock;

// `rustorium ARGS` in the background with its output in a file; SIGKILLed (with its children,
// which stop with their parent) if still running when destroyed.
class Background {
 public:
  Background(std::vector<std::string> args, std::string out) : out_(std::move(out)) {
    WriteFile(out_, "");
    args.insert(args.begin(), RUSTORIUM_BINARY);
    ChildOptions o;
    o.log = out_;
    o.stop_with_parent = true;
    pid_ = SpawnChild(args, o);
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits until the output holds `text`; false once the process exits or `limit` passes.
  bool WaitFor(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (out().find(text) != std::string::npos) return true;
      if (Exited()) return out().find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // Waits up to `limit` for the process to exit; its exit code, or -1 (still running, or killed
  // by a signal).
  int WaitExit(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline && !Exited())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pid_ < 0 && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  // Sends `sig` and waits up to 60 s (a hang guard) for the exit; the exit code and the
  // seconds it took.
  std::pair<int, double> SignalAndWait(int sig) {
    const auto start = Clock::now();
    kill(pid_, sig);
    const int code = WaitExit(std::chrono::seconds(60));
    return {code, std::chrono::duration<double>(Clock::now() - start).count()};
  }
  pid_t pid() const { return pid_ > 0 ? pid_ : last_pid_; }
  std::string out() const { return ReadFile(out_); }

 private:
  bool Exited() {
    if (pid_ > 0 && waitpid(pid_, &status_, WNOHANG) == pid_) {
      last_pid_ = pid_;
      pid_ = -1;
    }
    return pid_ < 0;
  }
  std::string out_;
  pid_t pid_ = -1;
  pid_t last_pid_ = -1;
  int status_ = 0;
};

// The pid a `NAME: pid N, log ...` line of `out` gives, or -1.
pid_t PidOf(const std::string& out, const std::string& name) {
  const std::string prefix = name + ": pid ";
  const size_t at = out.find(prefix);
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::atol(out.c_str() + at + prefix.size()));
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

// A listening TCP socket on 127.0.0.1:port, closed when destroyed: a port in use.
class Listener {
 public:
  explicit Listener(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && listen(fd_, 4) == 0;
  }
  ~Listener() { close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

std::vector<std::string> PlaygroundArgs(const std::string& dir, const std::string& pd,
                                        int store_port, int stores) {
  return {"playground",
          "--dir",
          dir,
          "--pd",
          pd,
          "--store-port",
          std::to_string(store_port),
          "--stores",
          std::to_string(stores)};
}

std::string PlaygroundCommand(const std::string& dir, const std::string& pd, int store_port,
                              int stores) {
  std::string command = "playground";
  const auto args = PlaygroundArgs(dir, pd, store_port, stores);
  for (size_t i = 1; i < args.size(); ++i) command += " " + args[i];
  return command;
}

TEST(LocalInstance, LockIsHeldUntilTheProcessEndsAndNamesTheHolder) {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  {
    auto first = InstanceLock::Acquire(dir);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(ReadFile(dir + "/LOCK"), std::to_string(getpid()) + "\n");
    // Another open file description in this process conflicts as another process would.
    auto second = InstanceLock::Acquire(dir);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(
        second.status().ToString().find(dir + " is in use by pid " + std::to_string(getpid())),
        std::string::npos)
        << second.status().ToString();
  }
  // Released with its holder; a stale pid in the file blocks nothing.
  WriteFile(dir + "/LOCK", "999999\n");
  auto again = InstanceLock::Acquire(dir);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadFile(dir + "/LOCK"), std::to_string(getpid()) + "\n");
}

TEST(LocalInstance, PortCheckNamesTheTakenAddress) {
  const int port = PickPort();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(CheckPortsFree({address}).ok());
  Listener taken(port);
  ASSERT_TRUE(taken.ok());
  Status s = CheckPortsFree({"127.0.0.1:" + std::to_string(PickPort()), address});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsFailedPrecondition()) << s.ToString();
  EXPECT_NE(s.ToString().find(address + " is in use"), std::string::npos) << s.ToString();
  EXPECT_TRUE(PortAnswers(address, 1000));
  s = CheckPortsFree({"127.0.0.1:1234", "127.0.0.1:1234"});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST(LocalInstance, LogTailGivesTheLastLines) {
  TempDir tmp;
  const std::string path = tmp.path().string() + "/x.log";
  std::string text;
  for (int i = 1; i <= 12; ++i) text += "line " + std::to_string(i) + "\n";
  WriteFile(path, text);
  EXPECT_EQ(LogTail(path, 3), "  line 10\n  line 11\n  line 12");
  EXPECT_EQ(LogTail(path, 12).substr(0, 9), "  line 1\n");
  EXPECT_EQ(LogTail(path, 13), LogTail(path, 12));
  WriteFile(path, "");
  EXPECT_NE(LogTail(path).find("is empty"), std::string::npos);
  EXPECT_NE(LogTail(path + ".absent").find("cannot read"), std::string::npos);
}

// A playground on a directory in use is refused naming the holder's pid; the first one keeps
// serving and stops quickly on SIGINT, children included.
TEST(LocalInstance, SecondPlaygroundOnADirectoryInUseIsRefusedAndSigintStopsTheFirst) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const std::string pd = "127.0.0.1:" + std::to_string(PickPort());
  const int store_port = PickPort();
  Background first(PlaygroundArgs(d + "/data", pd, store_port, 1), d + "/first.out");
  ASSERT_TRUE(first.WaitFor("Rustorium playground:")) << first.out();

  const auto start = Clock::now();
  CliRun r = Rustorium(
      "--log-level warn " +
      PlaygroundCommand(d + "/data", "127.0.0.1:" + std::to_string(PickPort()), PickPort(), 1));
  const double refused_after = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("second playground refused after %.2f s\n", refused_after);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(" is in use by pid " + std::to_string(first.pid())), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Rustorium playground:"), std::string::npos) << r.out;
  // The same ports on another directory: refused for the port, nothing started.
  r = Rustorium(PlaygroundCommand(d + "/other", pd, store_port, 1));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(pd + " is in use"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("pd: pid"), std::string::npos) << r.out;

  // The first still serves.
  r = Rustorium("kv put k v --pd " + pd + " --certs " + d + "/data/certs");
  EXPECT_EQ(r.exit_code, 0) << r.out;

  const pid_t pd_pid = PidOf(first.out(), "pd");
  const pid_t store_pid = PidOf(first.out(), "store 1");
  ASSERT_TRUE(Alive(pd_pid) && Alive(store_pid)) << first.out();
  const auto [code, seconds] = first.SignalAndWait(SIGINT);
  std::printf("playground stopped %.2f s after SIGINT\n", seconds);
  EXPECT_EQ(code, 0) << first.out();
  EXPECT_LT(seconds, 10.0) << "hang guard: " << first.out();
  EXPECT_FALSE(Alive(pd_pid));
  EXPECT_FALSE(Alive(store_pid));
  EXPECT_EQ(first.out().find("did not stop"), std::string::npos) << first.out();
  EXPECT_NE(ReadFile(d + "/data/store1.log").find("store stopped"), std::string::npos);
  EXPECT_NE(ReadFile(d + "/data/pd.log").find("pd stopped"), std::string::npos);
}

TEST(LocalInstance, PlaygroundWithAStorePortTakenIsRefusedNamingIt) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const int store_port = PickPort();
  Listener taken(store_port + 1);  // the second store's
  ASSERT_TRUE(taken.ok());
  // A lock file left by an instance that died blocks nothing.
  std::filesystem::create_directories(d + "/data");
  WriteFile(d + "/data/LOCK", "999999\n");
  CliRun r = Rustorium(
      PlaygroundCommand(d + "/data", "127.0.0.1:" + std::to_string(PickPort()), store_port, 3));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1:" + std::to_string(store_port + 1) + " is in use"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("in use by pid"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d + "/data/pd.log")) << "nothing may start";
}

// What made Ctrl-C take 30 s: a store waiting for PD to take its registration (PD already
// stopped) ignored SIGTERM until register_timeout passed. It now stops at once, exit 0.
TEST(LocalInstance, StoreWaitingForAbsentPdStopsOnSigterm) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const std::string pd = "127.0.0.1:" + std::to_string(PickPort());  // nobody listens
  WriteFile(d + "/store.toml", "[store]\ndata_dir = \"" + d +
                                   "/s\"\naddress = \"127.0.0.1:" + std::to_string(PickPort()) +
                                   "\"\npd = [\"" + pd + "\"]\n[tls]\nplain = true\n");
  Background store({"server", "--config", d + "/store.toml"}, d + "/store.out");
  // Registration attempts are refused (connection refused) and retried meanwhile.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(store.WaitExit(std::chrono::seconds(0)), -1) << "still waiting: " << store.out();
  const auto [code, seconds] = store.SignalAndWait(SIGTERM);
  std::printf("store waiting for PD stopped %.2f s after SIGTERM\n", seconds);
  EXPECT_EQ(code, 0) << store.out();
  EXPECT_LT(seconds, 10.0) << "hang guard (register_timeout is 30 s): " << store.out();
  EXPECT_NE(store.out().find("store stopped before it served"), std::string::npos) << store.out();
}

// A store that cannot start (its data directory is a file) is named with its exit status and
// its log's last lines; the playground stops PD and exits 1 without the banner.
TEST(LocalInstance, PlaygroundReportsAStoreThatFailsToStart) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  std::filesystem::create_directories(d + "/data");
  WriteFile(d + "/data/store2", "not a directory");
  Background p(
      PlaygroundArgs(d + "/data", "127.0.0.1:" + std::to_string(PickPort()), PickPort(), 2),
      d + "/p.out");
  const int code = p.WaitExit(std::chrono::seconds(60));
  const std::string out = p.out();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("store 2 (pid "), std::string::npos) << out;
  EXPECT_NE(out.find(") exited with status 1; the last lines of " + d + "/data/store2.log:"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  error: "), std::string::npos) << "the store's own error line: " << out;
  EXPECT_EQ(out.find("Rustorium playground:"), std::string::npos) << out;
  EXPECT_FALSE(Alive(PidOf(out, "pd"))) << out;
  EXPECT_FALSE(Alive(PidOf(out, "store 1"))) << out;
}

// A store killed while the playground runs: reported by name, signal and log tail; the others
// are stopped and the playground exits 1.
TEST(LocalInstance, PlaygroundReportsAStoreKilledWhileServing) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  Background p(
      PlaygroundArgs(d + "/data", "127.0.0.1:" + std::to_string(PickPort()), PickPort(), 2),
      d + "/p.out");
  ASSERT_TRUE(p.WaitFor("Rustorium playground:")) << p.out();
  const pid_t victim = PidOf(p.out(), "store 2");
  ASSERT_GT(victim, 0) << p.out();
  kill(victim, SIGKILL);
  const int code = p.WaitExit(std::chrono::seconds(30));
  const std::string out = p.out();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("store 2 (pid " + std::to_string(victim) + ") was killed by signal 9"),
            std::string::npos)
      << out;
  const std::string header = "the last lines of " + d + "/data/store2.log:\n  ";
  ASSERT_NE(out.find(header), std::string::npos) << out;
  EXPECT_EQ(out.find("is empty)", out.find(header)), std::string::npos) << out;
  EXPECT_FALSE(Alive(PidOf(out, "pd"))) << out;
  EXPECT_FALSE(Alive(PidOf(out, "store 1"))) << out;
}

// `chain local`: a second instance on the directory is refused naming the pid; a validator
// killed is reported; SIGINT stops the committee quickly.
TEST(LocalInstance, ChainLocalIsOnePerDirectoryAndStopsOnSigint) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const int base = PickPort();
  const std::vector<std::string> args = {
      "chain", "local",      "--validators", "4",
      "--dir", d + "/chain", "--base-port",  std::to_string(base)};
  {
    Background first(args, d + "/first.out");
    ASSERT_TRUE(first.WaitFor("Ctrl-C stops it")) << first.out();
    CliRun r = Rustorium("chain local --validators 4 --dir " + d + "/chain --base-port " +
                         std::to_string(PickPort()));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(" is in use by pid " + std::to_string(first.pid())), std::string::npos)
        << r.out;
    r = Rustorium("chain status --node 127.0.0.1:" + std::to_string(base) + " --certs " + d +
                  "/chain/certs");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<pid_t> validators;
    for (int i = 0; i < 4; ++i)
      validators.push_back(PidOf(first.out(), "validator-" + std::to_string(i)));
    const auto [code, seconds] = first.SignalAndWait(SIGINT);
    std::printf("chain local stopped %.2f s after SIGINT\n", seconds);
    EXPECT_EQ(code, 0) << first.out();
    EXPECT_LT(seconds, 10.0) << "hang guard: " << first.out();
    for (pid_t v : validators) EXPECT_FALSE(Alive(v)) << v;
    EXPECT_EQ(first.out().find("did not stop"), std::string::npos) << first.out();
  }
  // Again on the same directory (the lock went with the process): a validator killed is
  // reported and the committee stopped.
  Background again(args, d + "/again.out");
  ASSERT_TRUE(again.WaitFor("Ctrl-C stops it")) << again.out();
  const pid_t victim = PidOf(again.out(), "validator-2");
  ASSERT_GT(victim, 0);
  kill(victim, SIGKILL);
  EXPECT_EQ(again.WaitExit(std::chrono::seconds(30)), 1) << again.out();
  EXPECT_NE(
      again.out().find("validator 2 (pid " + std::to_string(victim) + ") was killed by signal 9"),
      std::string::npos)
      << again.out();
  EXPECT_NE(again.out().find("; the last lines of " + d + "/chain/validator-2.log:\n  "),
            std::string::npos)
      << again.out();
  EXPECT_FALSE(Alive(PidOf(again.out(), "validator-0")));
}

// A port of the committee in use: refused naming it, no validator started.
TEST(LocalInstance, ChainLocalWithAPortTakenIsRefusedNamingIt) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const int base = PickPort();
  Listener taken(base + 100 + 1);  // validator 1's worker
  ASSERT_TRUE(taken.ok());
  CliRun r = Rustorium("chain local --validators 4 --dir " + d + "/chain --base-port " +
                       std::to_string(base));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1:" + std::to_string(base + 101) + " is in use"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find(": pid "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace rustorium::tools
