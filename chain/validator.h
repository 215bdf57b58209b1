// A validator: one Narwhal primary, its workers, Bullshark over the primary's DAG, and the
// executor fed with the committed output, all on one thread and one local engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chain/bullshark/bullshark.h"
#include "chain/executor.h"
#include "chain/narwhal/committee.h"
#include "chain/narwhal/dag_store.h"
#include "chain/narwhal/env.h"
#include "chain/narwhal/parameters.h"
#include "chain/narwhal/primary.h"
#include "chain/narwhal/worker.h"

namespace rustorium::chain {

struct ValidatorOptions {
  NarwhalParameters parameters;
  // Directory of the validator's engine; created when missing, reloaded when present.
  std::string data_dir;
  // Fsync votes, own headers and commits before acting on them (see DagStore::Open).
  bool sync = true;
  // Optional: called on the validator's thread with each header this validator proposes.
  std::function<void(const Header&)> on_proposed;
};

struct ValidatorStats {
  PrimaryStats primary;
  std::vector<WorkerStats> workers;
  uint64_t last_committed_round = 0;
  uint64_t consensus_index = 0;
  uint64_t committed_certificates = 0;  // since this process started
  uint64_t committed_transactions = 0;  // since this process started
  size_t dag_size = 0;                  // certificates Bullshark holds
  size_t primary_items = 0;             // certificates, waiting items and fetches the primary holds
};

class Validator {
 public:
  // Opens the data directory, reloads what it holds, hands `executor` every committed
  // output after executor->LastExecutedIndex(), and starts proposing. `committee`, `env`,
  // `transport` and `executor` must outlive the validator. Errors: those of the engine, or
  // Corruption when its records do not decode, or InvalidArgument when `key` is not in the
  // committee.
  static Result<std::unique_ptr<Validator>> Open(const Committee& committee, const KeyPair& key,
                                                 ValidatorOptions options, Env* env,
                                                 Transport* transport, Executor* executor);
  ~Validator();

  // Bytes from another validator's primary, or to our worker `worker_id` (from workers and
  // clients), with what the transport knows of the sender (env.h). Bad messages are counted
  // and dropped; claims of another member's name than `from`'s are refused and counted.
  void OnPrimaryMessage(std::string_view bytes, const MessageSource& from);
  void OnWorkerMessage(uint32_t worker_id, std::string_view bytes, const MessageSource& from);
  // A client's transaction to worker `worker_id`. InvalidArgument when the transaction is
  // empty or too large, or the worker does not exist.
  Status SubmitTransaction(uint32_t worker_id, std::string transaction);

  ValidatorStats stats() const;
  // Our latest header, if any.
  const std::optional<Header>& LatestOwnHeader() const { return primary_->own_header(); }
  const PublicKey& name() const { return key_.public_key(); }

 private:
  Validator(const Committee& committee, const KeyPair& key, ValidatorOptions options, Env* env,
            Transport* transport, Executor* executor, std::unique_ptr<DagStore> store,
            ConsensusState state);
  Status Start();
  // Hands the workers every stored batch that no stored certificate above `gc_round` names:
  // in-memory state (a peer's unnamed batches, our own batches spreading or waiting for a
  // header) does not survive a restart, so these would otherwise never go. They are collected
  // orphan_batch_age_ms after start-up unless a certificate names them meanwhile.
  Status RestoreUnnamedBatches(uint64_t gc_round);
  void OnCertificate(const Certificate& certificate);
  Result<ConsensusOutput> Resolve(uint64_t index, const Certificate& anchor,
                                  const std::vector<Certificate>& certificates) const;
  void Deliver(const ConsensusOutput& output);

  const Committee& committee_;
  KeyPair key_;
  ValidatorOptions options_;
  Env* env_;
  Transport* transport_;
  Executor* executor_;
  std::unique_ptr<DagStore> store_;
  Bullshark bullshark_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Primary> primary_;
  uint64_t committed_certificates_ = 0;
  uint64_t committed_transactions_ = 0;
};

}  // namespace rustorium::chain
