// Region split time: a region of --keys keys (96 MiB of keys and values by default, TiKV's
// split size) is split at its middle by one Split command (region/store/region_fsm.h), and the
// apply is timed: it moves the upper half's keys out of the region's index and builds the new
// region's index from them in bulk, during which the region's writes wait (the stall). Side by
// side, the peer's split: TiKV's split is a metadata change, timed here as the one engine
// write of the two regions' records and the applied index. Also checks that a proof from each
// half verifies at its root afterwards. Then the halves merge back (PrepareMerge, CommitMerge),
// and the commit's apply is timed the same way: it inserts the source's keys into the target's
// index; the peer's merge is the same metadata write.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "proof/smt/proof.h"
#include "region/keys.h"
#include "region/store/engine_limits.h"
#include "region/store/region_fsm.h"
#include "region/store/root_statement.h"

namespace fs = std::filesystem;
namespace st = rustorium::store;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Key(long i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%012ld", i);
  return buf;
}

st::ApplyResult MustParse(const rustorium::Result<std::string>& r) {
  st::ApplyResult out;
  if (!r.ok() || !out.ParseFromString(*r)) {
    std::fprintf(stderr, "apply failed: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return out;
}

bool Verifies(const st::RegionFsm& fsm, const std::string& key) {
  auto read = fsm.Read(key);
  if (!read.ok() || !read->value) return false;
  return rustorium::proof::VerifyProof(read->root, st::TreeKey(key), st::TreeValue(*read->value),
                                       read->proof)
      .ok();
}

}  // namespace

int main(int argc, char** argv) {
  long keys = 960000;
  long value_bytes = 100;
  std::string dir = "/tmp/rustorium-split-bench";
  CLI::App app{"Region split time (with the bulk index build) against a metadata-only split"};
  app.add_option("--keys", keys, "Keys in the region")
      ->check(CLI::Range(2L, 100000000L))
      ->capture_default_str();
  app.add_option("--value-bytes", value_bytes, "Bytes of each value")
      ->check(CLI::Range(1L, 1L << 20))
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(dir);
  rustorium::engine::StorageOptions so = st::EngineOptionsFor({});
  so.path = dir + "/db";
  so.sync_mode = rustorium::engine::SyncMode::kNone;
  auto engine = rustorium::engine::Engine::Open(so);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  rustorium::meta::Region region;
  region.set_id(1);
  region.mutable_epoch()->set_conf_ver(1);
  region.mutable_epoch()->set_version(1);
  auto fsm = st::RegionFsm::Open(engine->get(), region);
  if (!fsm.ok()) {
    std::fprintf(stderr, "%s\n", fsm.status().ToString().c_str());
    return 1;
  }

  // Load: commands of 1000 puts, 100 commands per apply batch (one tree version per batch).
  std::mt19937_64 rng(20);
  std::string value(static_cast<std::size_t>(value_bytes), 'v');
  uint64_t index = 0;
  const auto load_start = Clock::now();
  for (long next = 0; next < keys;) {
    std::vector<std::string> commands;
    for (int c = 0; c < 100 && next < keys; ++c) {
      st::Command command;
      for (int m = 0; m < 1000 && next < keys; ++m, ++next) {
        for (char& ch : value) ch = static_cast<char>('a' + rng() % 26);
        st::Mutation* mutation = command.mutable_write()->add_mutations();
        mutation->set_key(Key(next));
        mutation->set_value(value);
      }
      commands.push_back(command.SerializeAsString());
    }
    std::vector<rustorium::raft::StateMachine::Entry> entries;
    for (const std::string& c : commands) entries.push_back({++index, c});
    auto applied = (*fsm)->ApplyBatch(entries);
    if (!applied.ok()) {
      std::fprintf(stderr, "load failed: %s\n", applied.status().ToString().c_str());
      return 1;
    }
  }
  const double load_s = Seconds(Clock::now() - load_start);
  auto size = (*fsm)->CheckSize(0, 0);
  std::printf(
      "split benchmark: region of %ld keys, %.1f MiB of keys and values (loaded in %.1f s)\n", keys,
      size.ok() ? static_cast<double>(size->bytes) / (1 << 20) : 0.0, load_s);

  // Ours: the split command, timed as its apply (the region's writes wait this long).
  st::Command split;
  split.mutable_split()->set_split_key(size.ok() ? size->middle_key : Key(keys / 2));
  split.mutable_split()->set_new_region_id(2);
  split.mutable_split()->set_version(1);
  const auto split_start = Clock::now();
  const st::ApplyResult result = MustParse((*fsm)->Apply(++index, split.SerializeAsString()));
  const double split_s = Seconds(Clock::now() - split_start);
  if (!result.error().empty() || result.regions_size() != 2) {
    std::fprintf(stderr, "split refused: %s\n", result.error().c_str());
    return 1;
  }
  auto right = st::RegionFsm::Open(engine->get(), result.regions(1));
  const long moved = keys - keys / 2;
  const bool proofs = right.ok() && Verifies(**fsm, Key(0)) && Verifies(**right, Key(keys - 1));

  // Ours: the halves merge back (the right one prepared, then the left one's CommitMerge), the
  // commit's apply timed: it inserts the source's keys into the target's index.
  struct Local : st::MergeHooks {
    rustorium::engine::Engine* engine;
    st::RegionFsm* source;
    rustorium::Status WithRegion(
        uint64_t id, const std::function<rustorium::Status(st::RegionFsm*)>& fn) override {
      return fn(id == 2 ? source : nullptr);
    }
    rustorium::Result<std::optional<LogCommands>> CommittedCommands(uint64_t id, uint64_t after,
                                                                    uint64_t through,
                                                                    uint64_t term) override {
      return st::ReadCommittedCommands(engine, id, after, through, term);
    }
  } hooks;
  hooks.engine = engine->get();
  hooks.source = right.ok() ? right->get() : nullptr;
  (*fsm)->set_merge_hooks(&hooks);
  double merge_s = 0;
  bool merged = false;
  if (right.ok()) {
    st::Command prepare;
    prepare.mutable_prepare_merge()->set_target_id(1);
    *prepare.mutable_prepare_merge()->mutable_target_epoch() = result.regions(0).epoch();
    prepare.mutable_prepare_merge()->set_version(result.regions(1).epoch().version());
    const st::ApplyResult prepared =
        MustParse((*right)->Apply(st::kSplitInitIndex + 1, prepare.SerializeAsString()));
    st::Command commit;
    if (prepared.regions_size() == 1)
      *commit.mutable_commit_merge()->mutable_source() = prepared.regions(0);
    const auto merge_start = Clock::now();
    const st::ApplyResult m = MustParse((*fsm)->Apply(++index, commit.SerializeAsString()));
    merge_s = Seconds(Clock::now() - merge_start);
    merged = m.error().empty() && Verifies(**fsm, Key(keys - 1));
    if (!m.error().empty()) std::fprintf(stderr, "merge refused: %s\n", m.error().c_str());
  }

  // The peer's split: the regions' metadata and the applied index in one engine write.
  const auto meta_start = Clock::now();
  const int meta_rounds = 1000;
  for (int i = 0; i < meta_rounds; ++i) {
    rustorium::engine::WriteBatch batch;
    batch.Put(rustorium::engine::ColumnFamily::kMeta, rustorium::keys::RegionLocalStateKey(3),
              result.regions(0).SerializeAsString());
    batch.Put(rustorium::engine::ColumnFamily::kMeta, rustorium::keys::RegionLocalStateKey(4),
              result.regions(1).SerializeAsString());
    batch.Put(rustorium::engine::ColumnFamily::kMeta, rustorium::keys::RegionApplyStateKey(3),
              std::string(9, '\0'));
    if (!(*engine)->Write(batch).ok()) return 1;
  }
  const double meta_s = Seconds(Clock::now() - meta_start) / meta_rounds;

  std::printf("  ours: split apply %.3f s (%ld keys moved: %.0f keys/s; both indexes updated)\n",
              split_s, moved, static_cast<double>(moved) / split_s);
  std::printf("  peer: metadata-only split (TiKV's shape) %.1f us\n", meta_s * 1e6);
  std::printf("  ratio ours / peer: %.0fx; goal: the write stall <= 1 s (%s)\n", split_s / meta_s,
              split_s <= 1.0 ? "met" : "missed: the index build must move before the proposal");
  std::printf("  proofs of both halves verify: %s\n", proofs ? "yes" : "NO");
  std::printf(
      "  ours: merge back, commit apply %.3f s (%ld keys taken in: %.0f keys/s); peer: the "
      "same metadata write; ratio %.0fx; proofs after: %s\n",
      merge_s, moved, merge_s > 0 ? static_cast<double>(moved) / merge_s : 0.0, merge_s / meta_s,
      merged ? "verify" : "NO");
  fs::remove_all(dir);
  return proofs && merged ? 0 : 1;
}
