// PdFsm: the placement driver's replicated state (stores, regions, the id allocator and the
// timestamp oracle's high-water mark) as a Raft state machine. The state is small (a cluster's
// stores and regions), kept in memory and written whole, with the applied index, to the
// engine's meta column family on every apply.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "region/pd/pd.pb.h"
#include "region/raft/state_machine.h"

namespace rustorium::pd {

// Bounds of what PD stores (pd.proto): a command beyond them is refused.
inline constexpr std::size_t kMaxStoreAddressBytes = 256;
inline constexpr int kMaxStoreLabels = 16;
inline constexpr std::size_t kMaxLabelNameBytes = 64;
inline constexpr std::size_t kMaxLabelValueBytes = 256;
inline constexpr std::size_t kMaxRegionKeyBytes = 8192;  // the store's max_key_size
inline constexpr int kMaxRegionPeers = 16;
// A region's split statement: its fixed fields and one split key.
inline constexpr std::size_t kMaxOriginStatementBytes = 256 + kMaxRegionKeyBytes;

// OK when `store` is within the bounds (address, labels, a 32-byte key); InvalidArgument
// naming the bound otherwise.
Status CheckStoreInfo(const StoreInfo& store);
// OK when `region` is within the bounds (an id, keys, 1..kMaxRegionPeers distinct peers with
// addresses); InvalidArgument naming the bound otherwise.
Status CheckRegion(const meta::Region& region);

class PdFsm : public raft::StateMachine {
 public:
  static Result<std::unique_ptr<PdFsm>> Open(engine::Engine* engine);

  // `command` is a serialized PdCommand; the result a serialized PdResult.
  Result<std::string> Apply(uint64_t index, std::string_view command) override;
  uint64_t AppliedIndex() const override { return applied_; }
  Result<std::unique_ptr<raft::SnapshotReader>> OpenSnapshot() override;
  Result<std::unique_ptr<raft::SnapshotWriter>> BeginSnapshot() override;

  const PdState& state() const { return state_; }
  // The region whose range holds `key`, if any.
  const meta::Region* RegionFor(std::string_view key) const;

 private:
  explicit PdFsm(engine::Engine* engine) : engine_(engine) {}
  Status Persist(uint64_t applied, const PdState& state, bool sync);
  class Reader;
  class Writer;

  engine::Engine* engine_;
  PdState state_;
  uint64_t applied_ = 0;
};

}  // namespace rustorium::pd
