#include "region/store/region_fsm.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "base/codec.h"
#include "base/fault_point.h"
#include "proof/smt/proof.h"
#include "region/keys.h"
#include "region/raft/raft_log_store.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/root_statement.h"
#include "tests/engine_util.h"
#include "tests/kill_harness.h"
#include "tests/support/raft_cluster.h"
#include "tests/test_util.h"

namespace rustorium::store {
namespace {

using rustorium::testing::TempDir;

std::string Put(std::vector<std::pair<std::string, std::string>> kvs) {
  Command c;
  for (auto& [k, v] : kvs) {
    Mutation* m = c.mutable_write()->add_mutations();
    m->set_op(Mutation::PUT);
    m->set_key(k);
    m->set_value(v);
  }
  return c.SerializeAsString();
}

std::string Delete(const std::string& k) {
  Command c;
  Mutation* m = c.mutable_write()->add_mutations();
  m->set_op(Mutation::DELETE);
  m->set_key(k);
  return c.SerializeAsString();
}

std::string Cas(const std::string& k, std::optional<std::string> expected,
                std::optional<std::string> next) {
  Command c;
  CompareAndSwap* cas = c.mutable_cas();
  cas->set_key(k);
  cas->set_expect_exists(expected.has_value());
  if (expected) cas->set_expected(*expected);
  cas->mutable_set()->set_key(k);
  cas->mutable_set()->set_op(next ? Mutation::PUT : Mutation::DELETE);
  if (next) cas->mutable_set()->set_value(*next);
  return c.SerializeAsString();
}

ApplyResult MustApply(RegionFsm& fsm, uint64_t index, const std::string& command) {
  auto r = fsm.Apply(index, command);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  ApplyResult out;
  EXPECT_TRUE(out.ParseFromString(*r));
  EXPECT_EQ(out.applied_index(), index);
  return out;
}

proof::Fr RootOf(const ApplyResult& r) {
  auto root = RootFromBytes(r.root());
  EXPECT_TRUE(root.ok());
  return root.ok() ? *root : proof::Fr::Zero();
}

// Checks a read's proof against its root: inclusion of the value, or non-inclusion.
void ExpectVerified(const ProvenRead& r, const std::string& key) {
  std::optional<proof::Fr> value;
  if (r.value) value = TreeValue(*r.value);
  EXPECT_TRUE(proof::VerifyProof(r.root, TreeKey(key), value, r.proof).ok()) << key;
}

class RegionFsmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"), EngineOptionsFor({}));
    auto fsm = RegionFsm::Open(engine_.get(), {7, "b", "m"});
    ASSERT_TRUE(fsm.ok()) << fsm.status().ToString();
    fsm_ = std::move(*fsm);
  }
  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<RegionFsm> fsm_;
};

TEST_F(RegionFsmTest, WritesAndReadsCarryProofsThatVerify) {
  auto r = MustApply(*fsm_, 5, Put({{"b1", "one"}, {"c2", "two"}, {"l9", "nine"}}));
  EXPECT_TRUE(r.error().empty()) << r.error();
  EXPECT_EQ(fsm_->AppliedIndex(), 5u);
  EXPECT_EQ(RootOf(r), *fsm_->Root());
  auto read = fsm_->Read("c2");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->value, "two");
  EXPECT_EQ(read->applied_index, 5u);
  EXPECT_EQ(read->root, RootOf(r));
  ExpectVerified(*read, "c2");
  // A tampered value does not verify against the root.
  EXPECT_FALSE(proof::VerifyProof(read->root, TreeKey("c2"), TreeValue("tw0"), read->proof).ok());

  r = MustApply(*fsm_, 6, Delete("c2"));
  auto gone = fsm_->Read("c2");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->value.has_value());
  EXPECT_EQ(gone->root, RootOf(r));
  ExpectVerified(*gone, "c2");
  EXPECT_EQ(*fsm_->Root(), *fsm_->RootFromData());
  EXPECT_EQ(fsm_->Read("z").status().code(), StatusCode::kInvalidArgument) << "outside the region";
}

TEST_F(RegionFsmTest, RefusedCommandsChangeNothingButTheAppliedIndex) {
  MustApply(*fsm_, 1, Put({{"c", "1"}}));
  const proof::Fr before = *fsm_->Root();
  const std::string too_long(kMaxKeySize + 1, 'c');
  for (const std::string& bad :
       {Put({{"c", "2"}, {"z-outside", "x"}}), Put({{"", "empty key"}}), Put({{too_long, "v"}}),
        std::string("\xff\xff garbage"), Command().SerializeAsString(), Put({})}) {
    const uint64_t index = fsm_->AppliedIndex() + 1;
    auto r = MustApply(*fsm_, index, bad);
    EXPECT_FALSE(r.error().empty());
    EXPECT_EQ(RootOf(r), before);
    EXPECT_EQ(fsm_->AppliedIndex(), index);
  }
  EXPECT_EQ(fsm_->Read("c")->value, "1") << "the batch with an outside key applied nothing";
}

// Issue 18: the engine refused the 8,193-byte data key of an 8,192-byte user key, apply
// failed, and libraft retried the entry forever. Apply accepts keys and values up to the hard
// limits and refuses one byte more as a result.
TEST_F(RegionFsmTest, KeysAndValuesAtTheHardLimitsApplyAndOneByteMoreIsARefusal) {
  const std::string key = "c" + std::string(kMaxKeySize - 1, 'k');
  EXPECT_TRUE(MustApply(*fsm_, 1, Put({{key, "v"}})).error().empty());
  EXPECT_EQ(fsm_->Read(key)->value, "v");
  const ApplyResult longer = MustApply(*fsm_, 2, Put({{key + "k", "v"}}));
  EXPECT_NE(longer.error().find("max_key_size 8192"), std::string::npos) << longer.error();
  EXPECT_TRUE(MustApply(*fsm_, 3, Put({{"c", std::string(kMaxValueSize, 'v')}})).error().empty());
  EXPECT_EQ(fsm_->Read("c")->value->size(), kMaxValueSize);
  const ApplyResult larger = MustApply(*fsm_, 4, Put({{"d", std::string(kMaxValueSize + 1, 'v')}}));
  EXPECT_NE(larger.error().find("max_value_size"), std::string::npos) << larger.error();
  std::vector<std::pair<std::string, std::string>> many;
  for (std::size_t i = 0; i <= kMaxMutations; ++i) many.emplace_back("c" + std::to_string(i), "v");
  const ApplyResult too_many = MustApply(*fsm_, 5, Put(many));
  EXPECT_NE(too_many.error().find("max_mutations"), std::string::npos) << too_many.error();
  EXPECT_FALSE(fsm_->Read("c0")->value.has_value());
  EXPECT_EQ(fsm_->AppliedIndex(), 5u);
}

TEST(RegionFsmOpen, AnEngineWithoutRoomForTheLargestCommandIsRefused) {
  TempDir dir;
  auto engine = rustorium::testing::OpenScratchEngine(dir.Sub("db"));  // the engine's defaults
  ASSERT_TRUE(engine);
  auto fsm = RegionFsm::Open(engine.get(), {7, "b", "m"});
  EXPECT_EQ(fsm.status().code(), StatusCode::kInvalidArgument) << fsm.status().ToString();
}

TEST_F(RegionFsmTest, CompareAndSwap) {
  auto r = MustApply(*fsm_, 1, Cas("d", std::nullopt, "first"));
  EXPECT_TRUE(r.cas_succeeded());
  EXPECT_FALSE(r.cas_found());
  r = MustApply(*fsm_, 2, Cas("d", std::nullopt, "again"));
  EXPECT_FALSE(r.cas_succeeded());
  EXPECT_TRUE(r.cas_found());
  EXPECT_EQ(r.cas_previous(), "first");
  r = MustApply(*fsm_, 3, Cas("d", "wrong", "x"));
  EXPECT_FALSE(r.cas_succeeded());
  EXPECT_EQ(fsm_->Read("d")->value, "first");
  r = MustApply(*fsm_, 4, Cas("d", "first", "second"));
  EXPECT_TRUE(r.cas_succeeded());
  EXPECT_EQ(fsm_->Read("d")->value, "second");
  r = MustApply(*fsm_, 5, Cas("d", "second", std::nullopt));
  EXPECT_TRUE(r.cas_succeeded());
  EXPECT_FALSE(fsm_->Read("d")->value.has_value());
  EXPECT_EQ(*fsm_->Root(), *fsm_->RootFromData());
}

TEST_F(RegionFsmTest, RandomWorkloadKeepsIndexAndDataInAgreementAcrossReopen) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("region fsm workload seed: %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> model;
  for (uint64_t index = 1; index <= 300; ++index) {
    const std::string key =
        std::string(1, static_cast<char>('b' + rng() % 11)) + std::to_string(rng() % 40);
    switch (rng() % 3) {
      case 0: {
        const std::string v = "v" + std::to_string(rng());
        MustApply(*fsm_, index, Put({{key, v}}));
        model[key] = v;
        break;
      }
      case 1:
        MustApply(*fsm_, index, Delete(key));
        model.erase(key);
        break;
      default: {
        auto it = model.find(key);
        auto r = MustApply(
            *fsm_, index,
            Cas(key, it == model.end() ? std::nullopt : std::optional(it->second), "cas"));
        EXPECT_TRUE(r.cas_succeeded());
        model[key] = "cas";
      }
    }
  }
  EXPECT_EQ(*fsm_->Root(), *fsm_->RootFromData());
  const proof::Fr root = *fsm_->Root();
  fsm_.reset();
  auto again = RegionFsm::Open(engine_.get(), {7, "b", "m"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->AppliedIndex(), 300u);
  EXPECT_EQ(*(*again)->Root(), root);
  for (const auto& [k, v] : model) {
    auto r = (*again)->Read(k);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->value, v);
    ExpectVerified(*r, k);
  }
}

TEST_F(RegionFsmTest, SnapshotMovesTheRegionsDataAndRebuildsTheSameIndex) {
  for (uint64_t i = 1; i <= 50; ++i)
    MustApply(*fsm_, i, Put({{"c" + std::to_string(i), std::string(i, 'x')}}));
  MustApply(*fsm_, 51, Delete("c7"));
  TempDir other;
  auto engine2 = rustorium::testing::OpenScratchEngine(other.Sub("db"), EngineOptionsFor({}));
  // The follower has stale data in the range and a neighbour's key just outside it.
  ASSERT_TRUE(engine2->Put(engine::ColumnFamily::kDefault, keys::DataKey("c7"), "stale").ok());
  ASSERT_TRUE(engine2->Put(engine::ColumnFamily::kDefault, keys::DataKey("m"), "neighbour").ok());
  auto follower = RegionFsm::Open(engine2.get(), {7, "b", "m"});
  ASSERT_TRUE(follower.ok());
  auto reader = fsm_->OpenSnapshot();
  auto writer = (*follower)->BeginSnapshot();
  ASSERT_TRUE(reader.ok() && writer.ok());
  int chunks = 0;
  for (;;) {
    std::string chunk;
    auto more = (*reader)->Next(&chunk, 256);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ++chunks;
    ASSERT_TRUE((*writer)->Add(chunk).ok());
  }
  EXPECT_GT(chunks, 3);
  ASSERT_TRUE((*writer)->Finish((*reader)->applied_index()).ok());
  EXPECT_EQ((*follower)->AppliedIndex(), 51u);
  EXPECT_EQ(*(*follower)->Root(), *fsm_->Root());
  EXPECT_FALSE((*follower)->Read("c7")->value.has_value());
  EXPECT_EQ((*follower)->Read("c9")->value, std::string(9, 'x'));
  EXPECT_EQ(*engine2->Get(engine::ColumnFamily::kDefault, keys::DataKey("m")), "neighbour");
  // It goes on applying from there.
  auto r = MustApply(**follower, 52, Put({{"d", "after"}}));
  EXPECT_EQ(RootOf(r), *(*follower)->RootFromData());

  // A malformed chunk or a key outside the region is refused.
  auto w2 = (*follower)->BeginSnapshot();
  EXPECT_FALSE((*w2)
                   ->Add(std::string_view("\x00\x00\x00\x05"
                                          "ab",
                                          6))
                   .ok())
      << "length past the end";
  EXPECT_FALSE((*w2)
                   ->Add(std::string_view("\x00\x00\x00\x01"
                                          "z"
                                          "\x00\x00\x00\x00",
                                          9))
                   .ok())
      << "outside the region";
  EXPECT_TRUE((*w2)
                  ->Add(std::string_view("\x00\x00\x00\x01"
                                         "c"
                                         "\x00\x00\x00\x00",
                                         9))
                  .ok())
      << "a valid record";
}

// A command with a write session (client 42 unless told).
std::string WithSession(const std::string& command, uint64_t seq, uint64_t floor, uint64_t stamp_ms,
                        bool retry = false, uint64_t client = 42) {
  Command c;
  EXPECT_TRUE(c.ParseFromString(command));
  WriteSession* s = c.mutable_session();
  s->set_client_id(client);
  s->set_seq(seq);
  s->set_floor(floor);
  s->set_stamp_ms(stamp_ms);
  s->set_retry(retry);
  return c.SerializeAsString();
}

ApplyResult ApplyAt(RegionFsm& fsm, uint64_t index, const std::string& command) {
  auto r = fsm.Apply(index, command);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  ApplyResult out;
  EXPECT_TRUE(r.ok() && out.ParseFromString(*r));
  return out;
}

// Issue 18: a write retried after an unknown outcome was applied twice. With a session, the
// second application answers the first one's stored result and changes nothing.
TEST_F(RegionFsmTest, ARetriedWriteIsAppliedOnceAndAnsweredWithItsStoredResult) {
  const ApplyResult first = ApplyAt(*fsm_, 1, WithSession(Cas("c", std::nullopt, "1"), 1, 1, 1000));
  ASSERT_TRUE(first.cas_succeeded());
  // The same write again (a retry, and a plain duplicate in the log): the stored answer, the
  // data unchanged; without the session the swap would now fail.
  for (uint64_t index : {2u, 3u}) {
    const ApplyResult again =
        ApplyAt(*fsm_, index, WithSession(Cas("c", std::nullopt, "1"), 1, 1, 1100, index == 2));
    EXPECT_TRUE(again.replayed());
    EXPECT_TRUE(again.cas_succeeded());
    EXPECT_EQ(again.applied_index(), 1u);
    EXPECT_EQ(again.root(), first.root());
    EXPECT_EQ(fsm_->AppliedIndex(), index);
  }
  // A write the client has its answer for (below its floor) is refused, applied never.
  MustApply(*fsm_, 4, WithSession(Put({{"d", "x"}}), 2, 2, 1200));
  const ApplyResult stale =
      MustApply(*fsm_, 5, WithSession(Cas("c", std::nullopt, "1"), 1, 1, 1300));
  EXPECT_NE(stale.error().find("duplicate"), std::string::npos) << stale.error();
  EXPECT_EQ(fsm_->sessions().Remembered(42), std::set<uint64_t>{2});
  // A retry from a client the region never knew: refused, its outcome unknown.
  const ApplyResult unknown =
      MustApply(*fsm_, 6, WithSession(Put({{"e", "x"}}), 9, 9, 1300, true, 7));
  EXPECT_TRUE(unknown.session_refused());
  EXPECT_FALSE(fsm_->Read("e")->value.has_value());
  // A malformed session (floor above seq, client 0) is refused.
  EXPECT_FALSE(MustApply(*fsm_, 7, WithSession(Put({{"e", "x"}}), 3, 4, 1300)).error().empty());
  EXPECT_FALSE(
      MustApply(*fsm_, 8, WithSession(Put({{"e", "x"}}), 3, 3, 1300, false, 0)).error().empty());
  EXPECT_EQ(fsm_->Read("c")->value, "1");
  EXPECT_EQ(*fsm_->Root(), *fsm_->RootFromData());
  // The table survives a reopen.
  fsm_.reset();
  fsm_ = std::move(*RegionFsm::Open(engine_.get(), {7, "b", "m"}));
  EXPECT_TRUE(ApplyAt(*fsm_, 9, WithSession(Put({{"d", "x"}}), 2, 2, 1400, true)).replayed());
}

TEST_F(RegionFsmTest, SessionsExpireByTheLeadersStampAndTheUnansweredAreBounded) {
  MustApply(*fsm_, 1, WithSession(Put({{"c", "1"}}), 1, 1, 1000));
  // One millisecond inside the time to live: still remembered.
  MustApply(*fsm_, 2, WithSession(Put({{"d", "1"}}), 1, 1, 1000 + kSessionTtlMs, false, 8));
  EXPECT_TRUE(ApplyAt(*fsm_, 3, WithSession(Put({{"c", "1"}}), 1, 1, 1000 + kSessionTtlMs, true))
                  .replayed());
  // Past it (stamped by a later command of another client): forgotten, a retry refused.
  MustApply(*fsm_, 4, WithSession(Put({{"d", "2"}}), 2, 1, 1001 + 2 * kSessionTtlMs, false, 8));
  EXPECT_FALSE(fsm_->sessions().Remembered(42).has_value());
  EXPECT_TRUE(
      MustApply(*fsm_, 5, WithSession(Put({{"c", "1"}}), 1, 1, 1001 + 2 * kSessionTtlMs, true))
          .session_refused());
  // A client may leave kMaxUnansweredPerClient writes unanswered; one more is refused until
  // its floor rises.
  uint64_t index = 6;
  for (uint64_t seq = 1; seq <= kMaxUnansweredPerClient; ++seq)
    ASSERT_TRUE(MustApply(*fsm_, index++, WithSession(Put({{"f", "v"}}), seq, 1, 5000000, false, 9))
                    .error()
                    .empty());
  const uint64_t next = kMaxUnansweredPerClient + 1;
  EXPECT_NE(MustApply(*fsm_, index++, WithSession(Put({{"f", "v"}}), next, 1, 5000000, false, 9))
                .error()
                .find("too many unanswered"),
            std::string::npos);
  EXPECT_TRUE(MustApply(*fsm_, index++, WithSession(Put({{"f", "v"}}), next, 2, 5000000, false, 9))
                  .error()
                  .empty());
  EXPECT_EQ(fsm_->sessions().Remembered(9)->size(), kMaxUnansweredPerClient);
}

TEST_F(RegionFsmTest, TheSessionTableTravelsInTheSnapshot) {
  MustApply(*fsm_, 1, WithSession(Put({{"c", "1"}}), 1, 1, 1000));
  MustApply(*fsm_, 2, WithSession(Put({{"d", "1"}}), 5, 4, 1000, false, 8));
  TempDir other;
  auto engine2 = rustorium::testing::OpenScratchEngine(other.Sub("db"), EngineOptionsFor({}));
  auto follower = RegionFsm::Open(engine2.get(), {7, "b", "m"});
  ASSERT_TRUE(follower.ok());
  // The follower remembers a client the leader does not: the snapshot replaces its table.
  MustApply(**follower, 1, WithSession(Put({{"e", "1"}}), 1, 1, 1000, false, 77));
  auto reader = fsm_->OpenSnapshot();
  auto writer = (*follower)->BeginSnapshot();
  for (;;) {
    std::string chunk;
    auto more = (*reader)->Next(&chunk, 16);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ASSERT_TRUE((*writer)->Add(chunk).ok());
  }
  ASSERT_TRUE((*writer)->Finish((*reader)->applied_index()).ok());
  EXPECT_EQ((*follower)->sessions().size(), 2u);
  EXPECT_FALSE((*follower)->sessions().Remembered(77).has_value());
  const ApplyResult again =
      ApplyAt(**follower, 3, WithSession(Put({{"d", "1"}}), 5, 4, 1100, true, 8));
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.applied_index(), 2u);
  // A session record that does not parse is refused.
  auto w2 = (*follower)->BeginSnapshot();
  std::string bad;
  PutFixed32BE(bad, 0);
  PutFixed32BE(bad, 9 + 3);
  bad += std::string("c") + std::string(8, '\1') + "\xff\xff\xff";
  EXPECT_FALSE((*w2)->Add(bad).ok());
}

// Each staged record of the engine's snapshot staging area of region 7.
std::map<std::string, std::string> Staged(engine::Engine& e) {
  std::map<std::string, std::string> out;
  engine::IteratorOptions io;
  io.lower_bound = keys::SnapshotStagingPrefix(7);
  io.upper_bound = keys::SnapshotStagingEnd(7);
  auto it = e.NewIterator(engine::ColumnFamily::kDefault, io);
  for (it->SeekToFirst(); it->Valid(); it->Next())
    out[std::string(it->key().substr(io.lower_bound.size()))] = std::string(it->value());
  return out;
}

// Issue 18: an incoming snapshot was held whole in memory until its last chunk. Now each chunk
// goes to the engine as it arrives, and a crash after the last one finishes the install on open.
TEST_F(RegionFsmTest, AnIncomingSnapshotGoesToTheEngineChunkByChunkAndSurvivesACrash) {
  for (uint64_t i = 1; i <= 40; ++i)
    MustApply(*fsm_, i, Put({{"c" + std::to_string(i), std::string(20 + i, 'x')}}));
  TempDir other;
  auto engine2 = rustorium::testing::OpenScratchEngine(other.Sub("db"), EngineOptionsFor({}));
  ASSERT_TRUE(engine2->Put(engine::ColumnFamily::kDefault, keys::DataKey("c1"), "stale").ok());
  ASSERT_TRUE(engine2->Put(engine::ColumnFamily::kDefault, keys::DataKey("c99"), "gone").ok());
  auto follower = RegionFsm::Open(engine2.get(), {7, "b", "m"});
  ASSERT_TRUE(follower.ok());
  // An abandoned transfer's leftovers are cleared by the next one.
  ASSERT_TRUE(
      engine2->Put(engine::ColumnFamily::kDefault, keys::SnapshotStagingKey(7, "c5"), "old").ok());
  auto reader = fsm_->OpenSnapshot();
  auto writer = (*follower)->BeginSnapshot();
  ASSERT_TRUE(reader.ok() && writer.ok());
  EXPECT_TRUE(Staged(*engine2).empty());
  std::size_t sent = 0;
  for (;;) {
    std::string chunk;
    auto more = (*reader)->Next(&chunk, 200);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ASSERT_TRUE((*writer)->Add(chunk).ok());
    sent += chunk.size();
    // What arrived is in the engine already, not held by the writer.
    EXPECT_FALSE(Staged(*engine2).empty());
  }
  EXPECT_EQ(Staged(*engine2).size(), 40u);
  EXPECT_GT(sent, 1000u);
  // The install is marked, then the process "dies" before moving the data.
  SetFaultsForTest("store.snapshot_install@1");
  EXPECT_EQ((*writer)->Finish((*reader)->applied_index()).code(), StatusCode::kIOError);
  SetFaultsForTest("");
  writer->reset();
  follower->reset();
  auto reopened = RegionFsm::Open(engine2.get(), {7, "b", "m"});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->AppliedIndex(), 40u);
  EXPECT_EQ(*(*reopened)->Root(), *fsm_->Root());
  EXPECT_EQ((*reopened)->Read("c1")->value, std::string(21, 'x'));
  EXPECT_FALSE((*reopened)->Read("c99")->value.has_value());
  EXPECT_TRUE(Staged(*engine2).empty()) << "the staging area is emptied by the install";
  // The data the install wrote gives the same index.
  EXPECT_EQ(*(*reopened)->RootFromData(), *fsm_->Root());
}

TEST_F(RegionFsmTest, AnInterruptedIndexRebuildFinishesOnOpen) {
  for (uint64_t i = 1; i <= 20; ++i) MustApply(*fsm_, i, Put({{"e" + std::to_string(i), "v"}}));
  const proof::Fr root = *fsm_->Root();
  fsm_.reset();
  // What a crash between a snapshot's two writes leaves: data in place, tree dropped, the
  // rebuild marked.
  engine::WriteBatch batch;
  proof::SparseMerkleTree::StageDrop(batch, 7);
  std::string meta_key(1, 'r');
  PutFixed64BE(meta_key, 7);
  meta_key.push_back('a');
  std::string meta;
  PutFixed64BE(meta, 20);
  meta.push_back(1);
  batch.Put(engine::ColumnFamily::kMeta, meta_key, meta);
  ASSERT_TRUE(engine_->WriteSync(batch).ok());
  auto reopened = RegionFsm::Open(engine_.get(), {7, "b", "m"});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(*(*reopened)->Root(), root);
  EXPECT_EQ((*reopened)->AppliedIndex(), 20u);
}

// Issue 19: the commands applied in one batch share tree versions. Every command gets the
// result it would get applied alone (but the run's root), the run's root proves its writes, and
// the final root and data are those of applying the commands one at a time.
std::vector<ApplyResult> ApplyInBatch(RegionFsm& fsm, uint64_t first,
                                      const std::vector<std::string>& commands) {
  std::vector<raft::StateMachine::Entry> entries;
  for (std::size_t i = 0; i < commands.size(); ++i) entries.push_back({first + i, commands[i]});
  auto r = fsm.ApplyBatch(entries);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<ApplyResult> out;
  for (const std::string& bytes : r.ok() ? *r : std::vector<std::string>{}) {
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromString(bytes));
  }
  EXPECT_EQ(out.size(), commands.size());
  return out;
}

// The parts of a result that do not depend on batching.
std::string Outcome(ApplyResult r) {
  r.clear_root();
  r.clear_root_index();
  return r.ShortDebugString();
}

TEST_F(RegionFsmTest, BatchesShareTreeVersionsAndGiveEachCommandItsOwnResult) {
  const uint64_t seed = rustorium::testing::TestSeed();
  std::printf("region fsm batch seed: %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // The same commands: one at a time into this region, in batches into its twin in another
  // engine (data keys are global: two regions of one engine would share them).
  auto other = rustorium::testing::OpenScratchEngine(dir_.Sub("db2"), EngineOptionsFor({}));
  auto batched = RegionFsm::Open(other.get(), {7, "b", "m"});
  ASSERT_TRUE(batched.ok());
  std::vector<std::string> commands;
  for (int i = 0; i < 400; ++i) {
    const std::string key =
        std::string(1, static_cast<char>('b' + rng() % 3)) + std::to_string(rng() % 8);
    const uint64_t client = 1 + rng() % 4, seq = 1 + static_cast<uint64_t>(i) / 2;
    switch (rng() % 5) {
      case 0:
        commands.push_back(Put({{key, "v" + std::to_string(rng() % 3)}}));
        break;
      case 1:
        commands.push_back(Delete(key));
        break;
      case 2:
        commands.push_back(Cas(key, rng() % 2 ? std::nullopt : std::optional("v1"), "c"));
        break;
      case 3:  // a write and, sometimes, its retry right after (a replay in the same batch)
        commands.push_back(WithSession(Put({{key, "s"}}), seq, seq, 1000 + i, false, client));
        if (rng() % 2)
          commands.push_back(WithSession(Put({{key, "s"}}), seq, seq, 1000 + i, true, client));
        break;
      default:
        commands.push_back(Put({{key, "w"}, {"l" + std::to_string(rng() % 8), "x"}}));
    }
  }
  std::size_t next = 0;
  int shared = 0;
  while (next < commands.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 24, commands.size() - next);
    const std::vector<std::string> batch(commands.begin() + next, commands.begin() + next + n);
    const std::vector<ApplyResult> together = ApplyInBatch(**batched, next + 1, batch);
    for (std::size_t i = 0; i < together.size(); ++i) {
      const uint64_t index = next + 1 + i;
      const ApplyResult alone = ApplyAt(*fsm_, index, batch[i]);  // a replay names its first
      ASSERT_EQ(Outcome(together[i]), Outcome(alone)) << "command " << index;
      if (together[i].replayed()) continue;
      EXPECT_GE(together[i].root_index(), index);
      EXPECT_LE(together[i].root_index(), next + n);
      if (together[i].root_index() != index) shared++;
      if (!together[i].error().empty()) continue;
      // The run's root proves what the command wrote; asked at the command's own index, the
      // proof is the one at its run's root.
      Command c;
      ASSERT_TRUE(c.ParseFromString(batch[i]));
      if (c.has_cas() && !together[i].cas_succeeded()) continue;
      const Mutation& m = c.has_cas() ? c.cas().set() : c.write().mutations(0);
      auto p = (*batched)->Prove(m.key(), index);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      std::optional<proof::Fr> value;
      if (m.op() == Mutation::PUT) value = TreeValue(m.value());
      EXPECT_TRUE(proof::VerifyProof(RootOf(together[i]), TreeKey(m.key()), value, *p).ok())
          << "command " << index;
    }
    next += n;
    EXPECT_EQ((*batched)->AppliedIndex(), next);
    EXPECT_EQ(*(*batched)->Root(), *fsm_->Root()) << "after command " << next;
  }
  EXPECT_GT(shared, 100) << "commands of one batch share versions";
  EXPECT_EQ(*(*batched)->Root(), *(*batched)->RootFromData());
  // The session tables agree, also after a reopen.
  batched->reset();
  batched = RegionFsm::Open(other.get(), {7, "b", "m"});
  ASSERT_TRUE(batched.ok());
  for (uint64_t client = 1; client <= 4; ++client)
    EXPECT_EQ((*batched)->sessions().Remembered(client), fsm_->sessions().Remembered(client));
}

// Keys whose tree paths collide past the tree's depth: in a batch, the colliding command is
// refused alone, as it would be applied one at a time, and the batch's sessions stay right.
TEST(RegionFsmBatch, ACollisionInsideABatchRefusesOnlyTheCommandThatCollides) {
  TempDir dir;
  auto engine = rustorium::testing::OpenScratchEngine(dir.Sub("db"), EngineOptionsFor({}));
  auto other = rustorium::testing::OpenScratchEngine(dir.Sub("db2"), EngineOptionsFor({}));
  proof::SmtOptions tiny;
  tiny.max_levels = 2;  // two leaves: the third key collides with one of the first two
  auto alone = RegionFsm::Open(engine.get(), {1, "", ""}, tiny);
  auto batched = RegionFsm::Open(other.get(), {1, "", ""}, tiny);
  ASSERT_TRUE(alone.ok() && batched.ok());
  std::vector<std::string> commands;
  for (uint64_t i = 1; i <= 6; ++i)
    commands.push_back(WithSession(Put({{"k" + std::to_string(i), "v"}}), 1, 1, 1000, false, i));
  const std::vector<ApplyResult> together = ApplyInBatch(**batched, 1, commands);
  int refused = 0;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const ApplyResult one = ApplyAt(**alone, i + 1, commands[i]);
    EXPECT_EQ(Outcome(together[i]), Outcome(one)) << "command " << i + 1;
    refused += !one.error().empty();
  }
  EXPECT_GE(refused, 4) << "at most two keys fit";
  EXPECT_EQ(*(*batched)->Root(), *(*alone)->Root());
  EXPECT_EQ(*(*batched)->Root(), *(*batched)->RootFromData());
  for (uint64_t client = 1; client <= 6; ++client)
    EXPECT_EQ((*batched)->sessions().Remembered(client), (*alone)->sessions().Remembered(client));
}

// Three stores replicate a region through the multi-raft backend: every replica ends at the
// same applied index with the same root, the root the data implies.
TEST(RegionFsmReplicated, EveryReplicaHasTheSameRootAtTheSameIndex) {
  TempDir dir;
  raft::MultiRaftOptions o;
  o.tick = std::chrono::milliseconds(20);
  o.heartbeat = std::chrono::milliseconds(100);
  o.election = std::chrono::milliseconds(1000);
  std::vector<std::unique_ptr<raft::testing::TestStore>> stores;
  std::vector<raft::Member> peers;
  for (int i = 1; i <= 3; ++i) {
    stores.push_back(
        std::make_unique<raft::testing::TestStore>(i, dir.Sub("s" + std::to_string(i)), o));
    // Region 1 holds keys below "m", region 2 the rest.
    stores.back()->set_engine_options(EngineOptionsFor({}));
    stores.back()->set_machine_factory(
        [](engine::Engine* e, raft::GroupId g) -> std::unique_ptr<raft::StateMachine> {
          auto fsm = RegionFsm::Open(e, g == 1 ? RegionRange{1, "", "m"} : RegionRange{2, "m", ""});
          return fsm.ok() ? std::move(*fsm) : nullptr;
        });
    peers.push_back(stores.back()->member());
  }
  for (auto& s : stores) ASSERT_TRUE(s->Start({1, 2}, peers).ok());
  std::mt19937_64 rng(rustorium::testing::TestSeed());
  for (int i = 0; i < 60; ++i) {
    const raft::GroupId g = 1 + i % 2;
    const std::string key = (g == 1 ? "a" : "n") + std::to_string(rng() % 10);
    const std::string cmd = i % 5 == 4 ? Delete(key) : Put({{key, "v" + std::to_string(i)}});
    bool done = false;
    ASSERT_TRUE(raft::testing::WaitFor(
        [&] {
          for (auto& s : stores) {
            auto r = s->Propose(g, cmd);
            if (r.ok()) {
              done = true;
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(30)));
    ASSERT_TRUE(done);
  }
  auto state = [&](raft::testing::TestStore& s, raft::GroupId g) {
    return s.Sync([&] {
      auto* fsm = static_cast<RegionFsm*>(s.raft().state_machine(g));
      return std::make_pair(fsm->AppliedIndex(), fsm->Root()->ToHex());
    });
  };
  for (raft::GroupId g : {1, 2}) {
    ASSERT_TRUE(raft::testing::WaitFor(
        [&] {
          return state(*stores[0], g) == state(*stores[1], g) &&
                 state(*stores[1], g) == state(*stores[2], g);
        },
        std::chrono::seconds(30)));
    for (auto& s : stores) {
      const auto from_data = s->Sync([&] {
        return static_cast<RegionFsm*>(s->raft().state_machine(g))->RootFromData()->ToHex();
      });
      EXPECT_EQ(from_data, state(*s, g).second);
    }
  }
}

std::string SplitAt(const std::string& key, uint64_t new_id, uint64_t version) {
  Command c;
  c.mutable_split()->set_split_key(key);
  c.mutable_split()->set_new_region_id(new_id);
  c.mutable_split()->set_version(version);
  return c.SerializeAsString();
}

// A region with an epoch and peers, as a store opens it.
meta::Region RegionMeta(uint64_t id, const std::string& start, const std::string& end) {
  meta::Region r;
  r.set_id(id);
  r.set_start_key(start);
  r.set_end_key(end);
  r.mutable_epoch()->set_conf_ver(1);
  r.mutable_epoch()->set_version(1);
  for (uint64_t s = 1; s <= 3; ++s) {
    meta::Peer* p = r.add_peers();
    p->set_store_id(s);
    p->set_address("127.0.0.1:" + std::to_string(20160 + s));
  }
  return r;
}

TEST_F(RegionFsmTest, ASplitMovesTheUpperHalfIntoANewRegionWithItsOwnIndex) {
  fsm_.reset();
  auto opened = RegionFsm::Open(engine_.get(), RegionMeta(9, "b", "t"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  RegionFsm& fsm = **opened;
  std::vector<meta::Region> heard;
  std::optional<meta::Region> created;
  fsm.set_observer([&](const meta::Region& now, const meta::Region* made, uint64_t) {
    if (made != nullptr) created = *made;
    heard.push_back(now);
  });
  uint64_t index = 1;
  for (int i = 0; i < 40; ++i) {
    MustApply(fsm, index++, Put({{"k" + std::to_string(100 + i), "v" + std::to_string(i)}}));
  }
  MustApply(fsm, index++, WithSession(Put({{"c", "1"}}), 1, 1, 1000));
  const proof::Fr before = *fsm.Root();

  // Refusals change nothing but the applied index.
  for (const std::string& refused :
       {SplitAt("k120", 20, 2), SplitAt("u", 20, 1), SplitAt("a", 20, 1), SplitAt("k120", 0, 1),
        SplitAt("k120", 9, 1)}) {
    const ApplyResult r = MustApply(fsm, index++, refused);
    EXPECT_FALSE(r.error().empty());
    EXPECT_EQ(RootOf(r), before);
    EXPECT_EQ(r.regions_size(), 0);
  }
  EXPECT_EQ(fsm.range().end, "t");
  EXPECT_TRUE(heard.empty());

  const uint64_t split_index = index++;
  const ApplyResult split = MustApply(fsm, split_index, SplitAt("k120", 20, 1));
  ASSERT_TRUE(split.error().empty()) << split.error();
  ASSERT_EQ(split.regions_size(), 2);
  const meta::Region& left = split.regions(0);
  const meta::Region& right = split.regions(1);
  EXPECT_EQ(left.id(), 9u);
  EXPECT_EQ(left.start_key(), "b");
  EXPECT_EQ(left.end_key(), "k120");
  EXPECT_EQ(left.epoch().version(), 2u);
  EXPECT_EQ(right.id(), 20u);
  EXPECT_EQ(right.start_key(), "k120");
  EXPECT_EQ(right.end_key(), "t");
  EXPECT_EQ(right.epoch().version(), 2u);
  EXPECT_EQ(right.peers_size(), 3);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->id(), 20u);
  EXPECT_EQ(fsm.region().end_key(), "k120");
  EXPECT_EQ(RootOf(split), *fsm.RootFromData());
  EXPECT_NE(RootOf(split), before);

  // The left half keeps its keys; the right half's are no longer its.
  ExpectVerified(*fsm.Read("k119"), "k119");
  EXPECT_EQ(fsm.Read("k119")->value, "v19");
  EXPECT_FALSE(fsm.Read("k120").ok());
  // A write admitted before the split for a moved key is refused, and says so.
  const ApplyResult moved = MustApply(fsm, index++, Put({{"k130", "x"}}));
  EXPECT_TRUE(moved.key_not_in_region());
  EXPECT_FALSE(moved.error().empty());

  // The new region opens from what the split recorded: its range, its index at
  // kSplitInitIndex, the sessions, and a Raft log that starts after it.
  auto child = RegionFsm::Open(engine_.get(), RegionMeta(20, "", ""));
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ((*child)->range().start, "k120");
  EXPECT_EQ((*child)->range().end, "t");
  EXPECT_EQ((*child)->AppliedIndex(), kSplitInitIndex);
  EXPECT_EQ(*(*child)->Root(), *(*child)->RootFromData());
  const auto read = (*child)->Read("k139");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->value, "v39");
  ExpectVerified(*read, "k139");
  EXPECT_EQ(read->applied_index, kSplitInitIndex);
  EXPECT_EQ((*child)->sessions().size(), 1u);
  raft::RaftLogStore log(engine_.get());
  auto loaded = log.Load(20);
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->snapshot.has_value());
  EXPECT_EQ(loaded->snapshot->index, kSplitInitIndex);
  EXPECT_EQ(loaded->hard_state.term, kSplitInitIndex);
  EXPECT_TRUE(loaded->entries.empty());
  // It applies on from there.
  const ApplyResult next = MustApply(**child, kSplitInitIndex + 1, Put({{"k150", "new"}}));
  EXPECT_TRUE(next.error().empty());
  EXPECT_EQ(RootOf(next), *(*child)->RootFromData());

  // A repeated split (its key starts the region now) is done already.
  const ApplyResult again = MustApply(**child, kSplitInitIndex + 2, SplitAt("k120", 21, 2));
  EXPECT_TRUE(again.error().empty());
  ASSERT_EQ(again.regions_size(), 1);
  EXPECT_EQ(again.regions(0).id(), 20u);

  // Reopened, the left half keeps its narrowed range.
  opened->reset();
  auto reopened = RegionFsm::Open(engine_.get(), RegionMeta(9, "b", "t"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->range().end, "k120");
  EXPECT_EQ((*reopened)->region().epoch().version(), 2u);
  EXPECT_EQ(*(*reopened)->Root(), *(*reopened)->RootFromData());
  auto recorded = RegionFsm::RecordedRegions(*engine_);
  ASSERT_TRUE(recorded.ok());
  std::set<uint64_t> ids;
  for (const meta::Region& r : *recorded) ids.insert(r.id());
  EXPECT_EQ(ids, (std::set<uint64_t>{7, 9, 20})) << "the fixture's region 7 too";
}

TEST_F(RegionFsmTest, ASnapshotTakenAfterASplitNarrowsAReplicaThatMissedIt) {
  fsm_.reset();
  auto leader = RegionFsm::Open(engine_.get(), RegionMeta(9, "b", "t"));
  ASSERT_TRUE(leader.ok());
  uint64_t index = 1;
  for (int i = 0; i < 20; ++i)
    MustApply(**leader, index++, Put({{"k" + std::to_string(100 + i), "v"}}));
  ASSERT_TRUE(MustApply(**leader, index++, SplitAt("k110", 20, 1)).error().empty());
  MustApply(**leader, index++, Put({{"c", "after"}}));

  // A replica that never applied the split, and that already holds the new region's data
  // (it got the new region by its own snapshot): installing the old region's snapshot must
  // narrow its range and leave the new region's keys alone.
  TempDir other;
  auto engine2 = rustorium::testing::OpenScratchEngine(other.Sub("db"), EngineOptionsFor({}));
  ASSERT_TRUE(engine2->Put(engine::ColumnFamily::kDefault, keys::DataKey("k115"), "v").ok());
  auto follower = RegionFsm::Open(engine2.get(), RegionMeta(9, "b", "t"));
  ASSERT_TRUE(follower.ok());
  std::optional<meta::Region> heard;
  (*follower)->set_observer(
      [&](const meta::Region& now, const meta::Region*, uint64_t) { heard = now; });
  auto reader = (*leader)->OpenSnapshot();
  auto writer = (*follower)->BeginSnapshot();
  ASSERT_TRUE(reader.ok() && writer.ok());
  for (;;) {
    std::string chunk;
    auto more = (*reader)->Next(&chunk, 128);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ASSERT_TRUE((*writer)->Add(chunk).ok());
  }
  ASSERT_TRUE((*writer)->Finish((*reader)->applied_index()).ok());
  EXPECT_EQ((*follower)->range().end, "k110");
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->epoch().version(), 2u);
  EXPECT_EQ(*(*follower)->Root(), *(*leader)->Root());
  EXPECT_EQ(*engine2->Get(engine::ColumnFamily::kDefault, keys::DataKey("k115")), "v");
  // Reopened after the install, it keeps the narrowed range.
  follower->reset();
  auto reopened = RegionFsm::Open(engine2.get(), RegionMeta(9, "b", "t"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->range().end, "k110");
}

// The store around the regions of one engine, as a CommitMerge sees it: the state machines
// opened here, and the Raft logs in the engine.
class LocalRegions : public MergeHooks {
 public:
  explicit LocalRegions(engine::Engine* engine) : engine_(engine) {}
  std::map<uint64_t, RegionFsm*> fsms;
  Status WithRegion(uint64_t id, const std::function<Status(RegionFsm*)>& fn) override {
    auto it = fsms.find(id);
    return fn(it == fsms.end() ? nullptr : it->second);
  }
  Result<std::optional<LogCommands>> CommittedCommands(uint64_t id, uint64_t after,
                                                       uint64_t through, uint64_t term) override {
    return ReadCommittedCommands(engine_, id, after, through, term);
  }

 private:
  engine::Engine* engine_;
};

std::string Prepare(uint64_t target, const meta::RegionEpoch& target_epoch, uint64_t version,
                    uint64_t term) {
  Command c;
  PrepareMerge* p = c.mutable_prepare_merge();
  p->set_target_id(target);
  *p->mutable_target_epoch() = target_epoch;
  p->set_version(version);
  p->set_term(term);
  return c.SerializeAsString();
}

std::string Commit(const meta::Region& source) {
  Command c;
  *c.mutable_commit_merge()->mutable_source() = source;
  return c.SerializeAsString();
}

std::string Rollback(uint64_t prepare_index) {
  Command c;
  c.mutable_rollback_merge()->set_prepare_index(prepare_index);
  return c.SerializeAsString();
}

// Region 9 [b, t) with keys k100..k139 (and a write session), split at k120: region 20 takes
// [k120, t). Returns the next index of region 9.
uint64_t SplitNine(engine::Engine& engine, std::unique_ptr<RegionFsm>& left,
                   std::unique_ptr<RegionFsm>& right) {
  auto opened = RegionFsm::Open(&engine, RegionMeta(9, "b", "t"));
  EXPECT_TRUE(opened.ok());
  left = std::move(*opened);
  uint64_t index = 1;
  for (int i = 0; i < 40; ++i) {
    MustApply(*left, index++, Put({{"k" + std::to_string(100 + i), "v" + std::to_string(i)}}));
  }
  MustApply(*left, index++, WithSession(Put({{"c", "1"}}), 1, 1, 1000));
  EXPECT_TRUE(MustApply(*left, index++, SplitAt("k120", 20, 1)).error().empty());
  auto child = RegionFsm::Open(&engine, RegionMeta(20, "", ""));
  EXPECT_TRUE(child.ok());
  right = std::move(*child);
  return index;
}

TEST_F(RegionFsmTest, APreparedMergeCommitsIntoTheLeftNeighbourWithOneIndex) {
  fsm_.reset();
  std::unique_ptr<RegionFsm> left, right;
  uint64_t index = SplitNine(*engine_, left, right);
  LocalRegions hooks(engine_.get());
  hooks.fsms = {{9, left.get()}, {20, right.get()}};
  left->set_merge_hooks(&hooks);
  std::vector<uint64_t> merged_sources;
  left->set_observer([&](const meta::Region&, const meta::Region*, uint64_t merged) {
    merged_sources.push_back(merged);
  });
  uint64_t rindex = kSplitInitIndex + 1;
  MustApply(*right, rindex++, WithSession(Put({{"k150", "right"}}), 2, 1, 2000));
  const meta::RegionEpoch target_epoch = left->region().epoch();

  // A commit before any prepare, and prepares that cannot be, are refused.
  EXPECT_NE(MustApply(*left, index++, Commit(right->region())).error(), "");
  EXPECT_NE(MustApply(*right, rindex++, Prepare(9, target_epoch, 1, 5)).error(), "")
      << "a stale version";
  EXPECT_NE(MustApply(*right, rindex++, Prepare(20, target_epoch, 2, 5)).error(), "")
      << "itself as the target";
  EXPECT_FALSE(right->region().has_merging());

  // The prepare: a new version, the merge recorded; writes and splits are refused from then.
  const uint64_t prepare_index = rindex++;
  const ApplyResult prepared = MustApply(*right, prepare_index, Prepare(9, target_epoch, 2, 5));
  ASSERT_TRUE(prepared.error().empty()) << prepared.error();
  ASSERT_EQ(prepared.regions_size(), 1);
  const meta::Region source = prepared.regions(0);
  EXPECT_EQ(source.epoch().version(), 3u);
  EXPECT_EQ(source.merging().target_id(), 9u);
  EXPECT_EQ(source.merging().prepare_index(), prepare_index);
  EXPECT_EQ(source.merging().prepare_term(), 5u);
  const std::string late_write = WithSession(Put({{"k151", "late"}}), 3, 1, 3000);
  const ApplyResult refused = MustApply(*right, rindex++, late_write);
  EXPECT_TRUE(refused.key_not_in_region());
  EXPECT_NE(MustApply(*right, rindex++, SplitAt("k130", 21, 3)).error(), "");
  const ApplyResult again = MustApply(*right, rindex++, Prepare(9, target_epoch, 3, 5));
  EXPECT_TRUE(again.error().empty()) << "a repeated prepare is done already";
  EXPECT_EQ(again.regions(0).merging().prepare_index(), prepare_index);
  const proof::Fr source_root = *right->Root();
  const proof::Fr target_root = *left->Root();

  // A commit against another epoch of the target is refused, and says the target changed.
  meta::Region stale = source;
  stale.mutable_merging()->mutable_target_epoch()->set_version(1);
  const ApplyResult changed = MustApply(*left, index++, Commit(stale));
  EXPECT_NE(changed.error(), "");
  EXPECT_TRUE(changed.merge_target_changed());
  EXPECT_EQ(RootOf(changed), target_root);

  // The commit: one index over both ranges, the source's state gone.
  const uint64_t merge_index = index++;
  const ApplyResult merged = MustApply(*left, merge_index, Commit(source));
  ASSERT_TRUE(merged.error().empty()) << merged.error();
  ASSERT_EQ(merged.regions_size(), 1);
  const meta::Region& now = merged.regions(0);
  EXPECT_EQ(now.id(), 9u);
  EXPECT_EQ(now.start_key(), "b");
  EXPECT_EQ(now.end_key(), "t");
  EXPECT_EQ(now.epoch().version(), 4u);
  EXPECT_EQ(left->region().end_key(), "t");
  EXPECT_EQ(merged_sources, (std::vector<uint64_t>{20}));
  EXPECT_EQ(RootOf(merged), *left->RootFromData());
  for (const std::string key : {"k100", "k139", "k150"}) {
    const auto read = left->Read(key);
    ASSERT_TRUE(read.ok()) << key;
    ASSERT_TRUE(read->value.has_value()) << key;
    ExpectVerified(*read, key);
  }
  EXPECT_TRUE(right->merged());
  EXPECT_FALSE(right->Read("k150").ok());
  EXPECT_FALSE(*RegionFsm::Recorded(*engine_, 20));
  EXPECT_FALSE(raft::RaftLogStore(engine_.get()).Load(20)->snapshot.has_value());
  EXPECT_EQ(left->sessions().size(), 1u) << "both halves knew the client: one session";
  // What it changed, in the merged region's metadata.
  auto facts = ParseMergeStatement(now.origin_statement());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->merge_index, merge_index);
  EXPECT_EQ(facts->target_id, 9u);
  EXPECT_EQ(facts->target_version, 2u);
  EXPECT_EQ(facts->target_root, target_root);
  EXPECT_EQ(facts->source_id, 20u);
  EXPECT_EQ(facts->source_version, 3u);
  EXPECT_EQ(facts->source_prepare_index, prepare_index);
  EXPECT_EQ(facts->source_root, source_root);
  EXPECT_EQ(facts->merged_version, 4u);
  EXPECT_EQ(facts->merged_root, RootOf(merged));
  // The source's state machine answers nothing more; the commit sent again is refused.
  const ApplyResult late = MustApply(*right, rindex++, Put({{"k152", "x"}}));
  EXPECT_NE(late.error(), "");
  EXPECT_TRUE(MustApply(*left, index++, Commit(source)).merge_target_changed());
  // Writes go on over the whole range: the write the source refused applies when sent again
  // (its refusal was not remembered), and it reopens merged.
  const ApplyResult resent = MustApply(*left, index++, late_write);
  EXPECT_TRUE(resent.error().empty()) << resent.error();
  EXPECT_FALSE(resent.replayed());
  EXPECT_EQ(left->Read("k151")->value, "late");
  EXPECT_TRUE(MustApply(*left, index++, Put({{"k160", "after"}})).error().empty());
  left.reset();
  right.reset();
  auto reopened = RegionFsm::Open(engine_.get(), RegionMeta(9, "", ""));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->range().end, "t");
  EXPECT_EQ(*(*reopened)->Root(), *(*reopened)->RootFromData());
  std::set<uint64_t> ids;
  const auto recorded = RegionFsm::RecordedRegions(*engine_);
  ASSERT_TRUE(recorded.ok());
  for (const meta::Region& r : *recorded) ids.insert(r.id());
  EXPECT_EQ(ids, (std::set<uint64_t>{7, 9}));
}

TEST_F(RegionFsmTest, ARolledBackMergeTakesWritesAgain) {
  fsm_.reset();
  std::unique_ptr<RegionFsm> left, right;
  SplitNine(*engine_, left, right);
  uint64_t rindex = kSplitInitIndex + 1;
  const uint64_t prepare_index = rindex++;
  ASSERT_TRUE(
      MustApply(*right, prepare_index, Prepare(9, left->region().epoch(), 2, 5)).error().empty());
  EXPECT_NE(MustApply(*right, rindex++, Rollback(prepare_index + 1)).error(), "");
  const ApplyResult rolled = MustApply(*right, rindex++, Rollback(prepare_index));
  ASSERT_TRUE(rolled.error().empty()) << rolled.error();
  EXPECT_FALSE(right->region().has_merging());
  EXPECT_EQ(right->region().epoch().version(), 4u);
  EXPECT_TRUE(MustApply(*right, rindex++, Put({{"k150", "again"}})).error().empty());
}

TEST_F(RegionFsmTest, ACommitBringsALaggingSourceUpFromItsLogOrWaitsForIt) {
  fsm_.reset();
  std::unique_ptr<RegionFsm> left, right;
  uint64_t index = SplitNine(*engine_, left, right);
  LocalRegions hooks(engine_.get());
  left->set_merge_hooks(&hooks);
  // What the source's log holds here, its state machine behind it: a write, then the prepare.
  const meta::RegionEpoch target_epoch = left->region().epoch();
  raft::RaftLogStore log(engine_.get());
  auto append = [&](uint64_t i, uint64_t term, const std::string& command) {
    engine::WriteBatch batch;
    log.StageEntry(batch, 20, i, term, raft::kCommandEntry, command);
    ASSERT_TRUE(engine_->Write(batch).ok());
  };
  const uint64_t prepare_index = kSplitInitIndex + 2;
  append(kSplitInitIndex + 1, 6, Put({{"k150", "lagging"}}));
  meta::Region source = right->region();
  source.mutable_epoch()->set_version(3);
  meta::MergeState* m = source.mutable_merging();
  m->set_target_id(9);
  *m->mutable_target_epoch() = target_epoch;
  m->set_prepare_index(prepare_index);
  m->set_prepare_term(6);

  // Not hosted here: the commit waits, and so do the commands after it.
  const std::vector<std::string> batch = {Put({{"c", "2"}}), Commit(source), Put({{"d", "3"}})};
  std::vector<raft::StateMachine::Entry> entries;
  for (std::size_t i = 0; i < batch.size(); ++i) entries.push_back({index + i, batch[i]});
  auto waiting = left->ApplyBatch(entries);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u) << "the command before the commit applies";
  EXPECT_EQ(left->AppliedIndex(), index);
  index++;
  hooks.fsms = {{9, left.get()}, {20, right.get()}};
  // Hosted, but its log lacks the prepare, then holds it at another term: still waiting.
  EXPECT_TRUE(left->Apply(index, Commit(source)).status().code() == StatusCode::kBusy);
  append(prepare_index, 5, Prepare(9, target_epoch, 2, 6));
  EXPECT_TRUE(left->Apply(index, Commit(source)).status().code() == StatusCode::kBusy);
  EXPECT_EQ(right->AppliedIndex(), kSplitInitIndex) << "nothing of a log that may be replaced";
  // The log holds the prepare at its term: the source catches up from it, then merges.
  append(prepare_index, 6, Prepare(9, target_epoch, 2, 6));
  auto applied = ApplyInBatch(*left, index, {Commit(source), Put({{"d", "3"}})});
  ASSERT_EQ(applied.size(), 2u);
  ASSERT_TRUE(applied[0].error().empty()) << applied[0].error();
  EXPECT_EQ(applied[0].regions(0).end_key(), "t");
  EXPECT_TRUE(right->merged());
  const auto read = left->Read("k150");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->value, "lagging");
  ExpectVerified(*read, "k150");
  EXPECT_EQ(*left->Root(), *left->RootFromData());
}

}  // namespace
}  // namespace rustorium::store
