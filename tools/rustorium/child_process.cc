#include "tools/rustorium/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

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
  if (options.own_process_group) setpgid(0, 0);
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

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = strsignal(sig);
    return "was killed by signal " + std::to_string(sig) +
           (name != nullptr ? " (" + std::string(name) + ")" : std::string());
  }
  return "ended (wait status " + std::to_string(wait_status) + ")";
}

std::string LogTail(const std::string& path, int lines) {
  constexpr std::streamoff kMaxRead = 64 * 1024;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "  (cannot read " + path + ")";
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > kMaxRead ? size - kMaxRead : 0;
  in.seekg(from);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.empty()) return "  (" + path + " is empty)";
  std::vector<std::string_view> all;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    all.push_back(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
  }
  std::string out;
  const size_t first = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  for (size_t i = first; i < all.size(); ++i) {
    out += (i == first ? "  " : "\n  ");
    out += all[i];
  }
  return out;
}

ChildGroup::~ChildGroup() { StopAll(); }

Result<pid_t> ChildGroup::Start(const std::string& name, const std::vector<std::string>& argv,
                                const ChildOptions& options) {
  const pid_t pid = SpawnChild(argv, options);
  if (pid < 0) return Status::IOError("cannot start " + name + ": " + std::strerror(errno));
  children_.push_back(Child{name, options.log, pid});
  return pid;
}

std::optional<std::string> ChildGroup::ReapExited() {
  for (Child& c : children_) {
    if (c.pid < 0) continue;
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) != c.pid) continue;
    std::string text = c.name + " (pid " + std::to_string(c.pid) + ") " + DescribeExit(status);
    c.pid = -1;
    if (!c.log.empty()) text += "; the last lines of " + c.log + ":\n" + LogTail(c.log);
    return text;
  }
  return std::nullopt;
}

std::vector<std::string> ChildGroup::StopAll(std::chrono::milliseconds grace) {
  for (const Child& c : children_) {
    if (c.pid > 0) kill(c.pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (true) {
    bool running = false;
    for (Child& c : children_) {
      if (c.pid > 0 && waitpid(c.pid, nullptr, WNOHANG) == c.pid) c.pid = -1;
      running |= c.pid > 0;
    }
    if (!running || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::string> killed;
  for (Child& c : children_) {
    if (c.pid <= 0) continue;
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
    c.pid = -1;
    killed.push_back(c.name);
  }
  return killed;
}

std::vector<pid_t> ChildGroup::running() const {
  std::vector<pid_t> out;
  for (const Child& c : children_) {
    if (c.pid > 0) out.push_back(c.pid);
  }
  return out;
}

std::string SelfPath() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("rustorium") : p.string();
}

}  // namespace rustorium::tools
