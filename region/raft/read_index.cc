#include "region/raft/read_index.h"

#include <algorithm>
#include <iterator>

namespace rustorium::raft {

void ReadRounds::Queue(uint64_t term, Done done, uint64_t now_ms) {
  term_ = term;
  queued_.push_back({std::move(done), now_ms});
}

std::optional<ReadProbe> ReadRounds::StartRound(uint64_t read_index, uint64_t now_ms,
                                                const std::vector<uint64_t>& voters,
                                                uint64_t self_id) {
  Round round;
  round.seq = next_seq_++;
  round.read_index = read_index;
  round.started_ms = now_ms;
  for (Queued& q : queued_) round.reads.push_back(std::move(q.done));
  queued_.clear();
  ReadProbe probe;
  probe.set_term(term_);
  probe.set_seq(round.seq);
  const bool alone = Quorum(round, voters, self_id);
  probing_.push_back(std::move(round));
  if (alone) {
    ConfirmThrough(probing_.size() - 1);
    return std::nullopt;
  }
  return probe;
}

bool ReadRounds::Quorum(const Round& round, const std::vector<uint64_t>& voters, uint64_t self_id) {
  std::size_t votes = 0;
  for (uint64_t v : voters) {
    if (v == self_id || round.acks.count(v) != 0) ++votes;
  }
  return !voters.empty() && votes > voters.size() / 2;
}

bool ReadRounds::Answer(const ReadProbeResult& answer, uint64_t from_id,
                        const std::vector<uint64_t>& voters, uint64_t self_id) {
  if (!answer.ok() || answer.term() != term_ || term_ == 0 || from_id == self_id) return false;
  if (std::find(voters.begin(), voters.end(), from_id) == voters.end()) return false;
  for (std::size_t i = 0; i < probing_.size(); ++i) {
    Round& round = probing_[i];
    if (round.seq != answer.seq()) continue;
    round.acks.insert(from_id);
    if (!Quorum(round, voters, self_id)) return false;
    ConfirmThrough(i);
    return true;
  }
  return false;  // a round already confirmed, expired or failed, or one never started
}

void ReadRounds::Confirm(uint64_t seq) {
  for (std::size_t i = 0; i < probing_.size(); ++i) {
    if (probing_[i].seq == seq) {
      ConfirmThrough(i);
      return;
    }
  }
}

void ReadRounds::ConfirmThrough(std::size_t position) {
  for (std::size_t i = 0; i <= position; ++i) {
    Round& round = probing_.front();
    for (Done& d : round.reads) confirmed_.push_back({std::move(d), round.read_index});
    probing_.pop_front();
  }
}

std::vector<ReadRounds::Ready> ReadRounds::TakeApplied(uint64_t applied) {
  std::vector<Ready> out;
  auto ready = std::stable_partition(confirmed_.begin(), confirmed_.end(),
                                     [applied](const Ready& r) { return r.index > applied; });
  std::move(ready, confirmed_.end(), std::back_inserter(out));
  confirmed_.erase(ready, confirmed_.end());
  return out;
}

std::vector<ReadRounds::Done> ReadRounds::TakeExpired(uint64_t now_ms, uint64_t timeout_ms) {
  std::vector<Done> out;
  auto expired = [&](uint64_t since) { return now_ms >= since && now_ms - since >= timeout_ms; };
  while (!probing_.empty() && expired(probing_.front().started_ms)) {
    for (Done& d : probing_.front().reads) out.push_back(std::move(d));
    probing_.pop_front();
  }
  auto gone = std::stable_partition(queued_.begin(), queued_.end(),
                                    [&](const Queued& q) { return !expired(q.since_ms); });
  for (auto it = gone; it != queued_.end(); ++it) out.push_back(std::move(it->done));
  queued_.erase(gone, queued_.end());
  return out;
}

std::vector<ReadRounds::Done> ReadRounds::TakeAll() {
  std::vector<Done> out;
  for (Queued& q : queued_) out.push_back(std::move(q.done));
  for (Round& round : probing_) {
    for (Done& d : round.reads) out.push_back(std::move(d));
  }
  for (Ready& r : confirmed_) out.push_back(std::move(r.done));
  queued_.clear();
  probing_.clear();
  confirmed_.clear();
  return out;
}

}  // namespace rustorium::raft
