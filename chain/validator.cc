#include "chain/validator.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <set>

namespace rustorium::chain {

Result<std::unique_ptr<Validator>> Validator::Open(const Committee& committee, const KeyPair& key,
                                                   ValidatorOptions options, Env* env,
                                                   Transport* transport, Executor* executor) {
  if (!committee.Contains(key.public_key())) {
    return Status::InvalidArgument("validator key " + ShortHex(key.public_key()) +
                                   " is not in the committee");
  }
  ASSIGN_OR_RETURN(auto store, DagStore::Open(options.data_dir, options.sync));
  ASSIGN_OR_RETURN(std::optional<ConsensusState> state, store->LoadConsensusState());
  std::unique_ptr<Validator> validator(new Validator(committee, key, std::move(options), env,
                                                     transport, executor, std::move(store),
                                                     state.value_or(ConsensusState{})));
  RETURN_IF_ERROR(validator->Start());
  return validator;
}

Validator::Validator(const Committee& committee, const KeyPair& key, ValidatorOptions options,
                     Env* env, Transport* transport, Executor* executor,
                     std::unique_ptr<DagStore> store, ConsensusState state)
    : committee_(committee),
      key_(key),
      options_(std::move(options)),
      env_(env),
      transport_(transport),
      executor_(executor),
      store_(std::move(store)),
      bullshark_(committee, options_.parameters.gc_depth, std::move(state)) {}

Validator::~Validator() = default;

Status Validator::Start() {
  const uint64_t gc_round = bullshark_.gc_round();
  // Outputs committed before a crash that the executor has not applied go to it first.
  if (executor_->LastExecutedIndex() < bullshark_.state().last_index) {
    // Every stored certificate, not only those above the restored bound: a sub-DAG may hold
    // certificates at or below the bound its own commit set (the store collects them only
    // after delivery).
    ASSIGN_OR_RETURN(std::vector<Certificate> stored, store_->LoadCertificatesAbove(0));
    std::map<Digest, const Certificate*> by_digest;
    for (const Certificate& c : stored) by_digest[c.ComputeDigest()] = &c;
    for (uint64_t index = executor_->LastExecutedIndex() + 1;
         index <= bullshark_.state().last_index; ++index) {
      ASSIGN_OR_RETURN(std::optional<OutputRecord> record, store_->GetOutput(index));
      if (!record) return Status::Corruption("output " + std::to_string(index) + " is missing");
      std::vector<Certificate> certificates;
      for (const Digest& d : record->certificates) {
        auto it = by_digest.find(d);
        if (it == by_digest.end()) {
          return Status::FailedPrecondition(
              "output " + std::to_string(index) +
              " fell below the GC bound before the executor applied it");
        }
        certificates.push_back(*it->second);
      }
      if (certificates.empty())
        return Status::Corruption("output " + std::to_string(index) + " is empty");
      ASSIGN_OR_RETURN(ConsensusOutput output, Resolve(index, certificates.back(), certificates));
      Deliver(output);
    }
  }
  for (uint32_t id = 0; id < committee_.Find(name())->workers; ++id) {
    Worker::Callbacks callbacks{
        [this](const PayloadEntry& entry) { primary_->OnOwnBatch(entry); },
        [this](const Digest& digest) { primary_->OnBatchStored(digest); },
    };
    workers_.push_back(std::make_unique<Worker>(committee_, name(), id, options_.parameters, env_,
                                                transport_, store_.get(), std::move(callbacks)));
  }
  RETURN_IF_ERROR(RestoreUnnamedBatches(gc_round));
  Primary::Callbacks callbacks{
      [this](const Certificate& c) { OnCertificate(c); },
      [this](uint32_t worker_id, const std::vector<Digest>& digests, const PublicKey& author) {
        if (worker_id < workers_.size()) workers_[worker_id]->Synchronize(digests, author);
      },
      options_.on_proposed,
      [this](const Header& header, bool certified) {
        // The store keys batches by digest alone, so a name under any worker id keeps the one
        // stored record: every worker hears it (the one holding the digest unnamed may be
        // another, for a batch restored at start-up or sent to two workers).
        std::vector<Digest> digests;
        digests.reserve(header.payload.size());
        for (const PayloadEntry& p : header.payload) digests.push_back(p.batch);
        for (auto& worker : workers_) worker->OnBatchesNamed(digests, certified);
      },
  };
  primary_ = std::make_unique<Primary>(committee_, key_, options_.parameters, env_, transport_,
                                       store_.get(), std::move(callbacks));
  return primary_->Start(gc_round);
}

Status Validator::RestoreUnnamedBatches(uint64_t gc_round) {
  ASSIGN_OR_RETURN(std::vector<Digest> stored, store_->ListBatchDigests());
  if (stored.empty() || workers_.empty()) return Status::OK();
  ASSIGN_OR_RETURN(std::vector<Certificate> certificates, store_->LoadCertificatesAbove(gc_round));
  std::set<Digest> named;
  for (const Certificate& c : certificates) {
    for (const PayloadEntry& p : c.header.payload) named.insert(p.batch);
  }
  // Spread over the workers by digest (any may delete the record: see on_header_verified).
  std::vector<std::vector<Digest>> by_worker(workers_.size());
  for (const Digest& d : stored) {
    if (!named.count(d)) by_worker[d[0] % workers_.size()].push_back(d);
  }
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->RestoreUnnamed(by_worker[i]);
  return Status::OK();
}

void Validator::OnPrimaryMessage(std::string_view bytes, const MessageSource& from) {
  primary_->OnMessage(bytes, from);
}

void Validator::OnWorkerMessage(uint32_t worker_id, std::string_view bytes,
                                const MessageSource& from) {
  if (worker_id < workers_.size()) workers_[worker_id]->OnMessage(bytes, from);
}

Status Validator::SubmitTransaction(uint32_t worker_id, std::string transaction) {
  if (worker_id >= workers_.size())
    return Status::InvalidArgument("no worker " + std::to_string(worker_id));
  return workers_[worker_id]->SubmitTransaction(std::move(transaction));
}

void Validator::OnCertificate(const Certificate& certificate) {
  std::vector<CommittedSubDag> commits = bullshark_.ProcessCertificate(certificate);
  if (commits.empty()) return;
  if (Status s = store_->PutCommits(bullshark_.state(), commits); !s.ok()) {
    // The order is decided but cannot be recorded: going on could hand the executor an
    // output that a restart would not know about. Stop, like etcd on a failed WAL write.
    spdlog::critical("validator {}: cannot record commits: {}", ShortHex(name()), s.ToString());
    std::abort();
  }
  for (const CommittedSubDag& dag : commits) {
    auto output = Resolve(dag.index, dag.anchor, dag.certificates);
    if (!output.ok()) {
      spdlog::critical("validator {}: committed output {} cannot be read back: {}",
                       ShortHex(name()), dag.index, output.status().ToString());
      std::abort();
    }
    for (const Certificate& c : dag.certificates) primary_->OnCommitted(c);
    Deliver(*output);
  }
  std::vector<Digest> batches = primary_->GarbageCollect(bullshark_.gc_round());
  for (auto& worker : workers_) worker->CancelSynchronize(batches);
  if (Status s = store_->GarbageCollect(bullshark_.gc_round(), batches); !s.ok()) {
    spdlog::warn("validator {}: garbage collection failed (retried at the next commit): {}",
                 ShortHex(name()), s.ToString());
  }
}

Result<ConsensusOutput> Validator::Resolve(uint64_t index, const Certificate& anchor,
                                           const std::vector<Certificate>& certificates) const {
  ConsensusOutput output;
  output.index = index;
  output.anchor_round = anchor.round();
  output.anchor_author = anchor.origin();
  output.certificates = certificates;
  for (const Certificate& c : certificates) {
    for (const PayloadEntry& p : c.header.payload) {
      ASSIGN_OR_RETURN(Batch batch, store_->GetBatch(p.batch));
      for (std::string& tx : batch.transactions) output.transactions.push_back(std::move(tx));
    }
  }
  return output;
}

void Validator::Deliver(const ConsensusOutput& output) {
  committed_certificates_ += output.certificates.size();
  committed_transactions_ += output.transactions.size();
  executor_->Execute(output);
}

ValidatorStats Validator::stats() const {
  ValidatorStats s;
  s.primary = primary_->stats();
  for (const auto& w : workers_) s.workers.push_back(w->stats());
  s.last_committed_round = bullshark_.state().last_committed_round;
  s.consensus_index = bullshark_.state().last_index;
  s.committed_certificates = committed_certificates_;
  s.committed_transactions = committed_transactions_;
  s.dag_size = bullshark_.dag_size();
  s.primary_items = primary_->memory_items();
  return s;
}

}  // namespace rustorium::chain
