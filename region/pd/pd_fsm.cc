#include "region/pd/pd_fsm.h"

#include <algorithm>

#include "base/codec.h"
#include "region/keys.h"

namespace rustorium::pd {

namespace {

bool EpochNewer(const meta::RegionEpoch& a, const meta::RegionEpoch& b) {
  return a.conf_ver() > b.conf_ver() || a.version() > b.version();
}

bool Overlap(const meta::Region& a, const meta::Region& b) {
  const bool a_before_b = !a.end_key().empty() && a.end_key() <= b.start_key();
  const bool b_before_a = !b.end_key().empty() && b.end_key() <= a.start_key();
  return !a_before_b && !b_before_a;
}

// The first region id of a state written before regions had a counter of their own (or of a
// new state). Region 1 is the bootstrap region's, never allocated.
uint64_t FirstFreeRegionId(const PdState& state) {
  uint64_t next = std::max<uint64_t>(state.next_id(), 2);
  for (const meta::Region& r : state.regions()) next = std::max(next, r.id() + 1);
  return next;
}

// Applies a store registration to `next`; the store's id, or the reason it is refused.
Result<uint64_t> RegisterStore(const StoreInfo& in, PdState& next) {
  RETURN_IF_ERROR(CheckStoreInfo(in));
  StoreInfo* same_id = nullptr;
  StoreInfo* same_address = nullptr;
  for (StoreInfo& s : *next.mutable_stores()) {
    if (in.id() != 0 && s.id() == in.id()) same_id = &s;
    if (s.address() == in.address()) same_address = &s;
  }
  if (in.id() == 0) same_id = same_address;  // plain TCP: an address keeps its id
  if (same_address != nullptr && same_address != same_id) {
    return Status::InvalidArgument("address " + in.address() + " belongs to store " +
                                   std::to_string(same_address->id()));
  }
  if (same_id != nullptr && same_id->public_key() != in.public_key()) {
    return Status::InvalidArgument(
        "store " + std::to_string(same_id->id()) +
        " is registered with another public key: its data directory was wiped or it is "
        "another machine; a store that lost its data needs a new id (a new certificate, "
        "`rustorium certs create --store ID`)");
  }
  if (same_id == nullptr) {
    same_id = next.add_stores();
    same_id->set_id(in.id() != 0 ? in.id() : next.next_id());
    next.set_next_id(std::max(next.next_id(), same_id->id() + 1));
  }
  const uint64_t id = same_id->id();
  *same_id = in;
  same_id->set_id(id);
  return id;
}

}  // namespace

Status CheckStoreInfo(const StoreInfo& s) {
  if (s.address().empty() || s.address().size() > kMaxStoreAddressBytes) {
    return Status::InvalidArgument("a store's address has 1.." +
                                   std::to_string(kMaxStoreAddressBytes) + " bytes");
  }
  if (s.public_key().size() != 32) {
    return Status::InvalidArgument("a store registers with its 32-byte public key");
  }
  if (s.labels_size() > kMaxStoreLabels) {
    return Status::InvalidArgument("a store has at most " + std::to_string(kMaxStoreLabels) +
                                   " labels");
  }
  for (const auto& [name, value] : s.labels()) {
    if (name.empty() || name.size() > kMaxLabelNameBytes || value.size() > kMaxLabelValueBytes) {
      return Status::InvalidArgument("a label name has 1.." + std::to_string(kMaxLabelNameBytes) +
                                     " bytes and its value at most " +
                                     std::to_string(kMaxLabelValueBytes));
    }
  }
  return Status::OK();
}

Status CheckRegion(const meta::Region& r) {
  if (r.id() == 0) return Status::InvalidArgument("a region needs an id");
  if (r.start_key().size() > kMaxRegionKeyBytes || r.end_key().size() > kMaxRegionKeyBytes) {
    return Status::InvalidArgument("a region's keys have at most " +
                                   std::to_string(kMaxRegionKeyBytes) + " bytes");
  }
  if (r.origin_statement().size() > kMaxOriginStatementBytes || r.origin_signature().size() > 64) {
    return Status::InvalidArgument("a region's split statement has at most " +
                                   std::to_string(kMaxOriginStatementBytes) +
                                   " bytes and its signature 64");
  }
  if (r.peers_size() < 1 || r.peers_size() > kMaxRegionPeers) {
    return Status::InvalidArgument("a region has 1.." + std::to_string(kMaxRegionPeers) + " peers");
  }
  for (int i = 0; i < r.peers_size(); ++i) {
    const meta::Peer& p = r.peers(i);
    if (p.store_id() == 0 || p.address().size() > kMaxStoreAddressBytes) {
      return Status::InvalidArgument("a region's peer needs a store id and an address of at most " +
                                     std::to_string(kMaxStoreAddressBytes) + " bytes");
    }
    for (int j = 0; j < i; ++j) {
      if (r.peers(j).store_id() == p.store_id()) {
        return Status::InvalidArgument("a region names store " + std::to_string(p.store_id()) +
                                       " twice");
      }
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<PdFsm>> PdFsm::Open(engine::Engine* engine) {
  std::unique_ptr<PdFsm> fsm(new PdFsm(engine));
  ASSIGN_OR_RETURN(std::optional<std::string> v,
                   engine->Get(engine::ColumnFamily::kMeta, keys::PdStateKey()));
  if (!v.has_value()) {
    // Written before the meta family had one key convention; moved by the next Persist.
    ASSIGN_OR_RETURN(v, engine->Get(engine::ColumnFamily::kMeta, keys::kLegacyPdStateKey));
  }
  if (v.has_value()) {
    if (v->size() < 8 ||
        !fsm->state_.ParseFromArray(v->data() + 8, static_cast<int>(v->size() - 8))) {
      return Status::Corruption("PD state record malformed");
    }
    fsm->applied_ = GetFixed64BE(*v);
  }
  if (fsm->state_.next_id() == 0) fsm->state_.set_next_id(1);
  if (fsm->state_.next_region_id() == 0) {
    fsm->state_.set_next_region_id(FirstFreeRegionId(fsm->state_));
  }
  return fsm;
}

Status PdFsm::Persist(uint64_t applied, const PdState& state, bool sync) {
  std::string v;
  PutFixed64BE(v, applied);
  v += state.SerializeAsString();
  engine::WriteBatch batch;
  batch.Put(engine::ColumnFamily::kMeta, keys::PdStateKey(), v);
  batch.Delete(engine::ColumnFamily::kMeta, keys::kLegacyPdStateKey);
  return sync ? engine_->WriteSync(batch) : engine_->Write(batch);
}

Result<std::string> PdFsm::Apply(uint64_t index, std::string_view bytes) {
  PdCommand command;
  PdResult result;
  PdState next = state_;
  if (!command.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    result.set_error("malformed PD command");
  } else {
    switch (command.body_case()) {
      case PdCommand::kRegisterStore: {
        Result<uint64_t> id = RegisterStore(command.register_store(), next);
        if (!id.ok()) {
          next = state_;
          result.set_error(id.status().message());
          break;
        }
        result.set_store_id(*id);
        break;
      }
      case PdCommand::kAllocIds:
        if (command.alloc_ids() == 0 || command.alloc_ids() > 1000000) {
          result.set_error("ids are allocated 1..1000000 at a time");
          break;
        }
        result.set_first_id(next.next_region_id());
        next.set_next_region_id(next.next_region_id() + command.alloc_ids());
        break;
      case PdCommand::kPutRegion: {
        const meta::Region& r = command.put_region();
        if (Status s = CheckRegion(r); !s.ok()) {
          result.set_error(s.message());
          break;
        }
        // A report older than a region it overlaps is stale (that region split or merged
        // since): ignored. Otherwise the regions it overlaps are the older shapes of its range,
        // and go (their own newer reports follow).
        bool stale = false;
        for (const meta::Region& existing : next.regions()) {
          if (existing.id() == r.id()) {
            stale = stale || !EpochNewer(r.epoch(), existing.epoch());
          } else if (Overlap(existing, r) && existing.epoch().version() >= r.epoch().version()) {
            stale = true;
          }
        }
        bool known = false;
        for (const meta::Region& existing : next.regions())
          known = known || existing.id() == r.id();
        if (stale) {
          if (!known)
            result.set_error("region " + std::to_string(r.id()) +
                             " is reported at a stale version");
          break;
        }
        google::protobuf::RepeatedPtrField<meta::Region> kept;
        for (meta::Region& existing : *next.mutable_regions()) {
          if (existing.id() != r.id() && !Overlap(existing, r)) *kept.Add() = std::move(existing);
        }
        *kept.Add() = r;
        next.mutable_regions()->Swap(&kept);
        next.set_next_region_id(std::max(next.next_region_id(), r.id() + 1));
        break;
      }
      case PdCommand::kSaveTimestamp:
        next.set_timestamp_high_water(
            std::max(next.timestamp_high_water(), command.save_timestamp()));
        break;
      case PdCommand::BODY_NOT_SET:
        result.set_error("PD command without a body");
        break;
    }
  }
  // The high-water mark must be durable before a timestamp below it is served.
  RETURN_IF_ERROR(Persist(index, next, command.has_save_timestamp()));
  state_ = std::move(next);
  applied_ = index;
  return result.SerializeAsString();
}

const meta::Region* PdFsm::RegionFor(std::string_view key) const {
  for (const meta::Region& r : state_.regions()) {
    if (key >= r.start_key() && (r.end_key().empty() || key < r.end_key())) return &r;
  }
  return nullptr;
}

class PdFsm::Reader : public raft::SnapshotReader {
 public:
  explicit Reader(const PdFsm& fsm)
      : applied_(fsm.applied_), bytes_(fsm.state_.SerializeAsString()) {}
  uint64_t applied_index() const override { return applied_; }
  Result<bool> Next(std::string* chunk, std::size_t max_bytes) override {
    const std::size_t n = std::min(max_bytes, bytes_.size() - offset_);
    chunk->append(bytes_, offset_, n);
    offset_ += n;
    return n > 0;
  }

 private:
  uint64_t applied_;
  std::string bytes_;
  std::size_t offset_ = 0;
};

class PdFsm::Writer : public raft::SnapshotWriter {
 public:
  explicit Writer(PdFsm* fsm) : fsm_(fsm) {}
  Status Add(std::string_view chunk) override {
    if (bytes_.size() + chunk.size() > (64u << 20))
      return Status::InvalidArgument("PD snapshot too large");
    bytes_.append(chunk);
    return Status::OK();
  }
  Status Finish(uint64_t applied_index) override {
    PdState state;
    if (!state.ParseFromString(bytes_)) return Status::Corruption("PD snapshot does not parse");
    if (state.next_region_id() == 0) state.set_next_region_id(FirstFreeRegionId(state));
    RETURN_IF_ERROR(fsm_->Persist(applied_index, state, true));
    fsm_->state_ = std::move(state);
    fsm_->applied_ = applied_index;
    return Status::OK();
  }

 private:
  PdFsm* fsm_;
  std::string bytes_;
};

Result<std::unique_ptr<raft::SnapshotReader>> PdFsm::OpenSnapshot() {
  return std::unique_ptr<raft::SnapshotReader>(new Reader(*this));
}

Result<std::unique_ptr<raft::SnapshotWriter>> PdFsm::BeginSnapshot() {
  return std::unique_ptr<raft::SnapshotWriter>(new Writer(this));
}

}  // namespace rustorium::pd
