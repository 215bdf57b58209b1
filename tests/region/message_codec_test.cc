#include "region/raft/message_codec.h"

#include <gtest/gtest.h>

namespace rustorium::raft {
namespace {

RaftMessage RoundTrip(const RaftMessage& in) {
  raft_message msg;
  Status s = DecodeMessage(in, 2, "127.0.0.1:2", &msg);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(msg.server_id, 2u);
  RaftMessage out;
  EXPECT_TRUE(EncodeMessage(in.group_id(), msg, &out).ok());
  ReleaseMessage(&msg);
  return out;
}

TEST(MessageCodec, EveryMessageTypeRoundTrips) {
  RaftMessage a;
  a.set_group_id(7);
  a.set_to_id(2);
  auto* ae = a.mutable_append_entries();
  ae->set_term(5);
  ae->set_prev_log_index(9);
  ae->set_prev_log_term(4);
  ae->set_leader_commit(8);
  for (uint32_t type : {1u, 2u, 3u}) {
    Entry* e = ae->add_entries();
    e->set_term(5);
    e->set_type(type);
    e->set_data(type == 2 ? "" : "data" + std::to_string(type));
  }
  EXPECT_EQ(RoundTrip(a).SerializeAsString(), a.SerializeAsString());

  RaftMessage v;
  v.set_group_id(1);
  v.set_to_id(2);
  auto* rv = v.mutable_request_vote();
  rv->set_term(3);
  rv->set_candidate_id(2);
  rv->set_last_log_index(10);
  rv->set_last_log_term(2);
  rv->set_disrupt_leader(true);
  rv->set_pre_vote(true);
  EXPECT_EQ(RoundTrip(v).SerializeAsString(), v.SerializeAsString());

  RaftMessage s;
  s.set_group_id(1);
  s.set_to_id(2);
  auto* is = s.mutable_install_snapshot();
  is->set_term(3);
  is->set_last_index(100);
  is->set_last_term(3);
  is->set_conf_index(1);
  is->set_data(std::string("mark\0er", 7));
  for (uint64_t id : {1, 2, 3}) {
    Server* srv = is->mutable_conf()->add_servers();
    srv->set_id(id);
    srv->set_address("127.0.0.1:" + std::to_string(id));
    srv->set_role(id == 3 ? RAFT_STANDBY : RAFT_VOTER);
  }
  EXPECT_EQ(RoundTrip(s).SerializeAsString(), s.SerializeAsString());

  RaftMessage r;
  r.set_to_id(2);
  r.mutable_request_vote_result()->set_vote_granted(true);
  r.mutable_request_vote_result()->set_pre_vote(raft_tribool_true);
  EXPECT_EQ(RoundTrip(r).SerializeAsString(), r.SerializeAsString());
  RaftMessage t;
  t.set_to_id(2);
  t.mutable_timeout_now()->set_term(9);
  EXPECT_EQ(RoundTrip(t).SerializeAsString(), t.SerializeAsString());
  RaftMessage ar;
  ar.set_to_id(2);
  ar.mutable_append_entries_result()->set_rejected(4);
  EXPECT_EQ(RoundTrip(ar).SerializeAsString(), ar.SerializeAsString());
}

TEST(MessageCodec, MalformedMessagesAreRefused) {
  raft_message msg;
  RaftMessage empty;
  EXPECT_EQ(DecodeMessage(empty, 2, "a", &msg).code(), StatusCode::kInvalidArgument);

  RaftMessage bad_type;
  bad_type.mutable_append_entries()->add_entries()->set_type(4);
  EXPECT_EQ(DecodeMessage(bad_type, 2, "a", &msg).code(), StatusCode::kInvalidArgument);

  RaftMessage bad_tribool;
  bad_tribool.mutable_request_vote_result()->set_pre_vote(3);
  EXPECT_EQ(DecodeMessage(bad_tribool, 2, "a", &msg).code(), StatusCode::kInvalidArgument);

  for (int variant = 0; variant < 4; ++variant) {
    RaftMessage m;
    auto* conf = m.mutable_install_snapshot()->mutable_conf();
    Server* s1 = conf->add_servers();
    s1->set_id(1);
    s1->set_address("127.0.0.1:1");
    Server* s2 = conf->add_servers();
    s2->set_id(2);
    s2->set_address("127.0.0.1:2");
    if (variant == 0) s2->set_id(0);
    if (variant == 1) s2->set_id(1);    // duplicate id
    if (variant == 2) s2->set_role(7);  // no such role
    if (variant == 3) s2->set_address(std::string("127.0.0.1\0:2", 12));
    EXPECT_EQ(DecodeMessage(m, 2, "a", &msg).code(), StatusCode::kInvalidArgument) << variant;
  }
}

TEST(MessageCodec, RaftErrorsMapToStatusCodes) {
  EXPECT_TRUE(FromRaftError(0, nullptr).ok());
  EXPECT_EQ(FromRaftError(RAFT_NOTLEADER, nullptr).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromRaftError(RAFT_LEADERSHIPLOST, nullptr).code(), StatusCode::kAborted);
  EXPECT_EQ(FromRaftError(RAFT_IOERR, "disk").code(), StatusCode::kIOError);
  EXPECT_NE(FromRaftError(RAFT_IOERR, "disk").message().find("disk"), std::string::npos);
}

RaftMessage AppendOf(int entries, std::size_t entry_bytes) {
  RaftMessage m;
  m.set_group_id(5);
  m.set_to_id(2);
  AppendEntries* a = m.mutable_append_entries();
  a->set_term(7);
  a->set_prev_log_index(100);
  a->set_prev_log_term(6);
  a->set_leader_commit(100 + entries - 2);
  for (int i = 0; i < entries; ++i) {
    Entry* e = a->add_entries();
    e->set_term(i < 3 ? 6 : 7);
    e->set_type(1);
    e->set_data(std::string(entry_bytes, static_cast<char>('a' + i % 26)));
  }
  return m;
}

// A lagging follower's AppendEntries could exceed the frame and was never delivered.
TEST(MessageCodec, LargeAppendEntriesSplitIntoConsecutiveValidOnes) {
  const RaftMessage all = AppendOf(20, 1000);
  const std::size_t max = 3500;
  const std::vector<RaftMessage> parts = SplitAppendEntries(all, max);
  ASSERT_GT(parts.size(), 1u);
  uint64_t prev_index = 100, prev_term = 6;
  int next = 0;
  for (const RaftMessage& p : parts) {
    EXPECT_LE(p.ByteSizeLong(), max);
    EXPECT_EQ(p.group_id(), 5u);
    EXPECT_EQ(p.to_id(), 2u);
    const AppendEntries& a = p.append_entries();
    EXPECT_EQ(a.term(), 7u);
    EXPECT_EQ(a.prev_log_index(), prev_index);
    EXPECT_EQ(a.prev_log_term(), prev_term);
    ASSERT_GT(a.entries_size(), 0);
    for (const Entry& e : a.entries()) {
      EXPECT_EQ(e.data(), all.append_entries().entries(next).data());
      EXPECT_EQ(e.term(), all.append_entries().entries(next).term());
      ++next;
    }
    prev_index += a.entries_size();
    prev_term = a.entries(a.entries_size() - 1).term();
    EXPECT_EQ(a.leader_commit(), std::min<uint64_t>(118, prev_index))
        << "a part never lets the follower commit past its own last entry";
  }
  EXPECT_EQ(next, 20);

  // One entry larger than the limit goes alone; small messages and other types pass whole.
  const auto big = SplitAppendEntries(AppendOf(3, 5000), 3500);
  ASSERT_EQ(big.size(), 3u);
  for (const RaftMessage& p : big) EXPECT_EQ(p.append_entries().entries_size(), 1);
  const auto small = SplitAppendEntries(AppendOf(2, 10), 3500);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].SerializeAsString(), AppendOf(2, 10).SerializeAsString());
  RaftMessage vote;
  vote.mutable_request_vote()->set_term(3);
  EXPECT_EQ(SplitAppendEntries(vote, 1).size(), 1u);
}

}  // namespace
}  // namespace rustorium::raft
