// Where ordered transactions go: the consumer of consensus output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/narwhal/messages.h"

namespace rustorium::chain {

// One committed sub-DAG with its transactions resolved from the batches.
struct ConsensusOutput {
  uint64_t index = 0;  // consensus index: 1, 2, 3...
  uint64_t anchor_round = 0;
  PublicKey anchor_author{};
  std::vector<Certificate> certificates;  // in commit order, the anchor last
  // Every transaction of every certificate's batches: certificates in order, each header's
  // batches in payload order, each batch's transactions in order.
  std::vector<std::string> transactions;
};

// Called on the validator's thread, once per consensus index, in index order.
class Executor {
 public:
  virtual ~Executor() = default;
  // The index of the last output this executor has applied (0 for none): a restarted
  // validator hands it everything after, and nothing before.
  virtual uint64_t LastExecutedIndex() const = 0;
  virtual void Execute(const ConsensusOutput& output) = 0;
};

}  // namespace rustorium::chain
