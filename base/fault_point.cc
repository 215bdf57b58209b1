#include "base/fault_point.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace rustorium {

namespace {

struct Fault {
  unsigned long fire_at = 0;  // the call that fails, counting from 1
  unsigned long calls = 0;    // calls so far
};

struct Armed {
  std::mutex mu;
  std::map<std::string, Fault, std::less<>> sites;
  std::atomic<bool> any{false};  // some site is armed
};

// Replaces what is armed by `spec` ("site@N,site@N"); the caller holds a->mu.
void Parse(Armed* a, std::string_view spec) {
  a->sites.clear();
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    const std::string item(spec.substr(pos, end - pos));
    const std::size_t at = item.find('@');
    if (at != std::string::npos && at > 0) {
      const unsigned long n = std::strtoul(item.c_str() + at + 1, nullptr, 10);
      if (n > 0) a->sites[item.substr(0, at)] = Fault{n, 0};
    }
    pos = end + 1;
  }
  a->any = !a->sites.empty();
}

// Parsed from RUSTORIUM_FAULTS on first use; lives as long as the process.
Armed* Faults() {
  static Armed* const armed = [] {
    auto* a = new Armed;
    const char* env = std::getenv("RUSTORIUM_FAULTS");
    if (env != nullptr) Parse(a, env);
    return a;
  }();
  return armed;
}

struct Hooks {
  std::mutex mu;
  std::map<std::string, std::function<void()>, std::less<>> sites;
  std::atomic<bool> any{false};
};

Hooks* TestHooks() {
  static Hooks* const hooks = new Hooks;  // lives as long as the process
  return hooks;
}

}  // namespace

void TestHook(std::string_view site) {
  Hooks* hooks = TestHooks();
  if (!hooks->any.load(std::memory_order_relaxed)) return;
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(hooks->mu);
    auto it = hooks->sites.find(site);
    if (it == hooks->sites.end()) return;
    hook = it->second;
  }
  hook();  // unlocked: the hook may take as long as it needs, on several threads at once
}

void SetTestHookForTest(std::string_view site, std::function<void()> hook) {
  Hooks* hooks = TestHooks();
  std::lock_guard<std::mutex> lock(hooks->mu);
  if (hook) {
    hooks->sites[std::string(site)] = std::move(hook);
  } else {
    auto it = hooks->sites.find(site);
    if (it != hooks->sites.end()) hooks->sites.erase(it);
  }
  hooks->any = !hooks->sites.empty();
}

bool FaultPoint(std::string_view site) {
  Armed* armed = Faults();
  if (!armed->any.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> lock(armed->mu);
  auto it = armed->sites.find(site);
  return it != armed->sites.end() && ++it->second.calls == it->second.fire_at;
}

void SetFaultsForTest(std::string_view spec) {
  Armed* armed = Faults();
  std::lock_guard<std::mutex> lock(armed->mu);
  Parse(armed, spec);
}

}  // namespace rustorium
