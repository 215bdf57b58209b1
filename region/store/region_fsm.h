// RegionFsm: the state machine of one region's Raft group. Applying a command stages, into one
// WriteBatch written with one write, the data, the region's authenticated index (a sparse
// Merkle tree keyed by the byte sponge of each key, valued by the sponge of its value) and the
// applied index, so data and index never disagree after a crash. The commands the Raft backend
// applies together go in runs of disjoint keys and clients, one tree version per run, keyed by
// the run's last applied index (ApplyBatch).
//
// Layout in the engine (region/keys.h):
//   default  DataKey(key)              -> value (data keys are global: regions partition them)
//   index    the tree with id = region id (proof/smt)
//   meta     RegionApplyStateKey(id)   -> applied index, state (ApplyState)
//            RegionLocalStateKey(id)   -> the region's metadata (meta.proto's Region)
//            RegionSession*Key(id, ...) -> the region's write sessions (region/store/sessions.h)
//
// A command with a WriteSession is applied once per client and sequence number: a retry is
// answered with the stored result (`replayed`) and changes nothing but the applied index.
//
// A Split command (command.proto) cuts the range in two inside one apply: in one engine write
// the region keeps the left half (its tree loses the right half's keys in one version at the
// split's index), and the new region gets the right half: its tree built in bulk from the data
// at version kSplitInitIndex, a copy of the write sessions, its metadata, applied index and
// Raft state (MultiRaft::StageSplitGroup). The observer hears of it afterwards.
//
// Merges (command.proto's PrepareMerge, CommitMerge, RollbackMerge; TiKV's prepare/commit
// merge): the source region prepares (no more writes or splits; its metadata records the merge),
// then the target's CommitMerge brings the local source replica up to the prepare, from the
// source's local Raft log when it lags (MergeHooks), and in one engine write takes the source's
// keys into the target's tree (one version at the commit's index), its range, its write
// sessions, and deletes the source's state. A replica whose source is not ready (not hosted
// here, or its log lacks the prepare) applies the commands before the CommitMerge and waits: the
// Raft backend offers the rest again (StateMachine::ApplyBatch).
//
// Snapshots stream the region's metadata, then its data, then its session records. The follower
// stages each chunk in the engine as it arrives (SnapshotStagingKey: memory holds one chunk, not
// the region); once the last chunk is in, it marks the install in the meta record, moves the staged
// records over the region's data in bounded batches, and rebuilds the tree at the snapshot's
// applied index. Each step is marked first, so a crash anywhere finishes the install or the rebuild
// on the next open.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "proof/smt/sparse_merkle_tree.h"
#include "region/meta.pb.h"
#include "region/raft/state_machine.h"
#include "region/store/command.pb.h"
#include "region/store/root_statement.h"
#include "region/store/sessions.h"

namespace rustorium::store {

// A region's identity and key range [start, end); an empty end is unbounded.
struct RegionRange {
  uint64_t id = 0;
  std::string start;
  std::string end;
  bool Contains(std::string_view key) const { return key >= start && (end.empty() || key < end); }
};

// What a read answers: the value (nullopt when absent) and the proof of it at `root`.
struct ProvenRead {
  std::optional<std::string> value;
  uint64_t applied_index = 0;
  proof::Fr root;
  proof::SmtProof proof;
  meta::RegionEpoch epoch;  // the region's epoch the read was checked against
};

// The applied index (and Raft log start, MultiRaft::StageSplitGroup) of a region made by a
// split: TiKV's RAFT_INIT_LOG_INDEX.
inline constexpr uint64_t kSplitInitIndex = 5;

class RegionFsm;

// What a merge's commit needs from the store around the target region (Store provides it).
// Called on the apply worker.
class MergeHooks {
 public:
  virtual ~MergeHooks() = default;
  // Runs `fn` with the state machine of region `id` on this store (nullptr when there is none),
  // which stays alive while `fn` runs.
  virtual Status WithRegion(uint64_t id, const std::function<Status(RegionFsm*)>& fn) = 0;
  // The commands (index, command) of region `id`'s local Raft log after index `after` up to
  // `through`, when the log holds entry `through` with term `term` (then every entry up to it is
  // the committed one: Raft's log matching); nullopt when it does not (yet).
  using LogCommands = std::vector<std::pair<uint64_t, std::string>>;
  virtual Result<std::optional<LogCommands>> CommittedCommands(uint64_t id, uint64_t after,
                                                               uint64_t through, uint64_t term) = 0;
};

// Whether two regions have their replicas on the same stores (a merge needs it).
bool SameStores(const meta::Region& a, const meta::Region& b);

// MergeHooks::CommittedCommands from the Raft log `engine` holds for `group`.
Result<std::optional<MergeHooks::LogCommands>> ReadCommittedCommands(engine::Engine* engine,
                                                                     uint64_t group, uint64_t after,
                                                                     uint64_t through,
                                                                     uint64_t term);

class RegionFsm : public raft::StateMachine {
 public:
  // Opens the region's state in `engine` (not owned), finishing an interrupted index rebuild or
  // snapshot install. The metadata this replica recorded (RegionLocalStateKey: what splits and
  // snapshots made of it) wins over `region`, which is recorded when there is none.
  static Result<std::unique_ptr<RegionFsm>> Open(engine::Engine* engine, meta::Region region,
                                                 proof::SmtOptions tree_options = {});
  // The same for a region known by its range only (no epoch, no peers: tests).
  static Result<std::unique_ptr<RegionFsm>> Open(engine::Engine* engine, RegionRange range,
                                                 proof::SmtOptions tree_options = {});
  // Whether `engine` holds a recorded state of region `id` (RegionLocalStateKey).
  static Result<bool> Recorded(const engine::Engine& engine, uint64_t id);
  // Every region `engine` holds a recorded state of.
  static Result<std::vector<meta::Region>> RecordedRegions(const engine::Engine& engine);

  // Hears of the region's metadata changing (a split, with the region it made; a snapshot
  // that brought another range or epoch): on the apply worker or the loop, after the change is
  // written. Set before the region's group starts.
  // A merge passes the id of the region it took in (`merged_source`, else 0).
  using Observer = std::function<void(const meta::Region& now, const meta::Region* created,
                                      uint64_t merged_source)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  // Where a CommitMerge finds its source (not owned; set before the region's group starts).
  // Without hooks a CommitMerge waits forever.
  void set_merge_hooks(MergeHooks* hooks) { hooks_ = hooks; }

  // `command` is a serialized Command; the result a serialized ApplyResult. A malformed or
  // refused command (region/store/command_limits.h) is a result with `error` that advances the
  // applied index (Raft must go on); an error Status only when the engine fails, and then the
  // Raft backend stops the store (base/fatal.h) rather than retrying the entry forever.
  Result<std::string> Apply(uint64_t index, std::string_view command) override;
  // Applies the batch in runs: a CommitMerge whose source is not ready ends the batch early (the
  // results cover the commands before it; the backend offers the rest again later). Consecutive
  // commands that touch disjoint keys and write sessions
  // share one tree version (keyed by the run's last index, so each touched tree node is hashed
  // once per run) and one engine write. Each result carries its own applied index and the run's
  // root and version (`root_index`): a proof of a command's write is a proof at that version.
  Result<std::vector<std::string>> ApplyBatch(std::span<const Entry> entries) override;
  uint64_t AppliedIndex() const override { return applied_.load(); }
  // Applies run on the store's apply worker: Read, Scan, Prove, Root, AppliedIndex and
  // OpenSnapshot read engine snapshots and immutable tree versions, so they run beside it.
  bool ApplyOffLoop() const override { return true; }
  Result<std::unique_ptr<raft::SnapshotReader>> OpenSnapshot() override;
  Result<std::unique_ptr<raft::SnapshotWriter>> BeginSnapshot() override;

  // The value of `key` and its proof, from one engine snapshot (so value, root and proof
  // agree). InvalidArgument when the key is outside the region. Without `with_proof` the
  // proof is left empty (value, applied index and root are still read together).
  Result<ProvenRead> Read(std::string_view key, bool with_proof = true) const;
  // The keys in [start, end) ∩ the region, at most `limit` and, past the first, no more than
  // `max_bytes` of keys, values and encoded proofs together, with their proofs, from one
  // engine snapshot. `more` tells whether a limit cut the scan.
  struct ScanResult {
    std::vector<std::pair<std::string, std::string>> kvs;
    std::vector<std::string> proofs;  // each pair's proof, encoded (SmtProof::EncodeBinary)
    uint64_t applied_index = 0;
    proof::Fr root;
    bool more = false;
    meta::RegionEpoch epoch;  // the epoch of the range the scan was clamped to
  };
  Result<ScanResult> Scan(std::string_view start, std::string_view end, std::size_t limit,
                          std::size_t max_bytes = SIZE_MAX) const;
  // The proof of `key` after applied index `index`, at the version of the run that applied it
  // (ApplyBatch: the run's last index, its result's root_index) while that version is kept;
  // NotFound once it is pruned.
  Result<proof::SmtProof> Prove(std::string_view key, uint64_t index) const {
    // A write's answer asks at its run's end, a version itself: no lookup of the covering one.
    Result<proof::SmtProof> at = tree_.Prove(TreeKey(key), index);
    if (!at.status().IsNotFound()) return at;
    ASSIGN_OR_RETURN(uint64_t version, tree_.VersionCovering(index));
    return tree_.Prove(TreeKey(key), version);
  }
  // What a split check finds (TiKV's size and keys checkers): the region's keys and their
  // bytes (keys and values), and, when it holds more than `max_keys` keys or `max_bytes` bytes,
  // the key at its middle (by bytes when over max_bytes, else by count; never its first key).
  struct SizeCheck {
    uint64_t keys = 0;
    uint64_t bytes = 0;
    std::string middle_key;  // empty: under both limits, or fewer than two keys
  };
  // Walks the region's data at one engine snapshot (any thread; twice when over a limit).
  Result<SizeCheck> CheckSize(uint64_t max_keys, uint64_t max_bytes) const;
  // The root at the newest applied version (zero for an empty region never written).
  Result<proof::Fr> Root() const { return tree_.Root(); }
  // The root the data implies, computed from scratch (the index-integrity check).
  Result<proof::Fr> RootFromData() const;

  // The region's range and metadata now (any thread; a split changes them on the apply worker).
  RegionRange range() const {
    std::lock_guard<std::mutex> lock(meta_mu_);
    return range_;
  }
  meta::Region region() const {
    std::lock_guard<std::mutex> lock(meta_mu_);
    return region_;
  }
  // Counts the metadata's changes: a caller that copied region() compares to see it is current.
  uint64_t meta_changes() const { return meta_changes_.load(); }
  // Whether a merge took this region into its target (its state is gone from the engine).
  bool merged() const { return merged_.load(); }
  // True from the moment a split narrows this region until its write is in the engine: the new
  // region's records are not there yet, so a store must not open it from elsewhere meanwhile.
  bool splitting() const { return splitting_.load(); }
  const SessionTable& sessions() const { return sessions_; }

 private:
  RegionFsm(engine::Engine* engine, meta::Region region, proof::SparseMerkleTree tree,
            proof::SmtOptions options, SessionTable sessions)
      : engine_(engine),
        region_(std::move(region)),
        range_{region_.id(), region_.start_key(), region_.end_key()},
        tree_(std::move(tree)),
        tree_options_(options),
        sessions_(std::move(sessions)) {}
  std::string MetaKey() const;
  // What the meta record says besides the applied index.
  enum class ApplyState : uint8_t {
    kReady = 0,
    kRebuilding = 1,  // the data is complete; the tree is rebuilt from it on open
    kInstalling = 2,  // a snapshot is staged completely; it replaces the data on open
  };
  void StageMeta(engine::WriteBatch& batch, uint64_t applied, ApplyState state) const;
  static void StageApplyState(engine::WriteBatch& batch, uint64_t region_id, uint64_t applied,
                              ApplyState state);
  // Replaces the region's metadata (the writer is the apply worker, or the loop with no apply
  // in flight).
  void SetRegion(const meta::Region& now);
  // ApplyBatch under apply_mu_.
  Result<std::vector<std::string>> ApplyBatchLocked(std::span<const Entry> entries);
  // Applies a Split at `index`, appending its serialized result to `out`.
  Status ApplySplit(uint64_t index, const Split& split, std::vector<std::string>& out);
  // Applies a PrepareMerge or a RollbackMerge at `index` (the source's side).
  Status ApplyMergeState(uint64_t index, const Command& command, std::vector<std::string>& out);
  // Applies a CommitMerge at `index` (the target's side); false, with nothing applied, when the
  // local source is not ready.
  Result<bool> ApplyCommitMerge(uint64_t index, const CommitMerge& commit,
                                std::vector<std::string>& out);
  // Writes a command that changes nothing but the applied index (and the metadata to `now`, when
  // given) as one tree version at `index`, appending `result` (with its root) to `out`.
  Status ApplyAlone(uint64_t index, ApplyResult result, const meta::Region* now,
                    std::vector<std::string>& out);
  // Validates `command` (`command_bytes` long serialized) at `index` and stages its data into
  // `batch` and its tree updates into `updates`: a refusal is a result with `error` and
  // nothing staged; an error Status only when the engine fails.
  Result<ApplyResult> Stage(uint64_t index, const Command& command, std::size_t command_bytes,
                            engine::WriteBatch& batch, std::vector<proof::SmtUpdate>& updates);
  struct Parsed {
    Command command;
    bool ok = false;  // false: malformed
  };
  // Applies a run of commands that touch disjoint keys and clients as one tree version (at the
  // run's last index) in one engine write, appending each serialized result to `out`. With
  // `tree_refusal` (a run of one whose keys collide in the tree), the command is refused with it.
  Status ApplyRun(std::span<const Entry> entries, std::span<const Parsed> parsed,
                  std::vector<std::string>& out, const std::string* tree_refusal = nullptr);
  // The tree updates that build the region's index from its data.
  Result<std::vector<proof::SmtUpdate>> UpdatesFromData() const;
  // Rebuilds the tree from the region's data at version `applied` (after a snapshot).
  Status RebuildIndex(uint64_t applied);
  // Replaces the region's data by its staged snapshot (in batches of about `batch_bytes`), then
  // rebuilds the tree at `applied`. Safe to repeat from the start after a crash.
  Status InstallStaged(uint64_t applied, std::size_t batch_bytes = 1 << 20);
  class Reader;
  class Writer;

  engine::Engine* engine_;
  // Held while a batch applies; a target's CommitMerge holds its source's too (always the right
  // neighbour's after the left's: merges go leftwards, so no cycle).
  std::mutex apply_mu_;
  std::atomic<bool> merged_{false};
  std::atomic<bool> splitting_{false};
  MergeHooks* hooks_ = nullptr;
  mutable std::mutex meta_mu_;  // guards region_ and range_ (written by one thread at a time)
  meta::Region region_;
  RegionRange range_;
  std::atomic<uint64_t> meta_changes_{0};
  Observer observer_;
  proof::SparseMerkleTree tree_;
  proof::SmtOptions tree_options_;
  SessionTable sessions_;
  std::atomic<uint64_t> applied_{0};
};

}  // namespace rustorium::store
