// The cluster as a user runs it: `rustorium playground` starts PD and three stores as child
// processes with mutual TLS; every `rustorium kv` command and `status check` run against it as
// separate processes; a proof written by `kv get --proof-out` verifies offline; Ctrl-C
// (SIGTERM) stops everything, and a second run finds the data intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
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
    EXPECT_NE(r.out.find("not swapped: current value world"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("cas: ok"), std::string::npos) << r.out;
    r = Rustorium("kv cas hello world there" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = Rustorium("kv delete user/0" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Rustorium("kv get user/0" + flags).exit_code, 1);

    r = Rustorium("status check" + flags);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(": up"), std::string::npos);
    EXPECT_NE(r.out.find("region 1 [, ): 3 replicas, leader store "), std::string::npos) << r.out;

    // --timeout with a good value works like the default against a cluster that serves.
    r = Rustorium("kv put timed v" + flags + " --timeout 5s");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = Rustorium("kv get timed" + flags + " --timeout 2m");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out.substr(0, 2), "v\n") << r.out;
    EXPECT_EQ(Rustorium("status check" + flags + " --timeout 5000ms").exit_code, 0);

    // The store ids the cluster uses are those of the log file names: storeN.log holds
    // "store N serving on ADDRESS" for the store that status lists as N at ADDRESS. The logs
    // name the first election of region 1 (operator log lines, docs/operations.md).
    r = Rustorium("status check --json" + flags);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto status = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(status.is_object()) << r.out;
    ASSERT_EQ(status["stores"].size(), 3u) << r.out;
    std::string store_logs;
    for (const auto& store : status["stores"]) {
      const std::string id = std::to_string(store["id"].get<uint64_t>());
      // Each store's memory figures (store.Stats), with the index cache's configured size.
      EXPECT_GT(store["stats"]["rss_bytes"].get<uint64_t>(), 0u) << store.dump();
      EXPECT_EQ(store["stats"]["index_cache_capacity_bytes"].get<uint64_t>(), 64u << 20)
          << store.dump();
      const std::string file = d + "/data/store" + id + ".log";
      ASSERT_TRUE(std::filesystem::exists(file)) << file << " for " << store.dump();
      const std::string log = rustorium::testing::ReadFile(file);
      EXPECT_NE(log.find("store " + id + " serving on " + store["address"].get<std::string>()),
                std::string::npos)
          << file << ":\n"
          << log;
      store_logs += log;
    }
    EXPECT_FALSE(std::filesystem::exists(d + "/data/store4.log"));
    EXPECT_NE(store_logs.find("raft leader: group=1 term="), std::string::npos) << store_logs;
    EXPECT_NE(store_logs.find(" (elected here)"), std::string::npos) << store_logs;

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

// The pid of the playground child whose command line holds `config` (its .toml path). The
// oldest match: the shell that runs pgrep holds `config` in its command line too, and it is gone
// by the time the caller signals the pid.
pid_t ChildWithConfig(const std::string& config) {
  CliRun r = rustorium::testing::RunCommand("pgrep -o -f '" + config + "'");
  return r.exit_code == 0 ? static_cast<pid_t>(std::stol(r.out)) : -1;
}

// Polls `status check --json` (every 0.5 s, for at most `seconds`) until `pred` holds.
bool StatusUntil(const std::string& flags, int seconds,
                 const std::function<bool(const nlohmann::json&)>& pred, std::string* last) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    CliRun r = Rustorium("status check --json" + flags);
    *last = r.out;
    const std::string line = r.out.substr(0, r.out.find('\n'));
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && pred(j)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

std::string StoreState(const nlohmann::json& status, uint64_t id) {
  for (const auto& s : status["stores"]) {
    if (s["id"] == id) return s["state"];
  }
  return "";
}

// Issue 22: bytes in and out (escapes, hex, value files, JSON), paging scans, failed
// compare-and-swap and put-if-absent, honest status, and errors that say what to do next.
TEST(ClusterCli, BytesPagingConditionalWritesStatusAndErrors) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const std::string pd = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
  const int store_port = rustorium::testing::PickPort();
  const std::string certs = d + "/data/certs";
  const std::string flags = " --pd " + pd + " --certs " + certs;
  Playground playground(d, pd, store_port);
  ASSERT_TRUE(playground.WaitServing()) << playground.log();

  // A key with a NUL and a value with a control character and UTF-8, given in the text form;
  // printed in the same form; in JSON as a string when UTF-8, else as hex.
  CliRun r = Rustorium("kv put 'bin\\x00key' 'caf\xc3\xa9\\x01'" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = Rustorium("kv get 'bin\\x00key'" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "caf\xc3\xa9\\x01");
  r = Rustorium("kv get --hex 62696e006b6579 --json" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["key_hex"], "62696e006b6579");
  EXPECT_EQ(j["value_hex"], "636166c3a901");
  EXPECT_FALSE(j.contains("value"));
  r = Rustorium("kv get 'bin\\x00key' --json" + flags);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["key"], std::string("bin\0key", 7)) << r.out;  // valid UTF-8: a JSON string
  EXPECT_EQ(j["value"], "caf\xc3\xa9\x01");
  r = Rustorium("kv put --hex 00ff 80 --json" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = Rustorium("kv get '\\x00\\xff' --json" + flags);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["key_hex"], "00ff") << r.out;  // not UTF-8: hex only
  EXPECT_EQ(j["value_hex"], "80");
  EXPECT_FALSE(j.contains("key"));

  // Values from a file (at the 8 MiB limit) and from standard input, read back exactly.
  const std::string big = std::string(8 * 1024 * 1024 - 3, 'b') + std::string("\0\n\xff", 3);
  rustorium::testing::WriteFile(d + "/big", big);
  // Hashing 8 MiB into the tree value takes seconds on each replica (and in the client's check)
  // in this sanitizer build: a budget of its own, above the 10 s default.
  r = Rustorium("kv put big --timeout 120s --value-file " + d + "/big" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out.substr(0, 500);
  r = rustorium::testing::RunCommand("(" + std::string(RUSTORIUM_BINARY) +
                                     " kv get big --timeout 120s --print-value-only" + flags +
                                     " 2>/dev/null > " + d + "/big.out)");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(rustorium::testing::ReadFile(d + "/big.out") == big + "\n") << "the value as stored";
  r = rustorium::testing::RunCommand("printf 'from\\001stdin' | " + std::string(RUSTORIUM_BINARY) +
                                     " kv put piped --value-file -" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = Rustorium("kv get 7069706564 --print-value-only --hex" + flags);  // the key in hex too
  EXPECT_EQ(r.out, "66726f6d01737464696e\n");
  EXPECT_EQ(Rustorium("kv get absent --print-value-only" + flags).out, "");

  // Paging: --prefix, a limit that stops inside the range, the next start key printed in a form
  // the command takes back, no key twice; JSON with the roots to check the proofs offline.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(Rustorium("kv put page/" + std::to_string(i) + " v" + flags).exit_code, 0);
  r = Rustorium("kv scan --prefix page/ --limit 2" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("page/0 = v\npage/1 = v\n2 keys"), std::string::npos) << r.out;
  const std::string marker = "next page: START ";
  ASSERT_NE(r.out.find(marker), std::string::npos) << r.out;
  const std::size_t at = r.out.find(marker) + marker.size();
  const std::string next = r.out.substr(at, r.out.find(' ', at) - at);
  EXPECT_EQ(next, "page/1\\x00");
  r = Rustorium("kv scan '" + next + "' page0 --limit 10" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("page/2 = v\npage/3 = v\npage/4 = v\n3 keys"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("more: no"), std::string::npos) << r.out;
  r = Rustorium("kv scan --prefix page/ --limit 3 --json" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["items"].size(), 3u);
  EXPECT_EQ(j["more"], true);
  EXPECT_EQ(j["next_key"], std::string("page/2\0", 7));
  EXPECT_EQ(j["end_key"], "page0");
  ASSERT_GE(j["roots"].size(), 1u);
  const auto& root0 = j["roots"][j["items"][0]["root"].get<std::size_t>()];
  EXPECT_EQ(root0["root"].get<std::string>().substr(0, 2), "0x");
  EXPECT_GT(root0["applied_index"].get<uint64_t>(), 0u);
  EXPECT_GT(root0["store_id"].get<uint64_t>(), 0u);
  // The first item's proof checks offline against that root.
  const std::string proof_hex = j["items"][0]["proof"].get<std::string>();
  std::string proof;
  for (std::size_t i = 0; i + 1 < proof_hex.size(); i += 2)
    proof.push_back(static_cast<char>(std::stoi(proof_hex.substr(i, 2), nullptr, 16)));
  rustorium::testing::WriteFile(d + "/p0.proof", proof);
  r = Rustorium("proof verify --root " + root0["root"].get<std::string>() +
                " --key-bytes page/0 --value-bytes v --proof " + d + "/p0.proof");
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // A failed compare-and-swap says so and shows the current value; put --if-absent.
  r = Rustorium("kv cas page/0 wrong new --json" + flags);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cas_succeeded"], false);
  EXPECT_EQ(j["current"], "v");
  r = Rustorium("kv put page/0 other --if-absent" + flags);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("not put: current value v"), std::string::npos) << r.out;
  r = Rustorium("kv put fresh first --if-absent" + flags);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("put: ok"), std::string::npos) << r.out;
  EXPECT_EQ(Rustorium("kv get fresh --print-value-only" + flags).out, "first\n");

  // Honest status: PD's members with the leader; a paused store is disconnected within a few
  // heartbeats, its region line is not "ok", and it comes back.
  std::string last;
  ASSERT_TRUE(StatusUntil(
      flags, 30, [](const nlohmann::json& s) { return s["healthy"] == true; }, &last))
      << last;
  j = nlohmann::json::parse(last.substr(0, last.find('\n')));
  ASSERT_EQ(j["pd"]["members"].size(), 1u);
  EXPECT_EQ(j["pd"]["members"][0]["leader"], true);
  EXPECT_EQ(j["pd"]["members"][0]["address"], pd);
  EXPECT_EQ(j["stores"].size(), 3u);
  const pid_t store3 = ChildWithConfig(d + "/data/store3.toml");
  ASSERT_GT(store3, 0);
  ASSERT_EQ(kill(store3, SIGSTOP), 0);
  const auto paused = std::chrono::steady_clock::now();
  const bool seen = StatusUntil(
      flags, 30, [](const nlohmann::json& s) { return StoreState(s, 3) == "disconnected"; }, &last);
  const double after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - paused).count();
  std::printf("a paused store showed as disconnected after %.1f s\n", after);
  r = Rustorium("status check" + flags);
  kill(store3, SIGCONT);
  ASSERT_TRUE(seen) << last;
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("store 3 at "), std::string::npos) << r.out;
  // Disconnected, or down already: the playground splits its region (the 8 MiB value is over
  // its 1 MiB split size), each status check probes every region, and under a loaded machine
  // the checks can take past store_down_after (30 s).
  EXPECT_TRUE(r.out.find(": disconnected (no heartbeat for ") != std::string::npos ||
              r.out.find(": down (no heartbeat for ") != std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find(", ok\n"), std::string::npos)
      << "no region is ok with a replica away: " << r.out;
  EXPECT_TRUE(StatusUntil(
      flags, 30, [](const nlohmann::json& s) { return StoreState(s, 3) == "up"; }, &last))
      << last;

  // Errors that say what to do next.
  r = Rustorium("kv get page/0 --certs " + certs + " --pd 127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("unreachable: 127.0.0.1:1 (is the cluster running?"), std::string::npos)
      << r.out;
  r = Rustorium("kv get page/0 --plain --pd " + pd);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("the cluster speaks TLS; drop --plain"), std::string::npos) << r.out;
  ASSERT_EQ(Rustorium("certs create --dir " + d + "/other").exit_code, 0);
  r = Rustorium("kv get page/0 --certs " + d + "/other --pd " + pd);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("give --certs the cluster's certificate directory"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("error:0"), std::string::npos) << "no OpenSSL error stack: " << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;

  EXPECT_EQ(playground.Stop(), 0) << playground.log();
}

// Host names find the cluster: the playground's configs name PD as localhost (PD listens on
// it; stores dial it by name and check PD's certificate against it); clients reach it by name,
// through a --pd list whose first member is down, and from $RUSTORIUM_PD. A name that does
// not resolve, a malformed one, and a certificate that does not name the host dialled are each
// one clear line.
TEST(ClusterCli, HostNamesAndPdMemberLists) {
  TempDir tmp;
  const std::string d = tmp.path().string();
  const std::string pd_port = std::to_string(rustorium::testing::PickPort());
  const std::string pd = "localhost:" + pd_port;
  const int store_port = rustorium::testing::PickPort();
  const std::string certs = " --certs " + d + "/data/certs";
  Playground playground(d, pd, store_port);
  ASSERT_TRUE(playground.WaitServing()) << playground.log();
  EXPECT_NE(rustorium::testing::ReadFile(d + "/data/store1.toml").find("pd = [\"" + pd + "\"]"),
            std::string::npos);

  CliRun r = Rustorium("kv put named value --pd " + pd + certs);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The first member is down: the client goes on to the next.
  const std::string down = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
  r = Rustorium("kv get named --pd " + down + "," + pd + certs);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "value");
  r = rustorium::testing::RunCommand("RUSTORIUM_PD=" + down + ",127.0.0.1:" + pd_port + " " +
                                     RUSTORIUM_BINARY + " kv get named" + certs);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "value");

  // A name that does not resolve (.invalid never does, RFC 6761): a failure, named, quickly.
  const auto start = std::chrono::steady_clock::now();
  r = Rustorium("kv get named --pd nowhere.invalid:2479" + certs);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("cannot resolve 'nowhere.invalid': "), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  // Malformed addresses are refused before anything is dialled, the bad entry quoted.
  for (const std::string& bad :
       {std::string("bad_name!:1"), std::string(":2479"), std::string("localhost:0"),
        std::string("localhost:65536"), std::string(254, 'a') + ":1", pd + ",bad_name!:1"}) {
    r = Rustorium("kv get named --pd '" + bad + "'" + certs);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--pd '"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("is not host:port"), std::string::npos) << r.out;
    EXPECT_LT(r.out.size(), 300u) << "bounded: " << r.out;
  }
  r = Rustorium("kv get named --pd " + pd + "," + certs);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--pd '" + pd + ",' has an empty entry"), std::string::npos) << r.out;
  r = rustorium::testing::RunCommand("RUSTORIUM_PD='bad_name!:1' " + std::string(RUSTORIUM_BINARY) +
                                     " kv get named" + certs);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("$RUSTORIUM_PD 'bad_name!:1' is not host:port"), std::string::npos) << r.out;
  EXPECT_EQ(playground.Stop(), 0) << playground.log();

  // A PD whose certificate names 127.0.0.1 only, dialled as localhost: refused, in one line.
  ASSERT_EQ(Rustorium("certs create --dir " + d + "/ip-only --host 127.0.0.1").exit_code, 0);
  const std::string lone_port = std::to_string(rustorium::testing::PickPort());
  const std::string ip_certs = d + "/ip-only";
  rustorium::testing::WriteFile(
      d + "/pd.toml", "[pd]\ndata_dir = \"" + d + "/lone-pd\"\naddress = \"127.0.0.1:" + lone_port +
                          "\"\nreplicas = 1\n[tls]\nca_file = \"" + ip_certs +
                          "/ca.crt\"\ncert_file = \"" + ip_certs + "/pd-1.crt\"\nkey_file = \"" +
                          ip_certs + "/pd-1.key\"\n");
  const pid_t lone = fork();
  if (lone == 0) {
    const std::string log = d + "/lone-pd.log";
    std::FILE* out = std::fopen(log.c_str(), "a");
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(out), STDERR_FILENO);
    execl(RUSTORIUM_BINARY, RUSTORIUM_BINARY, "pd", "--config", (d + "/pd.toml").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  bool listening = false;
  for (int i = 0; i < 100 && !listening; ++i) {
    r = Rustorium("kv get named --pd 127.0.0.1:" + lone_port + " --certs " + ip_certs);
    listening = r.out.find("unreachable") == std::string::npos;
    if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r = Rustorium("kv get named --pd localhost:" + lone_port + " --certs " + ip_certs);
  kill(lone, SIGTERM);
  waitpid(lone, nullptr, 0);
  ASSERT_TRUE(listening) << rustorium::testing::ReadFile(d + "/lone-pd.log");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("localhost:" + lone_port +
                       "'s certificate does not name the host dialled: dial a host it names"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("error:0"), std::string::npos) << "no OpenSSL error stack: " << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
}

}  // namespace
}  // namespace rustorium::tools
