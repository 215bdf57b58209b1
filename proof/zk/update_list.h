// The update list: the explicit (op, key, old value, new value) of each update of a batch,
// what `rustorium zk prove` writes beside a proof (updates.json) and what a verifier
// recomputes the commitment C from (BatchCommitment) and, given the input tree, replays
// (WitnessTree::Replay) to check R0 and RK. JSON:
//   {"levels": D, "batch": K, "updates": [{"op": "insert" | "update" | "delete",
//     "key": "…", "old_value": "…", "new_value": "…"}, …]}
// with field elements as decimal strings (0x-hex is read too). No-ops are padding and never
// listed: the list holds the real updates in order, at most K.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proof/zk/batch_circuit.h"
#include "proof/zk/witness_tree.h"

namespace rustorium::proof::zk {

struct UpdateList {
  BatchShape shape;
  std::vector<UpdateWitness> updates;  // op, key, old_value and new_value only
};

// The list's JSON; `updates` must hold no no-ops (they are skipped).
std::string UpdateListToJson(const BatchShape& shape, std::span<const UpdateWitness> updates);

// Parses untrusted text. Corruption, saying where, for anything malformed: not JSON, a shape
// out of range, more than K updates, an unknown or no-op operation, a value not below r, an
// insert with a nonzero old value, a delete with a nonzero new value.
Result<UpdateList> UpdateListFromJson(std::string_view json);

}  // namespace rustorium::proof::zk
