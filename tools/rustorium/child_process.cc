#include "tools/rustorium/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>

namespace rustorium::tools {

pid_t SpawnChild(const std::vector<std::string>& argv, const ChildOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool replaced = false;
    for (const std::string& mine : options.env) {
      const auto eq = mine.find('=');
      replaced |= eq != std::string::npos &&
                  entry.substr(0, eq + 1) == std::string_view(mine).substr(0, eq + 1);
    }
    if (!replaced) env.emplace_back(entry);
  }
  for (const std::string& mine : options.env) env.push_back(mine);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log = options.log.empty() ? nullptr : options.log.c_str();
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (options.stop_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (log != nullptr) {
    const int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
  }
  execve(args[0], args.data(), envp.data());
  _exit(127);
}

std::string SelfPath() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("rustorium") : p.string();
}

}  // namespace rustorium::tools
