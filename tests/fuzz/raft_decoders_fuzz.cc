// The multi-raft decoders: Raft batches and snapshot chunks from peer stores, and the Raft
// log store's records read from disk. They may refuse, never crash or leak; a message they
// accept re-encodes to the same body.
#include <string>
#include <string_view>

#include "region/raft/message_codec.h"
#include "region/raft/raft_log_store.h"
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
          tagged(5, s->conf().SerializeAsString())};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
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
