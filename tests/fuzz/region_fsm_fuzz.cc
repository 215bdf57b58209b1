// The replicated state machines' decoders (the region's and PD's): Raft log entries (splits and
// merges included) and snapshot chunks from a leader (the region's metadata record included),
// and the split and merge statements regions carry. Whatever the
// bytes, Apply answers a result (a refusal at worst) and never an error, a snapshot writer refuses
// or accepts, and the region's index always matches its data.
#include <memory>
#include <string>

#include "base/codec.h"
#include "region/pd/pd_fsm.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/region_fsm.h"
#include "region/store/root_statement.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/test_util.h"

namespace st = rustorium::store;

namespace {

struct Fixture {
  rustorium::testing::TempDir dir;
  std::unique_ptr<rustorium::engine::Engine> engine;
  std::unique_ptr<st::RegionFsm> fsm;
  std::unique_ptr<rustorium::pd::PdFsm> pd;
  uint64_t index = 0;
  Fixture() {
    rustorium::engine::StorageOptions o = st::EngineOptionsFor({});
    o.path = dir.Sub("db");
    o.sync_mode = rustorium::engine::SyncMode::kNone;
    o.block_cache_size = 8 << 20;
    engine = std::move(*rustorium::engine::Engine::Open(o));
    fsm = std::move(*st::RegionFsm::Open(engine.get(), {3, "a", "q"}));
    pd = std::move(*rustorium::pd::PdFsm::Open(engine.get()));
  }
};

Fixture& F() {
  static Fixture f;  // destroyed at exit: the scratch directory goes with it
  return f;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  st::Command put;
  auto* m = put.mutable_write()->add_mutations();
  m->set_key("abc");
  m->set_value("value");
  auto* d = put.mutable_write()->add_mutations();
  d->set_op(st::Mutation::DELETE);
  d->set_key("b");
  st::Command cas;
  cas.mutable_cas()->set_key("abc");
  cas.mutable_cas()->set_expect_exists(true);
  cas.mutable_cas()->set_expected("value");
  *cas.mutable_cas()->mutable_set() = *m;
  std::string record(
      "\x00\x00\x00\x02"
      "ab"
      "\x00\x00\x00\x01"
      "v",
      11);
  st::Command with_session = put;
  with_session.mutable_session()->set_client_id(42);
  with_session.mutable_session()->set_seq(3);
  with_session.mutable_session()->set_floor(2);
  with_session.mutable_session()->set_stamp_ms(1000);
  st::ClientSession session;
  session.set_floor(2);
  session.set_stamp_ms(1000);
  std::string session_record("\x00\x00\x00\x00", 4);
  const std::string suffix =
      std::string("c") + std::string(7, '\0') + "*" + session.SerializeAsString();
  rustorium::PutFixed32BE(session_record, static_cast<uint32_t>(suffix.size()));
  session_record += suffix;
  rustorium::pd::PdCommand reg;
  reg.mutable_register_store()->set_address("127.0.0.1:20161");
  rustorium::pd::PdCommand region;
  region.mutable_put_region()->set_id(4);
  region.mutable_put_region()->add_peers()->set_store_id(1);
  st::Command split;
  split.mutable_split()->set_split_key("m");
  split.mutable_split()->set_new_region_id(9);
  st::SplitFacts facts;
  facts.split_index = 9;
  facts.parent_id = 3;
  facts.split_key = "m";
  facts.left_id = 3;
  facts.right_id = 4;
  rustorium::meta::Region meta;
  meta.set_id(3);
  meta.set_start_key("a");
  meta.set_end_key("f");
  st::Command prepare;
  prepare.mutable_prepare_merge()->set_target_id(2);
  prepare.mutable_prepare_merge()->set_version(0);
  st::Command commit;
  rustorium::meta::Region source;
  source.set_id(4);
  source.set_start_key("q");
  source.mutable_merging()->set_target_id(3);
  source.mutable_merging()->set_prepare_index(7);
  *commit.mutable_commit_merge()->mutable_source() = source;
  st::Command rollback;
  rollback.mutable_rollback_merge()->set_prepare_index(7);
  st::MergeFacts merge_facts;
  merge_facts.merge_index = 12;
  merge_facts.target_id = 3;
  merge_facts.source_id = 4;
  std::string meta_record("\x00\x00\x00\x00", 4);
  rustorium::PutFixed32BE(meta_record, static_cast<uint32_t>(1 + meta.ByteSizeLong()));
  meta_record += "m" + meta.SerializeAsString();
  return {std::string(1, 0) + put.SerializeAsString(),
          std::string(1, 0) + split.SerializeAsString(),
          std::string(1, 1) + meta_record + record,
          std::string(1, 0) + cas.SerializeAsString(),
          std::string(1, 0) + with_session.SerializeAsString(),
          std::string(1, 1) + session_record,
          std::string(1, 1) + record,
          std::string(1, 2) + reg.SerializeAsString(),
          std::string(1, 2) + region.SerializeAsString(),
          std::string(1, 3) + st::SplitStatement(facts),
          std::string(1, 0) + prepare.SerializeAsString(),
          std::string(1, 0) + commit.SerializeAsString(),
          std::string(1, 0) + rollback.SerializeAsString(),
          std::string(1, 3) + st::MergeStatement(merge_facts)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = F();
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 4 == 3) {
    // A split statement (Region.origin_statement, from PD or a store): parsed or refused, and
    // what parses is exactly what it states.
    auto facts = st::ParseSplitStatement(input);
    if (facts.ok()) FUZZ_CHECK(st::SplitStatement(*facts) == input);
    auto merge = st::ParseMergeStatement(input);
    if (merge.ok()) FUZZ_CHECK(st::MergeStatement(*merge) == input);
  } else if (data[0] % 4 == 2) {
    auto r = f.pd->Apply(++f.index, input);
    FUZZ_CHECK(r.ok());
    rustorium::pd::PdResult result;
    FUZZ_CHECK(result.ParseFromString(*r));
  } else if (data[0] % 4 == 0) {
    auto r = f.fsm->Apply(++f.index, input);
    if (!r.ok() && r.status().code() == rustorium::StatusCode::kBusy) {
      // A CommitMerge whose source is not here waits (the Raft backend offers it again); this
      // region has no other one, so the fuzzer moves on as if it had been refused.
      st::Command c;
      FUZZ_CHECK(c.ParseFromArray(input.data(), static_cast<int>(input.size())) &&
                 c.has_commit_merge());
      --f.index;
      return 0;
    }
    FUZZ_CHECK(r.ok());
    st::ApplyResult result;
    FUZZ_CHECK(result.ParseFromString(*r));
    // A replay answers the index of the write's first application.
    FUZZ_CHECK(result.replayed() ? result.applied_index() < f.index
                                 : result.applied_index() == f.index);
    if (f.index % 256 == 0) FUZZ_CHECK(*f.fsm->Root() == *f.fsm->RootFromData());
    if (f.fsm->region().has_merging()) {
      // A prepared merge would refuse every write after it: rolled back, so the fuzzer's next
      // commands reach the write path again.
      st::Command back;
      back.mutable_rollback_merge()->set_prepare_index(f.fsm->region().merging().prepare_index());
      auto rolled = f.fsm->Apply(++f.index, back.SerializeAsString());
      FUZZ_CHECK(rolled.ok() && !f.fsm->region().has_merging());
    }
  } else {
    auto w = f.fsm->BeginSnapshot();
    FUZZ_CHECK(w.ok());
    (void)(*w)->Add(input);  // refused or taken; never installed here
  }
  return 0;
}
