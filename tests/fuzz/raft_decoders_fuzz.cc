// The multi-raft decoders: Raft batches and snapshot chunks from peer stores, and the Raft
// log store's records read from disk. They may refuse, never crash or leak; a message they
// accept re-encodes to the same body. Read probes are refused by the libraft decoder and
// counted by the leader's read rounds (read_index.h), which confirm a round only on ok answers
// of a quorum of distinct voters for its term and seq.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "region/raft/message_codec.h"
#include "region/raft/raft_log_store.h"
#include "region/raft/read_index.h"
#include "tests/fuzz/fuzz_driver.h"

namespace rr = rustorium::raft;

std::vector<std::string> FuzzSeeds() {
  rr::RaftBatch b;
  b.set_from_id(2);
  b.set_from_address("127.0.0.1:20160");
  rr::RaftMessage* m = b.add_messages();
  m->set_group_id(7);
  m->set_to_id(1);
  auto* a = m->mutable_append_entries();
  a->set_term(3);
  a->set_prev_log_index(10);
  a->add_entries()->set_type(1);
  a->mutable_entries(0)->set_data("k=v");
  a->add_entries()->set_type(2);
  m = b.add_messages();
  m->set_group_id(8);
  auto* s = m->mutable_install_snapshot();
  s->set_last_index(100);
  s->set_data("marker");
  auto* server = s->mutable_conf()->add_servers();
  server->set_id(1);
  server->set_address("127.0.0.1:1");
  server->set_role(1);
  b.add_messages()->mutable_request_vote_result()->set_pre_vote(2);
  b.add_messages()->mutable_timeout_now()->set_term(4);
  b.add_messages()->mutable_read_probe()->set_term(4);
  // Answers to the first read round of term 4 (the read-rounds case below).
  rr::RaftBatch answers;
  answers.set_from_id(1);
  for (uint64_t voter : {2, 3, 3, 9}) {
    rr::RaftMessage* a = answers.add_messages();
    a->set_to_id(voter);  // read as the answer's sender
    a->mutable_read_probe_result()->set_term(4);
    a->mutable_read_probe_result()->set_seq(1);
    a->mutable_read_probe_result()->set_ok(true);
  }
  rr::SnapshotChunk chunk;
  chunk.set_group_id(1);
  chunk.set_from_id(2);
  chunk.set_data("abc");
  std::string entry = std::string(9, '\0') + "\x01" + "payload";
  std::string snapshot(32, '\0');
  snapshot[31] = 3;
  snapshot += "confdata";
  auto tagged = [](char tag, const std::string& body) { return std::string(1, tag) + body; };
  return {tagged(0, b.SerializeAsString()),
          tagged(1, chunk.SerializeAsString()),
          tagged(2, entry),
          tagged(3, snapshot),
          tagged(4, std::string(16, '\x01')),
          tagged(5, s->conf().SerializeAsString()),
          tagged(6, answers.SerializeAsString())};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {
      rr::RaftBatch b;
      if (!b.ParseFromString(input)) return 0;
      for (const rr::RaftMessage& m : b.messages()) {
        raft_message msg;
        if (!rr::DecodeMessage(m, b.from_id(), b.from_address().c_str(), &msg).ok()) continue;
        rr::RaftMessage again;
        FUZZ_CHECK(rr::EncodeMessage(m.group_id(), msg, &again).ok());
        rr::RaftMessage expect = m;
        expect.DiscardUnknownFields();  // fields of a newer sender are not carried
        expect.set_to_id(b.from_id());
        if (expect.has_install_snapshot()) {
          expect.mutable_install_snapshot()->set_transfer_id(0);
          expect.mutable_install_snapshot()->mutable_conf();  // an empty one is still present
        }
        FUZZ_CHECK(again.SerializeAsString() == expect.SerializeAsString());
        rr::ReleaseMessage(&msg);
      }
      return 0;
    }
    case 1: {
      rr::SnapshotChunk c;
      (void)c.ParseFromString(input);
      return 0;
    }
    case 2: {
      auto e = rr::DecodeEntryRecord(input);
      FUZZ_CHECK(e.ok() == (input.size() >= 10));
      return 0;
    }
    case 3: {
      auto s = rr::DecodeSnapshotRecord(input);
      if (s.ok()) FUZZ_CHECK(32 + s->configuration.size() + s->data.size() == input.size());
      return 0;
    }
    case 4: {
      auto h = rr::DecodeHardStateRecord(input);
      FUZZ_CHECK(h.ok() == (input.size() == 16));
      return 0;
    }
    case 6: {
      // Leader 1 in term 4 with voters 1-5 starts three rounds and counts the batch's read probe
      // answers, each as from its message's to_id.
      rr::RaftBatch b;
      if (!b.ParseFromString(input)) return 0;
      const uint64_t self = 1;
      const std::vector<uint64_t> voters = {1, 2, 3, 4, 5};
      rr::ReadRounds rounds;
      int answered = 0;
      for (int round = 0; round < 3; ++round) {
        rounds.Queue(
            4, [&](rustorium::Result<uint64_t>) { ++answered; }, 0);
        if (!rounds.StartRound(10 + static_cast<uint64_t>(round), 0, voters, self)) return 0;
      }
      std::map<uint64_t, std::set<uint64_t>> ok_from;  // seq -> distinct voters answering ok
      for (const rr::RaftMessage& m : b.messages()) {
        if (!m.has_read_probe_result()) continue;
        const rr::ReadProbeResult& a = m.read_probe_result();
        const bool counts = a.ok() && a.term() == 4 && m.to_id() != self &&
                            std::find(voters.begin(), voters.end(), m.to_id()) != voters.end();
        if (counts) ok_from[a.seq()].insert(m.to_id());
        if (rounds.Answer(a, m.to_id(), voters, self)) {
          FUZZ_CHECK(counts);
          FUZZ_CHECK(ok_from[a.seq()].size() + 1 > voters.size() / 2);
        }
      }
      for (auto& ready : rounds.TakeApplied(UINT64_MAX)) ready.done(ready.index);
      for (auto& done : rounds.TakeAll()) done(rustorium::Status::Aborted("end"));
      FUZZ_CHECK(answered == 3);
      return 0;
    }
    default: {
      rr::Configuration c;
      if (!c.ParseFromString(input)) return 0;
      c.DiscardUnknownFields();
      raft_configuration conf;
      if (!rr::DecodeConfiguration(c, &conf).ok()) return 0;
      rr::Configuration again;
      rr::EncodeConfiguration(conf, &again);
      FUZZ_CHECK(again.SerializeAsString() == c.SerializeAsString());
      raft_configuration_close(&conf);
      return 0;
    }
  }
}
