#include "region/rpc/link_filter.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "region/rpc/channel.h"

namespace rustorium::rpc {

LinkFilter::~LinkFilter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

LinkRule LinkFilter::For(const std::string& address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(address);
  return it == rules_.end() ? LinkRule{} : it->second;
}

void LinkFilter::Set(LinkRules rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(rules);
}

Result<LinkRules> LinkFilter::Parse(std::string_view text) {
  LinkRules rules;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line);
    std::string verb, address, extra;
    if (!(words >> verb) || verb.front() == '#') continue;
    const auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("link rules, line " + std::to_string(number) + ": " + why);
    };
    if (!(words >> address)) return bad("'" + verb + "' needs an address");
    if (Status s = CheckAddress(address); !s.ok()) return bad(s.message());
    LinkRule& rule = rules[address];
    if (verb == "drop") {
      rule.drop = true;
    } else if (verb == "delay") {
      std::string ms;
      if (!(words >> ms) || ms.size() > 6 ||
          ms.find_first_not_of("0123456789") != std::string::npos) {
        return bad("'delay' needs milliseconds (0 to 999999)");
      }
      rule.delay = std::chrono::milliseconds(std::stoi(ms));
    } else {
      return bad("unknown rule '" + verb + "' (drop, delay)");
    }
    if (words >> extra) return bad("unexpected '" + extra + "'");
  }
  return rules;
}

void LinkFilter::Reload(const std::string& path, std::string* last_text) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) {
    std::ostringstream contents;
    contents << in.rdbuf();
    text = contents.str();
  }
  if (text == *last_text) return;
  *last_text = text;
  Result<LinkRules> rules = Parse(text);
  if (!rules.ok()) {
    spdlog::warn("link faults not applied, rules unchanged: path={} error=\"{}\"", path,
                 rules.status().message());
    return;
  }
  Set(std::move(*rules));
}

void LinkFilter::Watch(std::string path, std::chrono::milliseconds poll) {
  std::string last_text;
  Reload(path, &last_text);
  watcher_ = std::thread([this, path = std::move(path), poll, last_text]() mutable {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, poll, [this] { return stopping_; })) {
      lock.unlock();
      Reload(path, &last_text);
      lock.lock();
    }
  });
}

}  // namespace rustorium::rpc
