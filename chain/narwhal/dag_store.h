// A validator's durable state in its local engine: batches, certificates by round, its last
// vote per author, its own latest header, the consensus state and the output sequence (keys in
// dag_keys.h). Single owner thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/narwhal/consensus_state.h"
#include "chain/narwhal/messages.h"
#include "engine/engine.h"

namespace rustorium::chain {

// The highest-round header a validator voted for, per author.
struct LastVote {
  uint64_t round = 0;
  Digest header_id{};
};

// One entry of the output sequence: a committed sub-DAG by digests.
struct OutputRecord {
  uint64_t index = 0;
  Digest anchor{};
  std::vector<Digest> certificates;
};

class DagStore {
 public:
  // Opens (creating) the engine at `path`. With `sync` false, writes reach the OS but are not
  // fsynced: enough against process crashes (the simulation's model), not power loss.
  static Result<std::unique_ptr<DagStore>> Open(const std::string& path, bool sync);

  Status PutBatch(const Digest& digest, const Batch& batch);
  bool HasBatch(const Digest& digest) const;
  // NotFound when absent; Corruption when the stored bytes do not decode.
  Result<Batch> GetBatch(const Digest& digest) const;
  // The digest of every stored batch, in key order: digests only (32 bytes each, never the
  // batches), so the memory is 32 bytes times the batches stored, which the workers' unnamed
  // quota and the GC depth bound. Corruption when a batch key is not a digest. For start-up.
  Result<std::vector<Digest>> ListBatchDigests() const;

  Status PutCertificate(const Certificate& certificate);
  // Every stored certificate of a round above `round`, by round then author.
  Result<std::vector<Certificate>> LoadCertificatesAbove(uint64_t round) const;

  // Durable before returning (the vote is sent after).
  Status PutLastVote(const PublicKey& author, const LastVote& vote);
  Result<std::map<PublicKey, LastVote>> LoadLastVotes() const;

  // Durable before returning (the header is broadcast after).
  Status PutOwnHeader(const Header& header);
  Result<std::optional<Header>> LoadOwnHeader() const;

  // Records the sub-DAGs and the state after them in one durable write.
  Status PutCommits(const ConsensusState& state, const std::vector<CommittedSubDag>& commits);
  Result<std::optional<ConsensusState>> LoadConsensusState() const;
  Result<std::optional<OutputRecord>> GetOutput(uint64_t index) const;

  // Deletes the certificates of rounds <= gc_round and the given batches.
  Status GarbageCollect(uint64_t gc_round, const std::vector<Digest>& batches);
  // Deletes the given batches (and nothing else).
  Status DeleteBatches(const std::vector<Digest>& batches);

 private:
  DagStore(std::unique_ptr<engine::Engine> engine, bool sync)
      : engine_(std::move(engine)), sync_(sync) {}
  Status Write(engine::WriteBatch& batch, bool durable);

  std::unique_ptr<engine::Engine> engine_;
  bool sync_;
};

}  // namespace rustorium::chain
