#include "region/store/region_fsm.h"

#include <spdlog/spdlog.h>

#include <set>

#include "base/codec.h"
#include "base/fault_point.h"
#include "base/quote.h"
#include "region/keys.h"
#include "region/raft/multi_raft.h"
#include "region/raft/raft_log_store.h"
#include "region/store/command_limits.h"
#include "region/store/engine_limits.h"
#include "region/store/root_statement.h"

namespace rustorium::store {

namespace {

using engine::ColumnFamily;

using keys::DataKey;

// The end of the region's data in the engine.
std::string DataEnd(const RegionRange& r) { return keys::DataEnd(r.end); }

// Snapshot records: a length-prefixed key, then a length-prefixed value (base/codec.h). An
// empty key marks a record that is not data: the region's metadata (the value starts with
// kRegionRecord) or a session record (the value starts with the record's tag).
constexpr char kRegionRecord = 'm';

// A split takes the tree value of a value longer than this from the old tree's leaf instead of
// hashing the value again.
constexpr std::size_t kRehashValueBytes = 1024;

}  // namespace

std::string RegionFsm::MetaKey() const { return keys::RegionApplyStateKey(range_.id); }

void RegionFsm::StageApplyState(engine::WriteBatch& batch, uint64_t region_id, uint64_t applied,
                                ApplyState state) {
  std::string v;
  PutFixed64BE(v, applied);
  v.push_back(static_cast<char>(state));
  batch.Put(ColumnFamily::kMeta, keys::RegionApplyStateKey(region_id), v);
}

void RegionFsm::StageMeta(engine::WriteBatch& batch, uint64_t applied, ApplyState state) const {
  StageApplyState(batch, range_.id, applied, state);
}

void RegionFsm::SetRegion(const meta::Region& now) {
  {
    std::lock_guard<std::mutex> lock(meta_mu_);
    region_ = now;
    range_ = RegionRange{now.id(), now.start_key(), now.end_key()};
  }
  meta_changes_++;
}

Result<bool> RegionFsm::Recorded(const engine::Engine& engine, uint64_t id) {
  ASSIGN_OR_RETURN(std::optional<std::string> v,
                   engine.Get(ColumnFamily::kMeta, keys::RegionLocalStateKey(id)));
  return v.has_value();
}

Result<std::vector<meta::Region>> RegionFsm::RecordedRegions(const engine::Engine& engine) {
  std::vector<meta::Region> out;
  engine::IteratorOptions io;
  io.prefix = std::string(1, keys::kRegionMetaTag);
  auto it = engine.NewIterator(ColumnFamily::kMeta, io);
  const std::size_t size = keys::RegionLocalStateKey(0).size();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != size || it->key().back() != 'm') continue;
    meta::Region r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        r.id() != GetFixed64BE(it->key().substr(1))) {
      return Status::Corruption("region metadata record malformed");
    }
    out.push_back(std::move(r));
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::unique_ptr<RegionFsm>> RegionFsm::Open(engine::Engine* engine, RegionRange range,
                                                   proof::SmtOptions tree_options) {
  meta::Region region;
  region.set_id(range.id);
  region.set_start_key(range.start);
  region.set_end_key(range.end);
  return Open(engine, std::move(region), tree_options);
}

Result<std::unique_ptr<RegionFsm>> RegionFsm::Open(engine::Engine* engine, meta::Region region,
                                                   proof::SmtOptions tree_options) {
  if (region.id() == 0) return Status::InvalidArgument("region id must be > 0");
  ASSIGN_OR_RETURN(std::optional<std::string> recorded,
                   engine->Get(ColumnFamily::kMeta, keys::RegionLocalStateKey(region.id())));
  if (recorded.has_value()) {
    meta::Region r;
    if (!r.ParseFromString(*recorded) || r.id() != region.id())
      return Status::Corruption("region " + std::to_string(region.id()) +
                                " metadata record malformed");
    region = std::move(r);
  }
  if (!region.end_key().empty() && region.end_key() <= region.start_key())
    return Status::InvalidArgument("region range is empty");
  if (!recorded.has_value()) {
    engine::WriteBatch record;
    record.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(region.id()),
               region.SerializeAsString());
    RETURN_IF_ERROR(engine->Write(record));
  }
  const engine::StorageOptions& limits = engine->options();
  const engine::StorageOptions needed = EngineOptionsFor(limits);
  if (limits.max_key_size < needed.max_key_size || limits.max_value_size < needed.max_value_size) {
    return Status::InvalidArgument(
        "the engine's key and value limits leave no room for the largest command; open it with "
        "store::EngineOptionsFor");
  }
  ASSIGN_OR_RETURN(proof::SparseMerkleTree tree,
                   proof::SparseMerkleTree::Open(engine, region.id(), tree_options));
  ASSIGN_OR_RETURN(SessionTable sessions, SessionTable::Load(engine, region.id()));
  std::unique_ptr<RegionFsm> fsm(
      new RegionFsm(engine, std::move(region), std::move(tree), tree_options, std::move(sessions)));
  ASSIGN_OR_RETURN(std::optional<std::string> meta,
                   engine->Get(ColumnFamily::kMeta, fsm->MetaKey()));
  if (meta.has_value()) {
    const auto state = static_cast<ApplyState>(meta->size() == 9 ? (*meta)[8] : -1);
    if (state != ApplyState::kReady && state != ApplyState::kRebuilding &&
        state != ApplyState::kInstalling) {
      return Status::Corruption("region " + std::to_string(fsm->range_.id) +
                                " meta record malformed");
    }
    fsm->applied_ = GetFixed64BE(*meta);
    if (state == ApplyState::kRebuilding) RETURN_IF_ERROR(fsm->RebuildIndex(fsm->applied_));
    if (state == ApplyState::kInstalling) RETURN_IF_ERROR(fsm->InstallStaged(fsm->applied_));
  }
  return fsm;
}

Result<ApplyResult> RegionFsm::Stage(uint64_t index, const Command& command,
                                     std::size_t command_bytes, engine::WriteBatch& batch,
                                     std::vector<proof::SmtUpdate>& updates) {
  ApplyResult result;
  result.set_applied_index(index);
  // Sizes against the hard limits only (never this replica's configuration), so that every
  // replica refuses the same commands; the door (Store::Write) refused most of them already.
  if (std::string why = CheckCommand(command, command_bytes, kHardCommandLimits); !why.empty()) {
    result.set_error(why);
    return result;
  }
  if (region_.has_merging()) {
    // The source of a prepared merge takes no writes: its keys go to the target as they are.
    result.set_error("region " + std::to_string(range_.id) + " is merging into region " +
                     std::to_string(region_.merging().target_id()));
    result.set_key_not_in_region(true);  // the client refreshes and retries where the key goes
    return result;
  }
  std::vector<const Mutation*> apply;
  if (command.has_write()) {
    for (const Mutation& m : command.write().mutations()) apply.push_back(&m);
  } else {
    apply.push_back(&command.cas().set());
  }
  for (const Mutation* m : apply) {
    if (!range_.Contains(m->key())) {
      result.set_error("key not in region " + std::to_string(range_.id));
      result.set_key_not_in_region(true);
      return result;
    }
  }
  if (command.has_cas()) {
    // The run holds no earlier write of this key (CommandFootprint): the engine has its value.
    const CompareAndSwap& cas = command.cas();
    ASSIGN_OR_RETURN(std::optional<std::string> current,
                     engine_->Get(ColumnFamily::kDefault, DataKey(cas.key())));
    result.set_cas_found(current.has_value());
    if (current.has_value()) result.set_cas_previous(*current);
    const bool match = cas.expect_exists() ? current.has_value() && *current == cas.expected()
                                           : !current.has_value();
    result.set_cas_succeeded(match);
    if (!match) apply.clear();
  }
  for (const Mutation* m : apply) {
    if (m->op() == Mutation::PUT) {
      batch.Put(ColumnFamily::kDefault, DataKey(m->key()), m->value());
      updates.push_back({TreeKey(m->key()), TreeValue(m->value())});
    } else {
      batch.Delete(ColumnFamily::kDefault, DataKey(m->key()));
      updates.push_back({TreeKey(m->key()), std::nullopt});
    }
  }
  return result;
}

namespace {

// What a command touches that a later command of the same run must not: the keys it writes or
// compares, and its client. Two commands with disjoint footprints give the same results in one
// run as one after the other, and each sees its own writes in the run's root.
struct Footprint {
  std::vector<std::string_view> keys;
  uint64_t client = 0;  // 0: no session
};

Footprint CommandFootprint(const Command& c) {
  Footprint f;
  if (c.has_write()) {
    for (const Mutation& m : c.write().mutations()) f.keys.push_back(m.key());
  } else if (c.has_cas()) {
    f.keys.push_back(c.cas().key());
    f.keys.push_back(c.cas().set().key());
  }
  if (c.has_session()) f.client = c.session().client_id();
  return f;
}

}  // namespace

Result<std::string> RegionFsm::Apply(uint64_t index, std::string_view command) {
  const Entry entry{index, command};
  ASSIGN_OR_RETURN(std::vector<std::string> out, ApplyBatch(std::span(&entry, 1)));
  if (out.empty()) return Status::Busy("the merge waits for its source region");
  return std::move(out.front());
}

Result<std::vector<std::string>> RegionFsm::ApplyBatch(std::span<const Entry> entries) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return ApplyBatchLocked(entries);
}

Result<std::vector<std::string>> RegionFsm::ApplyBatchLocked(std::span<const Entry> entries) {
  std::vector<std::string> out;
  // Entries a target's CommitMerge applied already (bringing this source up to its prepare),
  // and everything once a merge took this region in: answered, nothing written.
  while (!entries.empty() && (entries.front().index <= applied_.load() || merged_.load())) {
    ApplyResult r;
    r.set_applied_index(entries.front().index);
    r.set_error(merged_.load() ? "region " + std::to_string(range_.id) + " was merged"
                               : "applied already");
    out.push_back(r.SerializeAsString());
    entries = entries.subspan(1);
  }
  if (entries.empty()) return out;
  std::vector<Parsed> parsed(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    parsed[i].ok = parsed[i].command.ParseFromArray(entries[i].command.data(),
                                                    static_cast<int>(entries[i].command.size()));
  }
  out.reserve(out.size() + entries.size());
  // Runs of commands with disjoint footprints, each one tree version and one engine write.
  std::size_t begin = 0;
  std::set<std::string_view> keys;
  std::set<uint64_t> clients;
  for (std::size_t i = 0; i <= entries.size(); ++i) {
    const Command& c = parsed[std::min(i, entries.size() - 1)].command;
    if (i < entries.size() && parsed[i].ok &&
        (c.has_split() || c.has_prepare_merge() || c.has_commit_merge() ||
         c.has_rollback_merge())) {
      // Splits and merges change the range or state every later command is checked against:
      // each runs alone.
      if (i > begin) {
        RETURN_IF_ERROR(ApplyRun(entries.subspan(begin, i - begin),
                                 std::span(parsed).subspan(begin, i - begin), out));
      }
      if (c.has_split()) {
        RETURN_IF_ERROR(ApplySplit(entries[i].index, c.split(), out));
      } else if (c.has_commit_merge()) {
        ASSIGN_OR_RETURN(bool applied, ApplyCommitMerge(entries[i].index, c.commit_merge(), out));
        if (!applied) return out;  // the rest waits for the source
      } else {
        RETURN_IF_ERROR(ApplyMergeState(entries[i].index, c, out));
      }
      begin = i + 1;
      keys.clear();
      clients.clear();
      continue;
    }
    Footprint f;
    bool fits = i < entries.size();
    if (fits && parsed[i].ok) {
      f = CommandFootprint(parsed[i].command);
      for (std::string_view k : f.keys) fits = fits && keys.count(k) == 0;
      fits = fits && (f.client == 0 || clients.count(f.client) == 0);
    }
    if (!fits && i > begin) {
      RETURN_IF_ERROR(ApplyRun(entries.subspan(begin, i - begin),
                               std::span(parsed).subspan(begin, i - begin), out));
      begin = i;
      keys.clear();
      clients.clear();
    }
    keys.insert(f.keys.begin(), f.keys.end());
    if (f.client != 0) clients.insert(f.client);
  }
  return out;
}

Status RegionFsm::ApplyRun(std::span<const Entry> entries, std::span<const Parsed> parsed,
                           std::vector<std::string>& out, const std::string* tree_refusal) {
  engine::WriteBatch batch;  // session records, then data, tree and the applied index
  std::vector<ApplyResult> results(entries.size());
  std::vector<bool> recorded(entries.size(), false), replayed(entries.size(), false);
  std::vector<proof::SmtUpdate> updates;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const uint64_t index = entries[i].index;
    const Command& command = parsed[i].command;
    ApplyResult& result = results[i];
    result.set_applied_index(index);
    bool apply = true;
    if (!parsed[i].ok) {
      result.set_error("malformed command");
      apply = false;
    } else if (command.has_session()) {
      ASSIGN_OR_RETURN(SessionTable::Verdict verdict,
                       sessions_.Admit(index, command.session(), batch));
      if (verdict.kind != SessionTable::Verdict::kApply) {
        apply = false;
        replayed[i] = verdict.kind == SessionTable::Verdict::kReplay;
        result = std::move(verdict.result);
      }
    }
    if (apply) {
      engine::WriteBatch staged;
      std::vector<proof::SmtUpdate> staged_updates;
      ASSIGN_OR_RETURN(result,
                       Stage(index, command, entries[i].command.size(), staged, staged_updates));
      if (result.error().empty() && tree_refusal != nullptr) result.set_error(*tree_refusal);
      if (result.error().empty()) {
        batch.Append(staged);
        updates.insert(updates.end(), staged_updates.begin(), staged_updates.end());
      }
    }
    // The stored result gets the run's root below, once it is known. A command refused because
    // its key is not (or no longer) this region's is not remembered: the client sends it again
    // where the key is now, which may be this region's range after a merge (the sessions come
    // along), and there it must apply, not replay the refusal.
    if (command.has_session() && (apply || replayed[i]) && !result.key_not_in_region()) {
      sessions_.Record(command.session(), apply ? &result : nullptr, batch);
      recorded[i] = apply;
    }
  }
  // One tree version for the run, at its last index: every applied command index up to it
  // answers with this root (a refused or replayed command changes nothing but the version).
  const uint64_t last = entries.back().index;
  Result<proof::Fr> root = tree_.Apply(updates, last, batch);
  if (!root.ok()) {
    if (root.status().code() != StatusCode::kInvalidArgument) return root.status();
    // Two tree keys collide past the tree's depth. Nothing was written: undo the run's session
    // changes and apply its commands one at a time, the colliding one refused alone (nothing
    // staged, its version still advances).
    ASSIGN_OR_RETURN(sessions_, SessionTable::Load(engine_, range_.id));
    if (entries.size() == 1) {
      const std::string why(root.status().message());
      return ApplyRun(entries, parsed, out, &why);
    }
    for (std::size_t i = 0; i < entries.size(); ++i)
      RETURN_IF_ERROR(ApplyRun(entries.subspan(i, 1), parsed.subspan(i, 1), out));
    return Status::OK();
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (replayed[i]) continue;  // a replay answers the root it was first applied at
    results[i].set_root(RootToBytes(*root));
    results[i].set_root_index(last);
    if (recorded[i]) sessions_.UpdateStoredResult(parsed[i].command.session(), results[i], batch);
  }
  StageMeta(batch, last, ApplyState::kReady);
  Status written = FaultPoint("store.apply_write")
                       ? Status::IOError("injected fault store.apply_write")
                       : engine_->Write(batch);
  if (!written.ok()) {
    tree_.Reset();  // it remembers the version just dropped
    return written;
  }
  applied_ = last;
  for (const ApplyResult& r : results) out.push_back(r.SerializeAsString());
  return Status::OK();
}

Status RegionFsm::ApplySplit(uint64_t index, const Split& split, std::vector<std::string>& out) {
  ApplyResult result;
  result.set_applied_index(index);
  result.set_root_index(index);
  const meta::Region& current = region_;  // the worker is its only writer: no lock to read
  engine::WriteBatch batch;
  std::vector<proof::SmtUpdate> left_updates;
  std::optional<meta::Region> left, right;
  proof::Fr right_root;
  if (current.has_merging()) {
    result.set_error("split refused: region " + std::to_string(current.id()) +
                     " is merging into region " + std::to_string(current.merging().target_id()));
  } else if (split.version() != current.epoch().version()) {
    result.set_error("split refused: region " + std::to_string(current.id()) + " is at version " +
                     std::to_string(current.epoch().version()) + ", the split was asked at " +
                     std::to_string(split.version()));
  } else if (split.split_key() == current.start_key()) {
    *result.add_regions() = current;  // done already (a repeated split)
  } else if (!range_.Contains(split.split_key())) {
    result.set_error("split refused: the key is not inside region " + std::to_string(current.id()) +
                     "'s range");
  } else if (split.new_region_id() == 0 || split.new_region_id() == current.id()) {
    result.set_error("split refused: the new region needs an id of its own");
  } else {
    left = current;
    right = current;
    left->set_end_key(split.split_key());
    left->mutable_epoch()->set_version(current.epoch().version() + 1);
    right->set_id(split.new_region_id());
    right->set_start_key(split.split_key());
    *right->mutable_epoch() = left->epoch();
    // The right half's data: out of this tree, into the new region's built in bulk.
    std::vector<proof::SmtUpdate> right_updates;
    engine::IteratorOptions io;
    io.lower_bound = DataKey(split.split_key());
    io.upper_bound = DataEnd(range_);
    auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const proof::Fr key = TreeKey(keys::UserKey(it->key()));
      left_updates.push_back({key, std::nullopt});
      // A large value's tree value is read from the leaf this tree holds for it rather than
      // hashed again (an 8 MiB value hashes for about a second).
      std::optional<proof::Fr> value;
      if (it->value().size() > kRehashValueBytes) {
        ASSIGN_OR_RETURN(value, tree_.Get(key));
      }
      right_updates.push_back({key, value.has_value() ? *value : TreeValue(it->value())});
    }
    RETURN_IF_ERROR(it->status());
    proof::SmtOptions right_options = tree_options_;
    ASSIGN_OR_RETURN(proof::SparseMerkleTree right_tree,
                     proof::SparseMerkleTree::Open(engine_, right->id(), right_options));
    right_tree.Reset();  // nothing of an earlier tree under this id may be remembered
    proof::SparseMerkleTree::StageDrop(batch, right->id());
    ASSIGN_OR_RETURN(right_root, right_tree.Apply(right_updates, kSplitInitIndex, batch));
    // The write sessions go with both halves: a client's retry may reach either.
    engine::IteratorOptions so;
    so.lower_bound = keys::RegionSessionsBegin(current.id());
    so.upper_bound = keys::RegionSessionsEnd(current.id());
    auto sessions = engine_->NewIterator(ColumnFamily::kMeta, so);
    const std::size_t prefix = keys::RegionMetaPrefix(current.id()).size();
    for (sessions->SeekToFirst(); sessions->Valid(); sessions->Next()) {
      batch.Put(ColumnFamily::kMeta,
                keys::RegionMetaPrefix(right->id()) + std::string(sessions->key().substr(prefix)),
                sessions->value());
    }
    RETURN_IF_ERROR(sessions->status());
    StageApplyState(batch, right->id(), kSplitInitIndex, ApplyState::kReady);
    std::vector<raft::Member> voters;
    for (const meta::Peer& p : right->peers()) voters.push_back({p.store_id(), p.address()});
    raft::MultiRaft::StageSplitGroup(batch, right->id(), voters, kSplitInitIndex, kSplitInitIndex);
  }
  // The root before: the newest version's (the run before this command).
  ASSIGN_OR_RETURN(proof::Fr parent_root, tree_.Root());
  // One tree version at the split's index, whatever the outcome (as for a refused command).
  Result<proof::Fr> root = tree_.Apply(left_updates, index, batch);
  if (!root.ok()) return root.status();  // deletes of present keys cannot collide
  result.set_root(RootToBytes(*root));
  if (left) {
    // What the split changed, recorded alike by every replica in both halves' metadata.
    SplitFacts facts;
    facts.split_index = index;
    facts.parent_id = current.id();
    facts.parent_conf_ver = current.epoch().conf_ver();
    facts.parent_version = current.epoch().version();
    facts.parent_applied_index = applied_.load();
    facts.parent_root = parent_root;
    facts.split_key = split.split_key();
    facts.left_id = left->id();
    facts.left_version = left->epoch().version();
    facts.left_root = *root;
    facts.right_id = right->id();
    facts.right_version = right->epoch().version();
    facts.right_root = right_root;
    const std::string statement = SplitStatement(facts);
    left->set_origin_statement(statement);
    right->set_origin_statement(statement);
    batch.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(right->id()),
              right->SerializeAsString());
    batch.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(left->id()),
              left->SerializeAsString());
    *result.add_regions() = *left;
    *result.add_regions() = *right;
  }
  StageMeta(batch, index, ApplyState::kReady);
  // The range narrows before the data moves: a reader takes its engine snapshot, then checks
  // the range, so it never answers a moved key from the data after the split.
  const meta::Region before = current;
  if (left) {
    splitting_ = true;  // before the range narrows (Store::AddRegion reads them in that order)
    SetRegion(*left);
    TestHook("store.split_narrowed");
  }
  Status written = FaultPoint("store.split_write")
                       ? Status::IOError("injected fault store.split_write")
                       : engine_->Write(batch);
  splitting_ = false;
  if (!written.ok()) {
    tree_.Reset();
    SetRegion(before);
    return written;
  }
  applied_ = index;
  spdlog::info(
      "region {} applied its split at index {}: {}", range_.id, index,
      left ? "region " + std::to_string(right->id()) + " from " + QuoteInput(right->start_key())
      : result.error().empty() ? std::string("done already")
                               : result.error());
  if (left && observer_) observer_(*left, &*right, 0);
  out.push_back(result.SerializeAsString());
  return Status::OK();
}

Status RegionFsm::ApplyAlone(uint64_t index, ApplyResult result, const meta::Region* now,
                             std::vector<std::string>& out) {
  engine::WriteBatch batch;
  Result<proof::Fr> root = tree_.Apply({}, index, batch);  // a version, as for a refused command
  if (!root.ok()) return root.status();
  result.set_applied_index(index);
  result.set_root(RootToBytes(*root));
  result.set_root_index(index);
  if (now != nullptr) {
    batch.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(range_.id), now->SerializeAsString());
  }
  StageMeta(batch, index, ApplyState::kReady);
  const meta::Region before = region_;
  if (now != nullptr) SetRegion(*now);  // before the write: a write admitted after sees it
  Status written = engine_->Write(batch);
  if (!written.ok()) {
    tree_.Reset();
    if (now != nullptr) SetRegion(before);
    return written;
  }
  applied_ = index;
  if (now != nullptr && observer_) observer_(*now, nullptr, 0);
  out.push_back(result.SerializeAsString());
  return Status::OK();
}

Status RegionFsm::ApplyMergeState(uint64_t index, const Command& command,
                                  std::vector<std::string>& out) {
  ApplyResult result;
  const meta::Region& current = region_;  // the worker is its only writer: no lock to read
  const std::string id = std::to_string(current.id());
  std::optional<meta::Region> now;
  if (command.has_prepare_merge()) {
    const PrepareMerge& p = command.prepare_merge();
    if (current.has_merging()) {
      if (current.merging().target_id() == p.target_id()) {
        *result.add_regions() = current;  // prepared already (a repeated prepare)
      } else {
        result.set_error("merge refused: region " + id + " is merging into region " +
                         std::to_string(current.merging().target_id()) + " already");
      }
    } else if (p.version() != current.epoch().version()) {
      result.set_error("merge refused: region " + id + " is at version " +
                       std::to_string(current.epoch().version()) + ", the merge was asked at " +
                       std::to_string(p.version()));
    } else if (p.target_id() == 0 || p.target_id() == current.id()) {
      result.set_error("merge refused: the target must be another region");
    } else {
      now = current;
      now->mutable_epoch()->set_version(current.epoch().version() + 1);
      meta::MergeState* m = now->mutable_merging();
      m->set_target_id(p.target_id());
      *m->mutable_target_epoch() = p.target_epoch();
      m->set_prepare_index(index);
      m->set_prepare_term(p.term());
    }
  } else {
    const RollbackMerge& r = command.rollback_merge();
    if (!current.has_merging() || current.merging().prepare_index() != r.prepare_index()) {
      result.set_error("rollback refused: region " + id + " has no merge prepared at index " +
                       std::to_string(r.prepare_index()));
    } else {
      now = current;
      now->clear_merging();
      now->mutable_epoch()->set_version(current.epoch().version() + 1);
    }
  }
  if (now) *result.add_regions() = *now;
  spdlog::info("region {} applied a {} merge at index {} (version {}): {}", range_.id,
               command.has_prepare_merge() ? "prepare" : "rollback", index,
               current.epoch().version(), result.error().empty() ? "done" : result.error());
  return ApplyAlone(index, std::move(result), now ? &*now : nullptr, out);
}

Result<std::optional<MergeHooks::LogCommands>> ReadCommittedCommands(engine::Engine* engine,
                                                                     uint64_t group, uint64_t after,
                                                                     uint64_t through,
                                                                     uint64_t term) {
  if (after >= through) {
    return Status::InvalidArgument("no entries after " + std::to_string(after) + " through " +
                                   std::to_string(through));
  }
  // Only the entries wanted: the rest of the log may be long.
  ASSIGN_OR_RETURN(std::optional<std::vector<raft::LogEntry>> entries,
                   raft::RaftLogStore(engine).ReadEntries(group, after + 1, through));
  if (!entries.has_value() || entries->back().term != term) {
    return std::optional<MergeHooks::LogCommands>();
  }
  MergeHooks::LogCommands out;
  for (uint64_t i = after + 1; i <= through; ++i) {
    raft::LogEntry& e = (*entries)[i - after - 1];
    if (e.type == raft::kCommandEntry) out.emplace_back(i, std::move(e.data));
  }
  return std::optional<MergeHooks::LogCommands>(std::move(out));
}

bool SameStores(const meta::Region& a, const meta::Region& b) {
  std::set<uint64_t> sa, sb;
  for (const meta::Peer& p : a.peers()) sa.insert(p.store_id());
  for (const meta::Peer& p : b.peers()) sb.insert(p.store_id());
  return sa == sb;
}

Result<bool> RegionFsm::ApplyCommitMerge(uint64_t index, const CommitMerge& commit,
                                         std::vector<std::string>& out) {
  ApplyResult result;
  const meta::Region& current = region_;  // the worker is its only writer: no lock to read
  const meta::Region& source = commit.source();
  const meta::MergeState& m = source.merging();
  const std::string id = std::to_string(current.id());
  // The refusals depend on the command and this region's state only: every replica alike.
  std::string refusal;
  if (!source.has_merging() || m.target_id() != current.id() || source.id() == 0 ||
      source.id() == current.id()) {
    refusal = "merge refused: the source is not prepared to merge into region " + id;
  } else if (m.target_epoch().version() != current.epoch().version() ||
             m.target_epoch().conf_ver() != current.epoch().conf_ver()) {
    refusal = "merge refused: region " + id + " changed since the merge was prepared";
    result.set_merge_target_changed(true);
  } else if (current.end_key().empty() || source.start_key() != current.end_key()) {
    refusal = "merge refused: region " + std::to_string(source.id()) +
              " does not start where region " + id + " ends";
  } else if (!SameStores(current, source)) {
    refusal = "merge refused: regions " + id + " and " + std::to_string(source.id()) +
              " are not on the same stores";
  }
  if (!refusal.empty()) {
    spdlog::info("region {} applied a commit merge of region {} at index {}: {}", id, source.id(),
                 index, refusal);
    result.set_error(refusal);
    RETURN_IF_ERROR(ApplyAlone(index, std::move(result), nullptr, out));
    return true;
  }
  if (hooks_ == nullptr) return false;
  bool ready = false;
  RETURN_IF_ERROR(hooks_->WithRegion(source.id(), [&](RegionFsm* s) -> Status {
    if (s == nullptr) return Status::OK();  // not hosted here (yet)
    std::lock_guard<std::mutex> lock(s->apply_mu_);
    if (s->merged_.load()) {
      return Status::Corruption("region " + std::to_string(source.id()) +
                                " was merged, and region " + id + " has not applied it");
    }
    if (s->applied_.load() < m.prepare_index()) {
      // The source lags here: its commands up to the prepare from its own log.
      ASSIGN_OR_RETURN(std::optional<MergeHooks::LogCommands> commands,
                       hooks_->CommittedCommands(source.id(), s->applied_.load(), m.prepare_index(),
                                                 m.prepare_term()));
      if (!commands.has_value()) return Status::OK();  // its log has not got there yet
      std::vector<Entry> entries;
      for (const auto& [i, c] : *commands) entries.push_back({i, c});
      ASSIGN_OR_RETURN(std::vector<std::string> ignored, s->ApplyBatchLocked(entries));
      if (s->applied_.load() < m.prepare_index()) return Status::OK();  // it waits itself
    }
    const meta::Region prepared = s->region_;
    if (!prepared.has_merging() || prepared.merging().prepare_index() != m.prepare_index() ||
        prepared.merging().target_id() != current.id() ||
        prepared.start_key() != source.start_key() || prepared.end_key() != source.end_key()) {
      return Status::Corruption("region " + std::to_string(source.id()) +
                                " is not as its prepared merge says after the prepare");
    }
    ready = true;
    engine::WriteBatch batch;
    // The source's keys into this tree: data keys are global, so the data stays where it is.
    std::vector<proof::SmtUpdate> updates;
    engine::IteratorOptions io;
    io.lower_bound = DataKey(prepared.start_key());
    io.upper_bound = keys::DataEnd(prepared.end_key());
    auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const proof::Fr key = TreeKey(keys::UserKey(it->key()));
      std::optional<proof::Fr> value;
      if (it->value().size() > kRehashValueBytes) {
        ASSIGN_OR_RETURN(value, s->tree_.Get(key));
      }
      updates.push_back({key, value.has_value() ? *value : TreeValue(it->value())});
    }
    RETURN_IF_ERROR(it->status());
    it.reset();
    ASSIGN_OR_RETURN(proof::Fr target_root, tree_.Root());
    ASSIGN_OR_RETURN(proof::Fr source_root, s->tree_.Root());
    Result<proof::Fr> root = tree_.Apply(updates, index, batch);
    if (!root.ok()) return root.status();  // the source's keys are absent here: no collision
    RETURN_IF_ERROR(sessions_.TakeOver(s->sessions_, batch));
    // The source's state goes: its metadata, applied index, sessions, tree and Raft state.
    batch.Delete(ColumnFamily::kMeta, keys::RegionLocalStateKey(source.id()));
    batch.Delete(ColumnFamily::kMeta, keys::RegionApplyStateKey(source.id()));
    batch.DeleteRange(ColumnFamily::kMeta, keys::RegionSessionsBegin(source.id()),
                      keys::RegionSessionsEnd(source.id()));
    proof::SparseMerkleTree::StageDrop(batch, source.id());
    raft::MultiRaft::StageDestroyGroup(batch, source.id());
    meta::Region merged = current;
    merged.set_end_key(prepared.end_key());
    merged.mutable_epoch()->set_version(
        std::max(current.epoch().version(), prepared.epoch().version()) + 1);
    MergeFacts facts;
    facts.merge_index = index;
    facts.target_id = current.id();
    facts.target_conf_ver = current.epoch().conf_ver();
    facts.target_version = current.epoch().version();
    facts.target_applied_index = applied_.load();
    facts.target_root = target_root;
    facts.source_id = source.id();
    facts.source_conf_ver = prepared.epoch().conf_ver();
    facts.source_version = prepared.epoch().version();
    facts.source_prepare_index = m.prepare_index();
    facts.source_root = source_root;
    facts.merged_version = merged.epoch().version();
    facts.merged_root = *root;
    merged.set_origin_statement(MergeStatement(facts));
    merged.clear_origin_signer();
    merged.clear_origin_signature();
    batch.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(current.id()),
              merged.SerializeAsString());
    StageMeta(batch, index, ApplyState::kReady);
    result.set_applied_index(index);
    result.set_root(RootToBytes(*root));
    result.set_root_index(index);
    *result.add_regions() = merged;
    // The source stops answering before the write (its reads check after their snapshot); this
    // region widens after it (a read whose snapshot is older than the merge sees the old range).
    s->merged_ = true;
    Status written = engine_->Write(batch);
    if (!written.ok()) {
      s->merged_ = false;
      tree_.Reset();
      ASSIGN_OR_RETURN(sessions_, SessionTable::Load(engine_, range_.id));
      return written;
    }
    SetRegion(merged);
    applied_ = index;
    spdlog::info(
        "region {} applied a commit merge of region {} at index {}: {} keys taken in "
        "(the source prepared at {}, applied here through {})",
        id, source.id(), index, updates.size(), m.prepare_index(), s->applied_.load());
    return Status::OK();
  }));
  if (!ready) return false;
  if (observer_) observer_(region(), nullptr, source.id());
  out.push_back(result.SerializeAsString());
  return true;
}

namespace {

// The applied index a snapshot holds (0 for a region never written).
Result<uint64_t> AppliedAt(const engine::Engine& engine, const std::string& meta_key,
                           const engine::Snapshot* snap) {
  engine::ReadOptions ro;
  ro.snapshot = snap;
  ASSIGN_OR_RETURN(std::optional<std::string> meta, engine.Get(ColumnFamily::kMeta, meta_key, ro));
  return meta.has_value() && meta->size() == 9 ? GetFixed64BE(*meta) : 0;
}

std::optional<uint64_t> Version(uint64_t applied) {
  return applied == 0 ? std::nullopt : std::optional(applied);
}

}  // namespace

// Tree versions never change once written: the proofs at a snapshot's applied index are the
// proofs of the state the snapshot holds. A version pruned meanwhile (the region applied
// keep_versions commands during the read) makes the read start again.
Result<ProvenRead> RegionFsm::Read(std::string_view key, bool with_proof) const {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto snap = engine_->GetSnapshot();
    // After the snapshot (ApplySplit narrows the range before it moves data).
    const meta::Region region = this->region();
    if (merged_.load() ||
        !RegionRange{region.id(), region.start_key(), region.end_key()}.Contains(key))
      return Status::InvalidArgument("key not in region " + std::to_string(range_.id));
    engine::ReadOptions ro;
    ro.snapshot = snap.get();
    ProvenRead out;
    out.epoch = region.epoch();
    ASSIGN_OR_RETURN(out.applied_index, AppliedAt(*engine_, MetaKey(), snap.get()));
    ASSIGN_OR_RETURN(out.value, engine_->Get(ColumnFamily::kDefault, DataKey(key), ro));
    Result<proof::Fr> root = tree_.Root(Version(out.applied_index));
    if (!root.ok() && root.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(root.status());
    out.root = *root;
    if (!with_proof) return out;
    Result<proof::SmtProof> p = tree_.Prove(TreeKey(key), Version(out.applied_index));
    if (!p.ok() && p.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(p.status());
    out.proof = std::move(*p);
    return out;
  }
  return Status::Busy("region " + std::to_string(range_.id) +
                      " is applying faster than it can be read");
}

Result<RegionFsm::ScanResult> RegionFsm::Scan(std::string_view start, std::string_view end,
                                              std::size_t limit, std::size_t max_bytes) const {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto snap = engine_->GetSnapshot();
    // After the snapshot (ApplySplit narrows the range before it moves data).
    const meta::Region region = this->region();
    if (merged_.load())
      return Status::NotFound("region " + std::to_string(range_.id) + " was merged");
    std::string from = std::max(std::string(start), region.start_key());
    std::string to = region.end_key();
    if (!end.empty() && (to.empty() || end < to)) to = std::string(end);
    ScanResult out;
    out.epoch = region.epoch();
    ASSIGN_OR_RETURN(out.applied_index, AppliedAt(*engine_, MetaKey(), snap.get()));
    Result<proof::Fr> root = tree_.Root(Version(out.applied_index));
    if (!root.ok() && root.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(root.status());
    out.root = *root;
    engine::IteratorOptions io;
    io.lower_bound = DataKey(from);
    io.upper_bound = keys::DataEnd(to);
    io.snapshot = snap.get();
    if (!to.empty() && to <= from) io.upper_bound = io.lower_bound;
    auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
    // Each pair is proven as it is read, so the byte budget counts what the answer carries.
    std::size_t bytes = 0;
    bool pruned = false;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (out.kvs.size() == limit) {
        out.more = true;
        break;
      }
      std::string key(keys::UserKey(it->key()));
      Result<proof::SmtProof> p = tree_.Prove(TreeKey(key), Version(out.applied_index));
      if (!p.ok() && p.status().code() == StatusCode::kNotFound) {
        pruned = true;
        break;
      }
      RETURN_IF_ERROR(p.status());
      std::string proof = p->EncodeBinary();
      const std::size_t size = key.size() + it->value().size() + proof.size();
      if (!out.kvs.empty() && bytes + size > max_bytes) {
        out.more = true;
        break;
      }
      bytes += size;
      out.kvs.emplace_back(std::move(key), std::string(it->value()));
      out.proofs.push_back(std::move(proof));
    }
    if (pruned) continue;
    RETURN_IF_ERROR(it->status());
    return out;
  }
  return Status::Busy("region " + std::to_string(range_.id) +
                      " is applying faster than it can be scanned");
}

Result<RegionFsm::SizeCheck> RegionFsm::CheckSize(uint64_t max_keys, uint64_t max_bytes) const {
  auto snap = engine_->GetSnapshot();
  const RegionRange range = this->range();
  engine::IteratorOptions io;
  io.lower_bound = DataKey(range.start);
  io.upper_bound = DataEnd(range);
  io.snapshot = snap.get();
  SizeCheck out;
  auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.keys++;
    out.bytes += keys::UserKey(it->key()).size() + it->value().size();
  }
  RETURN_IF_ERROR(it->status());
  const bool by_bytes = out.bytes > max_bytes;
  if ((!by_bytes && out.keys <= max_keys) || out.keys < 2) return out;
  uint64_t count = 0, bytes = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::size_t size = keys::UserKey(it->key()).size() + it->value().size();
    if (count > 0 && (by_bytes ? bytes + size > out.bytes / 2 : count >= out.keys / 2)) {
      out.middle_key = std::string(keys::UserKey(it->key()));
      break;
    }
    count++;
    bytes += size;
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::vector<proof::SmtUpdate>> RegionFsm::UpdatesFromData() const {
  std::vector<proof::SmtUpdate> updates;
  engine::IteratorOptions io;
  io.lower_bound = DataKey(range_.start);
  io.upper_bound = DataEnd(range_);
  auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    updates.push_back({TreeKey(keys::UserKey(it->key())), TreeValue(it->value())});
  }
  RETURN_IF_ERROR(it->status());
  return updates;
}

Result<proof::Fr> RegionFsm::RootFromData() const {
  ASSIGN_OR_RETURN(std::vector<proof::SmtUpdate> updates, UpdatesFromData());
  // Built on tree id 0, which no region has (ids start at 1), into a batch never written.
  proof::SmtOptions scratch_options = tree_options_;
  scratch_options.cache = nullptr;  // its batch is dropped: nothing of it may be remembered
  ASSIGN_OR_RETURN(proof::SparseMerkleTree scratch,
                   proof::SparseMerkleTree::Open(engine_, 0, scratch_options));
  engine::WriteBatch discard;
  return scratch.Apply(updates, 1, discard);
}

Status RegionFsm::RebuildIndex(uint64_t applied) {
  ASSIGN_OR_RETURN(tree_, proof::SparseMerkleTree::Open(engine_, range_.id, tree_options_));
  tree_.Reset();  // the cache may hold nodes of the tree that was dropped
  ASSIGN_OR_RETURN(std::vector<proof::SmtUpdate> updates, UpdatesFromData());
  engine::WriteBatch batch;
  RETURN_IF_ERROR(tree_.Apply(updates, applied == 0 ? 1 : applied, batch).status());
  StageMeta(batch, applied, ApplyState::kReady);
  RETURN_IF_ERROR(engine_->WriteSync(batch));
  applied_ = applied;
  return Status::OK();
}

// ---- snapshots ----

// The region's data records (key, value), then its session records: an empty key and, as the
// value, the record's key past RegionMetaPrefix followed by its value.
class RegionFsm::Reader : public raft::SnapshotReader {
 public:
  // `snap` holds the region at applied index `applied`.
  // `region` is the region's metadata at `applied`.
  Reader(const RegionFsm& fsm, std::unique_ptr<engine::Snapshot> snap, uint64_t applied,
         const meta::Region& region)
      : engine_(fsm.engine_),
        region_id_(region.id()),
        snap_(std::move(snap)),
        applied_(applied),
        region_(region.SerializeAsString()) {
    const RegionRange range{region.id(), region.start_key(), region.end_key()};
    engine::IteratorOptions io;
    io.lower_bound = DataKey(range.start);
    io.upper_bound = DataEnd(range);
    io.snapshot = snap_.get();
    it_ = fsm.engine_->NewIterator(ColumnFamily::kDefault, io);
    it_->SeekToFirst();
  }
  uint64_t applied_index() const override { return applied_; }
  Result<bool> Next(std::string* chunk, std::size_t max_bytes) override {
    if (!region_.empty()) {
      // First the metadata: an empty key, then kRegionRecord and the Region.
      PutFixed32BE(*chunk, 0);
      PutFixed32BE(*chunk, static_cast<uint32_t>(1 + region_.size()));
      chunk->push_back(kRegionRecord);
      chunk->append(region_);
      region_.clear();
    }
    while (chunk->size() < max_bytes) {
      if (!it_->Valid()) {
        RETURN_IF_ERROR(it_->status());
        if (sessions_) break;
        // The data is done: the session records follow, from the same snapshot.
        engine::IteratorOptions io;
        io.lower_bound = keys::RegionSessionsBegin(region_id_);
        io.upper_bound = keys::RegionSessionsEnd(region_id_);
        io.snapshot = snap_.get();
        it_ = engine_->NewIterator(ColumnFamily::kMeta, io);
        it_->SeekToFirst();
        sessions_ = true;
        continue;
      }
      if (!sessions_) {
        const std::string_view key = keys::UserKey(it_->key());
        PutFixed32BE(*chunk, static_cast<uint32_t>(key.size()));
        chunk->append(key);
        PutFixed32BE(*chunk, static_cast<uint32_t>(it_->value().size()));
        chunk->append(it_->value());
      } else {
        const std::string_view suffix =
            it_->key().substr(keys::RegionMetaPrefix(region_id_).size());
        PutFixed32BE(*chunk, 0);
        PutFixed32BE(*chunk, static_cast<uint32_t>(suffix.size() + it_->value().size()));
        chunk->append(suffix);
        chunk->append(it_->value());
      }
      it_->Next();
    }
    RETURN_IF_ERROR(it_->status());
    return !chunk->empty();
  }

 private:
  engine::Engine* engine_;
  uint64_t region_id_;
  std::unique_ptr<engine::Snapshot> snap_;
  std::unique_ptr<engine::Iterator> it_;
  bool sessions_ = false;  // it_ walks the session records
  uint64_t applied_;
  std::string region_;  // the metadata record, until it is sent
};

Status RegionFsm::InstallStaged(uint64_t applied, std::size_t batch_bytes) {
  engine::WriteBatch batch;
  batch.DeleteRange(ColumnFamily::kDefault, DataKey(range_.start), DataEnd(range_));
  batch.DeleteRange(ColumnFamily::kMeta, keys::RegionSessionsBegin(range_.id),
                    keys::RegionSessionsEnd(range_.id));
  RETURN_IF_ERROR(engine_->Write(batch));
  // The session records (few and small next to the data): one batch.
  {
    engine::IteratorOptions io;
    io.lower_bound = keys::RegionSessionStagingPrefix(range_.id);
    io.upper_bound = keys::RegionSessionStagingEnd(range_.id);
    auto it = engine_->NewIterator(ColumnFamily::kMeta, io);
    const std::string meta_prefix = keys::RegionMetaPrefix(range_.id);
    batch = engine::WriteBatch();
    for (it->SeekToFirst(); it->Valid(); it->Next())
      batch.Put(ColumnFamily::kMeta,
                meta_prefix + std::string(it->key().substr(io.lower_bound.size())), it->value());
    RETURN_IF_ERROR(it->status());
    RETURN_IF_ERROR(engine_->Write(batch));
  }
  engine::IteratorOptions io;
  io.lower_bound = keys::SnapshotStagingPrefix(range_.id);
  io.upper_bound = keys::SnapshotStagingEnd(range_.id);
  auto it = engine_->NewIterator(ColumnFamily::kDefault, io);
  const std::size_t prefix = io.lower_bound.size();
  batch = engine::WriteBatch();
  std::size_t bytes = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.Put(ColumnFamily::kDefault, DataKey(it->key().substr(prefix)), it->value());
    bytes += it->key().size() + it->value().size();
    if (bytes >= batch_bytes) {
      RETURN_IF_ERROR(engine_->Write(batch));
      batch = engine::WriteBatch();
      bytes = 0;
    }
  }
  RETURN_IF_ERROR(it->status());
  it.reset();
  // The last records, the staging gone, the tree dropped and the rebuild marked: one write.
  batch.DeleteRange(ColumnFamily::kDefault, keys::SnapshotStagingPrefix(range_.id),
                    keys::SnapshotStagingEnd(range_.id));
  batch.DeleteRange(ColumnFamily::kMeta, keys::RegionSessionStagingPrefix(range_.id),
                    keys::RegionSessionStagingEnd(range_.id));
  proof::SparseMerkleTree::StageDrop(batch, range_.id);
  StageMeta(batch, applied, ApplyState::kRebuilding);
  RETURN_IF_ERROR(engine_->WriteSync(batch));
  ASSIGN_OR_RETURN(sessions_, SessionTable::Load(engine_, range_.id));
  return RebuildIndex(applied);
}

// Stages each chunk's records in the engine as it arrives; Finish installs them.
class RegionFsm::Writer : public raft::SnapshotWriter {
 public:
  explicit Writer(RegionFsm* fsm) : fsm_(fsm), range_(fsm->range()) {}
  Status Add(std::string_view chunk) override {
    engine::WriteBatch batch;
    ByteReader r(chunk);
    while (!r.done()) {
      std::string_view k, v;
      if (!r.Bytes(k, r.remaining()) || !r.Bytes(v, r.remaining()))
        return Status::Corruption("region snapshot chunk malformed");
      if (k.empty() && !v.empty() && v[0] == kRegionRecord) {
        // The range the snapshot holds (a split the receiver has not applied narrowed it).
        meta::Region region;
        if (!region.ParseFromArray(v.data() + 1, static_cast<int>(v.size() - 1)) ||
            region.id() != range_.id ||
            (!region.end_key().empty() && region.end_key() <= region.start_key()))
          return Status::Corruption("region snapshot metadata malformed");
        range_ = RegionRange{region.id(), region.start_key(), region.end_key()};
        region_ = std::move(region);
        continue;
      }
      if (k.empty()) {  // a session record: its key suffix, then its value
        const std::size_t suffix = v.empty() ? 0 : SessionTable::RecordKeySize(v[0]);
        if (suffix == 0 || v.size() < suffix ||
            !SessionTable::ValidRecord(v.substr(0, suffix), v.substr(suffix)))
          return Status::Corruption("region snapshot session record malformed");
        batch.Put(
            ColumnFamily::kMeta,
            keys::RegionSessionStagingPrefix(fsm_->range_.id) + std::string(v.substr(0, suffix)),
            v.substr(suffix));
        continue;
      }
      if (!range_.Contains(k)) return Status::Corruption("region snapshot key outside the region");
      batch.Put(ColumnFamily::kDefault, keys::SnapshotStagingKey(fsm_->range_.id, k), v);
    }
    return fsm_->engine_->Write(batch);  // a chunk with a bad record stages nothing of it
  }
  Status Finish(uint64_t applied_index) override {
    std::lock_guard<std::mutex> lock(fsm_->apply_mu_);  // a target's merge may hold it
    if (fsm_->merged_.load())
      return Status::Aborted("region " + std::to_string(fsm_->range_.id) + " was merged");
    // Every chunk is staged: mark the install (synced, with the staged records before it in
    // the log), then install. A crash from here on finishes the install when the region opens.
    // The metadata the snapshot carried is recorded with the mark: the install (now or on the
    // next open) replaces the data of that range.
    engine::WriteBatch mark;
    fsm_->StageMeta(mark, applied_index, ApplyState::kInstalling);
    if (region_) {
      mark.Put(ColumnFamily::kMeta, keys::RegionLocalStateKey(region_->id()),
               region_->SerializeAsString());
    }
    RETURN_IF_ERROR(fsm_->engine_->WriteSync(mark));
    spdlog::info("region {} installs a snapshot at index {}{}", range_.id, applied_index,
                 region_ ? " of version " + std::to_string(region_->epoch().version()) + ", from " +
                               QuoteInput(region_->start_key()) + " to " +
                               QuoteInput(region_->end_key()) +
                               (region_->has_merging() ? " (merging)" : "")
                         : std::string());
    if (region_) {
      fsm_->SetRegion(*region_);
      if (fsm_->observer_) fsm_->observer_(*region_, nullptr, 0);
    }
    if (FaultPoint("store.snapshot_install"))
      return Status::IOError("injected fault store.snapshot_install");
    return fsm_->InstallStaged(applied_index);
  }

 private:
  RegionFsm* fsm_;
  RegionRange range_;                   // what the snapshot's keys must lie in
  std::optional<meta::Region> region_;  // the metadata the snapshot carried
};

Result<std::unique_ptr<raft::SnapshotReader>> RegionFsm::OpenSnapshot() {
  // The applied index from the snapshot itself: a batch may be applying on the worker.
  auto snap = engine_->GetSnapshot();
  ASSIGN_OR_RETURN(uint64_t applied, AppliedAt(*engine_, MetaKey(), snap.get()));
  // The metadata from the same snapshot: a split may be applying on the worker.
  engine::ReadOptions ro;
  ro.snapshot = snap.get();
  ASSIGN_OR_RETURN(std::optional<std::string> recorded,
                   engine_->Get(ColumnFamily::kMeta, keys::RegionLocalStateKey(range_.id), ro));
  meta::Region region = this->region();
  if (recorded.has_value() && !region.ParseFromString(*recorded))
    return Status::Corruption("region " + std::to_string(range_.id) + " metadata record malformed");
  return std::unique_ptr<raft::SnapshotReader>(new Reader(*this, std::move(snap), applied, region));
}

Result<std::unique_ptr<raft::SnapshotWriter>> RegionFsm::BeginSnapshot() {
  // Whatever an abandoned transfer staged goes first.
  engine::WriteBatch clear;
  clear.DeleteRange(ColumnFamily::kDefault, keys::SnapshotStagingPrefix(range_.id),
                    keys::SnapshotStagingEnd(range_.id));
  clear.DeleteRange(ColumnFamily::kMeta, keys::RegionSessionStagingPrefix(range_.id),
                    keys::RegionSessionStagingEnd(range_.id));
  RETURN_IF_ERROR(engine_->Write(clear));
  return std::unique_ptr<raft::SnapshotWriter>(new Writer(this));
}

}  // namespace rustorium::store
