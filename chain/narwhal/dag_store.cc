#include "chain/narwhal/dag_store.h"

#include <cstring>

#include "base/codec.h"
#include "chain/narwhal/dag_keys.h"

namespace rustorium::chain {
namespace {

using namespace dag_keys;  // NOLINT(google-build-using-namespace): the key builders

using engine::ColumnFamily;
constexpr ColumnFamily kCf = ColumnFamily::kDefault;

template <size_t N>
bool CopyFixed(std::string_view in, std::array<uint8_t, N>& out) {
  if (in.size() != N) return false;
  std::memcpy(out.data(), in.data(), N);
  return true;
}

}  // namespace

Result<std::unique_ptr<DagStore>> DagStore::Open(const std::string& path, bool sync) {
  engine::StorageOptions options;
  options.path = path;
  options.sync_mode = sync ? engine::SyncMode::kFull : engine::SyncMode::kNone;
  options.block_cache_size = 8 << 20;
  // Batches live for gc_depth rounds (seconds) and are mostly deleted before a flush: large
  // memtables, and no compression for what compaction rewrites (zstd took a quarter of a
  // validator's CPU under load; the payload is the clients' and often incompressible).
  options.write_buffer_size = 64 << 20;
  options.compression = false;
  options.max_background_jobs = 1;
  options.max_value_size = kMaxMessageSize;
  ASSIGN_OR_RETURN(auto eng, engine::Engine::Open(options));
  return std::unique_ptr<DagStore>(new DagStore(std::move(eng), sync));
}

Status DagStore::Write(engine::WriteBatch& batch, bool durable) {
  return durable && sync_ ? engine_->WriteSync(batch) : engine_->Write(batch);
}

Status DagStore::PutBatch(const Digest& digest, const Batch& batch) {
  return engine_->Put(kCf, BatchKey(digest), EncodeBatch(batch));
}

bool DagStore::HasBatch(const Digest& digest) const {
  auto got = engine_->Get(kCf, BatchKey(digest));
  return got.ok() && got.value().has_value();
}

Result<Batch> DagStore::GetBatch(const Digest& digest) const {
  ASSIGN_OR_RETURN(auto bytes, engine_->Get(kCf, BatchKey(digest)));
  if (!bytes) return Status::NotFound("batch " + ShortHex(digest));
  return DecodeBatch(*bytes);
}

Result<std::vector<Digest>> DagStore::ListBatchDigests() const {
  engine::IteratorOptions options;
  options.prefix = std::string(1, kBatchPrefix);
  options.fill_cache = false;  // a one-off scan at start-up
  auto it = engine_->NewIterator(kCf, options);
  std::vector<Digest> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Digest digest;
    if (!CopyFixed(it->key().substr(1), digest)) return Status::Corruption("malformed batch key");
    out.push_back(digest);
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Status DagStore::PutCertificate(const Certificate& c) {
  return engine_->Put(kCf, CertificateKey(c.round(), c.origin()), EncodeCertificate(c));
}

Result<std::vector<Certificate>> DagStore::LoadCertificatesAbove(uint64_t round) const {
  engine::IteratorOptions options;
  options.prefix = std::string(1, kCertificatePrefix);
  auto it = engine_->NewIterator(kCf, options);
  std::vector<Certificate> out;
  for (it->Seek(CertificateKey(round + 1, PublicKey{})); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(Certificate c, DecodeCertificate(it->value()));
    out.push_back(std::move(c));
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Status DagStore::PutLastVote(const PublicKey& author, const LastVote& vote) {
  std::string value;
  PutFixed64BE(value, vote.round);
  value.append(AsBytes(vote.header_id));
  engine::WriteBatch batch;
  batch.Put(kCf, VoteKey(author), value);
  return Write(batch, true);
}

Result<std::map<PublicKey, LastVote>> DagStore::LoadLastVotes() const {
  engine::IteratorOptions options;
  options.prefix = std::string(1, kVotePrefix);
  auto it = engine_->NewIterator(kCf, options);
  std::map<PublicKey, LastVote> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PublicKey author;
    LastVote vote;
    std::string_view value = it->value();
    if (!CopyFixed(it->key().substr(1), author) || value.size() != 40 ||
        !CopyFixed(value.substr(8), vote.header_id)) {
      return Status::Corruption("malformed vote record");
    }
    vote.round = GetFixed64BE(value);
    out[author] = vote;
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Status DagStore::PutOwnHeader(const Header& header) {
  engine::WriteBatch batch;
  batch.Put(kCf, kHeaderKey, EncodeMessage(header));
  return Write(batch, true);
}

Result<std::optional<Header>> DagStore::LoadOwnHeader() const {
  ASSIGN_OR_RETURN(auto bytes, engine_->Get(kCf, kHeaderKey));
  if (!bytes) return std::optional<Header>();
  ASSIGN_OR_RETURN(Message message, DecodeMessage(*bytes));
  if (!std::holds_alternative<Header>(message)) return Status::Corruption("own header record");
  return std::optional<Header>(std::get<Header>(std::move(message)));
}

Status DagStore::PutCommits(const ConsensusState& state,
                            const std::vector<CommittedSubDag>& commits) {
  engine::WriteBatch batch;
  for (const CommittedSubDag& dag : commits) {
    std::string value(AsBytes(dag.anchor.ComputeDigest()));
    for (const Certificate& c : dag.certificates) value.append(AsBytes(c.ComputeDigest()));
    batch.Put(kCf, OutputKey(dag.index), value);
  }
  batch.Put(kCf, kStateKey, EncodeConsensusState(state));
  return Write(batch, true);
}

Result<std::optional<ConsensusState>> DagStore::LoadConsensusState() const {
  ASSIGN_OR_RETURN(auto bytes, engine_->Get(kCf, kStateKey));
  if (!bytes) return std::optional<ConsensusState>();
  ASSIGN_OR_RETURN(ConsensusState state, DecodeConsensusState(*bytes));
  return std::optional<ConsensusState>(std::move(state));
}

Result<std::optional<OutputRecord>> DagStore::GetOutput(uint64_t index) const {
  ASSIGN_OR_RETURN(auto bytes, engine_->Get(kCf, OutputKey(index)));
  if (!bytes) return std::optional<OutputRecord>();
  if (bytes->empty() || bytes->size() % 32 != 0)
    return Status::Corruption("malformed output record");
  OutputRecord record;
  record.index = index;
  CopyFixed(std::string_view(*bytes).substr(0, 32), record.anchor);
  for (size_t at = 32; at < bytes->size(); at += 32) {
    Digest d;
    CopyFixed(std::string_view(*bytes).substr(at, 32), d);
    record.certificates.push_back(d);
  }
  return std::optional<OutputRecord>(std::move(record));
}

Status DagStore::GarbageCollect(uint64_t gc_round, const std::vector<Digest>& batches) {
  engine::WriteBatch batch;
  batch.DeleteRange(kCf, CertificateKey(0, PublicKey{}), CertificateKey(gc_round + 1, PublicKey{}));
  for (const Digest& d : batches) batch.Delete(kCf, BatchKey(d));
  return Write(batch, false);
}

Status DagStore::DeleteBatches(const std::vector<Digest>& batches) {
  engine::WriteBatch batch;
  for (const Digest& d : batches) batch.Delete(kCf, BatchKey(d));
  return Write(batch, false);
}

}  // namespace rustorium::chain
