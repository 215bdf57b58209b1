// LinkFilter: fault injection for tests. Channels that carry one (ChannelOptions::filter) drop
// or delay what they send to chosen addresses, as a network partition or a slow link would:
// a dropped call is never answered (it times out), a dropped one-way message vanishes, a
// delayed frame leaves after the delay, in order. The fault harness (tests/faults/) drives
// the filters of running store processes through a rules file (Watch), named by the
// RUSTORIUM_LINK_FAULTS environment variable of `rustorium server`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace rustorium::rpc {

struct LinkRule {
  bool drop = false;
  std::chrono::milliseconds delay{0};
};

using LinkRules = std::map<std::string, LinkRule>;  // by peer address, "host:port"

class LinkFilter {
 public:
  LinkFilter() = default;
  ~LinkFilter();  // stops the watcher
  LinkFilter(const LinkFilter&) = delete;
  LinkFilter& operator=(const LinkFilter&) = delete;

  // The rule for frames to `address` (no rule: pass). Thread-safe.
  LinkRule For(const std::string& address) const;
  void Set(LinkRules rules);  // thread-safe

  // Rules text: one rule per line, "drop ADDRESS" or "delay ADDRESS MILLISECONDS"; blank lines
  // and lines starting with '#' are ignored. InvalidArgument names the first bad line.
  static Result<LinkRules> Parse(std::string_view text);

  // Applies the rules in `path` now and whenever the file's contents change (polled every
  // `poll`), on a thread of its own. A missing file means no rules; a file that does not parse
  // leaves the rules as they were and is logged once (a warning).
  void Watch(std::string path, std::chrono::milliseconds poll = std::chrono::milliseconds(50));

 private:
  void Reload(const std::string& path, std::string* last_text);

  mutable std::mutex mu_;
  LinkRules rules_;        // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::condition_variable cv_;
  std::thread watcher_;
};

}  // namespace rustorium::rpc
