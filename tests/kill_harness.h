// Crash tests: run a child process that prints one line per acknowledged operation, SIGKILL
// it at a chosen moment, and collect what it acknowledged.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace rustorium::testing {

// The test's random seed: RUSTORIUM_TEST_SEED when set (to replay a failure), else the clock.
inline uint64_t TestSeed() {
  if (const char* s = std::getenv("RUSTORIUM_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

struct KillRun {
  bool ready = false;              // the child printed "ready"
  bool killed = false;             // it was still running and died of our SIGKILL
  std::vector<std::string> acked;  // every complete line after "ready"
};

// Starts argv[0] with argv, waits (up to 60 s) for its "ready" line, lets it run for `delay`,
// then SIGKILLs it and returns what it acknowledged.
inline KillRun RunAndKill(const std::vector<std::string>& argv, std::chrono::milliseconds delay) {
  KillRun run;
  int fds[2];
  if (::pipe(fds) != 0) return run;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(fds[1]);
  FILE* out = ::fdopen(fds[0], "r");
  std::atomic<bool> ready{false};
  std::thread reader([&] {
    char line[512];
    while (std::fgets(line, sizeof(line), out) != nullptr) {
      std::string s(line);
      if (s.empty() || s.back() != '\n') break;  // cut by the kill: never acknowledged
      s.pop_back();
      if (s == "ready") {
        ready = true;
      } else {
        run.acked.push_back(s);
      }
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  reader.join();
  std::fclose(out);
  run.ready = ready.load();
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return run;
}

}  // namespace rustorium::testing
