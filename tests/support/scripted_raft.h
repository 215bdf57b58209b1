// A scripted network for multi-raft tests (tests/region/raft_faults_test.cc,
// tests/region/read_index_test.cc): in-process stores over loopback whose every received Raft
// message goes through a script that passes, drops or holds it. Elections are driven by the
// script, not by timers: store 1 alone has a short election timeout, the others never time out,
// and a later election is started by handing a follower the TimeoutNow its leader would send.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "region/raft/multi_raft.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium::raft::testing {

using namespace std::chrono_literals;

inline constexpr GroupId kGroup = 1;

// What the script does with one message.
enum class Verdict { kPass, kDrop, kHold };

// A message as it arrived at store `to` from store `from`.
struct Held {
  uint64_t to = 0;
  uint64_t from = 0;
  RaftMessage message;
};

// The network between the stores as the test scripts it: every message a store receives goes
// through Judge (on that store's loop thread), which passes, drops or holds it.
class ScriptedNet {
 public:
  using Script = std::function<Verdict(uint64_t to, uint64_t from, const RaftMessage& m)>;

  void SetScript(Script script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
  }
  bool Judge(uint64_t to, uint64_t from, const RaftMessage& m) {
    std::lock_guard lock(mu_);
    const Verdict v = script_ ? script_(to, from, m) : Verdict::kPass;
    if (v == Verdict::kHold) held_.push_back({to, from, m});
    return v == Verdict::kPass;
  }
  // The held messages that `pred` picks, taken out of the hold.
  std::vector<Held> Take(const std::function<bool(const Held&)>& pred) {
    std::lock_guard lock(mu_);
    std::vector<Held> out, keep;
    for (Held& h : held_) (pred(h) ? out : keep).push_back(std::move(h));
    held_.swap(keep);
    return out;
  }
  bool Holds(const std::function<bool(const Held&)>& pred) {
    std::lock_guard lock(mu_);
    for (const Held& h : held_)
      if (pred(h)) return true;
    return false;
  }

 private:
  std::mutex mu_;
  Script script_;
  std::vector<Held> held_;
};

inline MultiRaftOptions ScriptedOptions(int store, ScriptedNet* net, RaftGuards guards) {
  MultiRaftOptions o;
  o.tick = 10ms;
  o.heartbeat = 50ms;
  // Store 1 wins the first election; no store times out after that (SettleOnStoreOne).
  o.election = store == 1 ? 300ms : 3600s;
  o.pre_vote = true;
  o.install_snapshot_timeout = 60s;
  o.guards = guards;
  o.receive_filter = [net, store](const RaftMessage& m, uint64_t from) {
    return net->Judge(static_cast<uint64_t>(store), from, m);
  };
  return o;
}

// The TimeoutNow that the leader `from` of `term` sends when it hands leadership to a follower
// whose log ends at (last_index, last_term).
inline RaftMessage TimeoutNowFor(uint64_t to, uint64_t term, uint64_t last_index,
                                 uint64_t last_term) {
  RaftMessage m;
  m.set_group_id(kGroup);
  m.set_to_id(to);
  TimeoutNow* t = m.mutable_timeout_now();
  t->set_term(term);
  t->set_last_log_index(last_index);
  t->set_last_log_term(last_term);
  return m;
}

class ScriptedCluster {
 public:
  ScriptedCluster(rustorium::testing::TempDir& dir, int n, ScriptedNet* net, RaftGuards guards,
                  const std::function<void(int, MultiRaftOptions&)>& tune = {}) {
    for (int i = 1; i <= n; ++i) {
      MultiRaftOptions o = ScriptedOptions(i, net, guards);
      if (tune) tune(i, o);
      stores_.push_back(std::make_unique<TestStore>(i, dir.Sub("s" + std::to_string(i)), o));
    }
  }
  Status Start() {
    std::vector<Member> members;
    for (const auto& s : stores_) members.push_back(s->member());
    for (auto& s : stores_) RETURN_IF_ERROR(s->Start({kGroup}, members));
    return Status::OK();
  }
  TestStore& store(uint64_t i) { return *stores_[i - 1]; }

  void ProposeAndForget(uint64_t s, const std::string& command) {
    store(s).Sync([&] { store(s).raft().Propose(kGroup, command, [](Result<ProposeResult>) {}); });
  }
  // Store `s` gets the TimeoutNow that its leader `leader` of `term` sends when `s`'s log ends
  // at (last_index, last_term): it campaigns at once.
  void Campaign(uint64_t s, uint64_t leader, uint64_t term, uint64_t last_index,
                uint64_t last_term) {
    const std::string address = store(leader).address();
    bool taken = false;
    store(s).Sync([&] {
      taken = store(s).raft().InjectMessage(TimeoutNowFor(s, term, last_index, last_term), leader,
                                            address);
    });
    ASSERT_TRUE(taken);
  }

  // Waits until store 1 leads and every store follows it; then store 1's election timeout is
  // made as long as the others', so that only the script starts elections.
  bool SettleOnStoreOne() {
    const bool settled = WaitFor(
        [&] {
          for (auto& s : stores_) {
            auto info = s->Info(kGroup);
            if (!info || info->leader_id != 1) return false;
          }
          return true;
        },
        20s);
    if (settled) store(1).Sync([&] { store(1).raft().SetElectionTimeout(kGroup, 3600s); });
    return settled;
  }

 private:
  std::vector<std::unique_ptr<TestStore>> stores_;
};

inline RaftGuards AllGuards() { return RaftGuards{}; }

}  // namespace rustorium::raft::testing
