#include "base/fault_point.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace rustorium {

namespace {

struct Armed {
  std::mutex mu;
  std::map<std::string, unsigned long, std::less<>> fire_at;  // site -> the call that fails
  std::map<std::string, unsigned long, std::less<>> calls;    // site -> calls so far
};

// Parsed once; nullptr when RUSTORIUM_FAULTS is unset or names nothing.
Armed* Load() {
  const char* env = std::getenv("RUSTORIUM_FAULTS");
  if (env == nullptr || *env == '\0') return nullptr;
  auto* armed = new Armed;  // lives as long as the process
  const std::string spec(env);
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t end = spec.find(',', pos);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(pos, end - pos);
    const std::size_t at = item.find('@');
    if (at != std::string::npos && at > 0) {
      const unsigned long n = std::strtoul(item.c_str() + at + 1, nullptr, 10);
      if (n > 0) armed->fire_at[item.substr(0, at)] = n;
    }
    pos = end + 1;
  }
  return armed;
}

Armed* Faults() {
  static Armed* const armed = Load();
  return armed;
}

}  // namespace

bool FaultPoint(std::string_view site) {
  Armed* armed = Faults();
  if (armed == nullptr) return false;
  std::lock_guard<std::mutex> lock(armed->mu);
  auto it = armed->fire_at.find(site);
  if (it == armed->fire_at.end()) return false;
  auto c = armed->calls.find(site);
  if (c == armed->calls.end()) c = armed->calls.emplace(std::string(site), 0).first;
  return ++c->second == it->second;
}

}  // namespace rustorium
