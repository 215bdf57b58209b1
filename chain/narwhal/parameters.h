// Tunables of a Narwhal validator, with the reference implementation's defaults where it has
// one (batch 500 KB / 200 ms, header 1,000 B / 200 ms, GC depth 50).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rustorium::chain {

struct NarwhalParameters {
  // A worker seals its batch once it holds this many transaction bytes...
  size_t batch_size = 500'000;
  // ...or this long after its first transaction.
  uint64_t max_batch_delay_ms = 200;
  // A primary proposes once its payload digests take this many bytes (36 per batch)...
  size_t header_size = 1'000;
  // ...or this long after its previous header, whichever comes first (parents permitting).
  uint64_t max_header_delay_ms = 200;
  // Rounds of DAG kept behind the last committed anchor.
  uint64_t gc_depth = 50;
  // Headers and certificates more than this many rounds above the highest accepted round
  // are dropped (a bound on what a peer can make us hold).
  uint64_t max_rounds_ahead = 200;
  // Period of every retry: re-broadcasts of our own batch, header and certificate to those
  // that have not answered, and fetches of missing certificates and batches from others.
  uint64_t retry_delay_ms = 1'000;
  // Sealed batches a worker holds that 2f + 1 stake have not yet acknowledged; past this it
  // refuses new transactions (Busy) instead of growing without bound while a quorum is down.
  size_t max_pending_batches = 1'000;
  // Most batches one header may carry.
  size_t max_header_batches = 1'000;
  // A batch another validator's worker sent us that no header has named this long after it
  // was stored is deleted (a peer cannot fill our disk with batches nobody proposes). Its
  // header, should it come later, fetches it again.
  uint64_t orphan_batch_age_ms = 60'000;
  // Bytes of one validator's batches (Worker::ChargedBytes: transactions plus a small
  // overhead each) that we store while no certificate names them; a batch that would pass it is not
  // stored or acknowledged (its author resends), so a peer's flood is bounded on disk by this, not
  // by its rate times orphan_batch_age_ms. Honest validators hold a few rounds of batches here.
  size_t max_unnamed_batch_bytes = 256 << 20;
};

}  // namespace rustorium::chain
