#include "bench/bench_children.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "tools/rustorium/child_process.h"

namespace rustorium::bench {

namespace fs = std::filesystem;
namespace rt = rustorium::tools;
using namespace std::chrono_literals;

Status Children::Start(const std::vector<std::string>& argv, const std::string& log) {
  rt::ChildOptions o;
  o.log = log;
  o.stop_with_parent = true;  // stop with the benchmark, however it ends
  const pid_t pid = rt::SpawnChild(argv, o);
  if (pid < 0) return Status::IOError("fork failed");
  pids_.push_back({pid, fs::path(argv[0]).filename().string() + " (log " + log + ")"});
  return Status::OK();
}

Status Children::CheckRunning() {
  for (auto it = pids_.begin(); it != pids_.end(); ++it) {
    int status = 0;
    if (waitpid(it->first, &status, WNOHANG) == it->first) {
      const std::string what = it->second;
      pids_.erase(it);
      return Status::Aborted(what + " exited early");
    }
  }
  return Status::OK();
}

double Children::CpuSeconds() const {
  double total = 0;
  for (const auto& [pid, name] : pids_) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t end_of_name = stat.rfind(')');
    if (end_of_name == std::string::npos) continue;
    std::istringstream fields(stat.substr(end_of_name + 2));  // from field 3, the state
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

void Children::StopAll() {
  for (const auto& [pid, name] : pids_) kill(pid, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!pids_.empty()) {
    for (auto it = pids_.begin(); it != pids_.end();) {
      it = waitpid(it->first, nullptr, WNOHANG) == it->first ? pids_.erase(it) : it + 1;
    }
    if (pids_.empty()) break;
    if (std::chrono::steady_clock::now() > give_up) {
      for (const auto& [pid, name] : pids_) {
        std::cerr << "warning: " << name << " ignored SIGTERM; killing it\n";
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
      pids_.clear();
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
}

Result<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  Status s;
  for (int i = 0; i < n && s.ok(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      s = Status::IOError("cannot find a free loopback port");
    } else {
      ports.push_back(ntohs(a.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  if (!s.ok()) return s;
  return ports;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out.good() ? Status::OK() : Status::IOError("cannot write " + path);
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= dirs.size()) {
    std::size_t to = dirs.find(':', from);
    if (to == std::string::npos) to = dirs.size();
    const std::string candidate = dirs.substr(from, to - from) + "/" + name;
    if (to > from && access(candidate.c_str(), X_OK) == 0) return candidate;
    from = to + 1;
  }
  return "";
}

Status WaitUntil(Children& children, std::chrono::seconds limit, const std::string& what,
                 const std::function<Status()>& ready) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  Status last = Status::TimedOut("not tried");
  while (std::chrono::steady_clock::now() < give_up) {
    last = ready();
    if (last.ok()) return last;
    RETURN_IF_ERROR(children.CheckRunning());
    std::this_thread::sleep_for(250ms);
  }
  return Status::TimedOut(what + " not ready within " + std::to_string(limit.count()) +
                          " s: " + last.ToString());
}

}  // namespace rustorium::bench
