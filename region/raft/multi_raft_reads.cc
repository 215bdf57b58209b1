// MultiRaft's linearizable reads: the read-index protocol (read_index.h) on libraft 0.15, which
// has neither a read index nor a heartbeat on demand, so the leader confirms its term with a
// probe of our own (ReadProbe / ReadProbeResult in raft.proto).
#include <algorithm>

#include "region/raft/multi_raft_internal.h"
#include "region/rpc/event_loop.h"

namespace rustorium::raft {

namespace {

std::vector<uint64_t> Voters(const struct ::raft& r) {
  std::vector<uint64_t> out;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    if (r.configuration.servers[i].role == RAFT_VOTER) out.push_back(r.configuration.servers[i].id);
  }
  return out;
}

}  // namespace

// Whether an entry of the leader's current term has committed: its election barrier. Before,
// its commit index may lag entries an earlier leader committed (Raft's section 6.4).
bool RaftIoGlue::TermEntryCommitted(const Group& g) {
  return g.barrier_term == g.r.current_term && g.barrier_index != 0 &&
         g.r.commit_index >= g.barrier_index;
}

uint64_t RaftIoGlue::AppliedThrough(const Group& g) {
  // What libraft applied is through the state machine but for the commands still queued or on
  // the apply worker; libraft's applied index counts barriers and configuration changes too.
  if (const uint64_t pending = PendingFrom(g); pending != 0) return pending - 1;
  return std::max<uint64_t>(g.sm->AppliedIndex(), g.r.last_applied);
}

void MultiRaft::ReadIndex(GroupId group, std::function<void(Result<uint64_t>)> done) {
  Status why;
  Group* g = Leading(group, &why);
  if (g == nullptr) {
    done(why);
    return;
  }
  if (!g->reads.empty() && g->reads.term() != g->r.current_term) ResolveReads(*g);
  g->reads.Queue(g->r.current_term, std::move(done), RaftIoGlue::Time(&g->io));
  ScheduleReadRound(*g);
}

void MultiRaft::ScheduleReadRound(Group& g) {
  if (g.read_scheduled) return;
  g.read_scheduled = true;
  loop_.AtEndOfTurn([this, id = g.id] { StartReadRound(id); });
}

void MultiRaft::StartReadRound(GroupId group) {
  Group* g = Find(group);
  if (g == nullptr || g->closing) return;  // CloseGroup failed the reads
  ResolveReads(*g);                        // fails them if leadership was lost meanwhile
  g->read_scheduled = false;
  if (!g->reads.has_queued()) return;
  // libraft 0.15 appends nothing of its own when elected: without the election barrier
  // (RaftGuards::barrier_on_election off, or its barrier was refused), the reads propose it.
  if (g->barrier_term != g->r.current_term || g->barrier_index == 0)
    RaftIoGlue::ProposeTermBarrier(*g);
  if (!RaftIoGlue::TermEntryCommitted(*g)) return;  // ResolveReads starts the round once it has
  std::optional<ReadProbe> probe = g->reads.StartRound(g->r.commit_index, RaftIoGlue::Time(&g->io),
                                                       Voters(g->r), options_.store_id);
  if (probe.has_value() && options_.unsafe_reads_without_quorum) {
    g->reads.Confirm(probe->seq());
  } else if (probe.has_value()) {
    stats_.read_probes++;
    const raft_configuration& conf = g->r.configuration;
    for (unsigned i = 0; i < conf.n; ++i) {
      const raft_server& s = conf.servers[i];
      if (s.role != RAFT_VOTER || s.id == options_.store_id || s.address == nullptr) continue;
      RaftMessage m;
      m.set_group_id(group);
      m.set_to_id(s.id);
      *m.mutable_read_probe() = *probe;
      QueueMessage(s.address, std::move(m));
    }
  }
  ResolveReads(*g);
}

void MultiRaft::ResolveReads(Group& g) {
  if (g.reads.empty() || g.closing) return;
  if (raft_state(&g.r) != RAFT_LEADER || g.r.current_term != g.reads.term()) {
    FailReads(g, Status::Aborted("raft leadership lost before the read was answered"));
    return;
  }
  std::vector<ReadRounds::Done> expired =
      g.reads.TakeExpired(RaftIoGlue::Time(&g.io), g.r.election_timeout);
  if (!expired.empty()) {
    stats_.read_probe_timeouts++;
    const Status s =
        Status::Aborted("no quorum confirmed the raft leader within an election timeout");
    for (auto& done : expired) done(s);
  }
  if (g.reads.has_queued() && RaftIoGlue::TermEntryCommitted(g)) ScheduleReadRound(g);
  const uint64_t applied = RaftIoGlue::AppliedThrough(g);
  for (ReadRounds::Ready& ready : g.reads.TakeApplied(applied)) ready.done(applied);
}

void MultiRaft::FailReads(Group& g, const Status& why) {
  for (auto& done : g.reads.TakeAll()) done(why);
}

void MultiRaft::AnswerReadProbe(Group& g, const ReadProbe& probe, uint64_t from_id,
                                const std::string& from_address) {
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&g.r, &leader, &address);
  RaftMessage m;
  m.set_group_id(g.id);
  m.set_to_id(from_id);
  ReadProbeResult* answer = m.mutable_read_probe_result();
  answer->set_term(g.r.current_term);
  answer->set_seq(probe.seq());
  // The sender still leads as far as this voter knows: nobody has won a later term with its
  // vote, and it follows the sender in the probe's term.
  answer->set_ok(probe.term() == g.r.current_term && raft_state(&g.r) == RAFT_FOLLOWER &&
                 leader == from_id);
  QueueMessage(from_address, std::move(m));
}

void MultiRaft::CountReadProbeAnswer(Group& g, const ReadProbeResult& answer, uint64_t from_id) {
  if (raft_state(&g.r) != RAFT_LEADER || g.reads.empty()) return;
  if (g.reads.Answer(answer, from_id, Voters(g.r), options_.store_id)) ResolveReads(g);
}

}  // namespace rustorium::raft
