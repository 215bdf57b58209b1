#include "chain/narwhal/messages.h"

#include <algorithm>
#include <cstring>

#include "base/codec.h"

namespace rustorium::chain {
namespace {

enum class Kind : uint8_t {
  kHeader = 1,
  kVote = 2,
  kCertificate = 3,
  kCertificatesRequest = 4,
  kBatch = 10,
  kBatchAck = 11,
  kBatchesRequest = 12,
  kTransaction = 20,
};

using Writer = ByteWriter;

// ByteReader with the message lists' bound.
class Reader : public ByteReader {
 public:
  using ByteReader::ByteReader;
  // A list length, refused when over kMaxListLength or when the rest cannot hold that many
  // items of at least `min_item` bytes (so a forged length cannot make us allocate).
  bool Length(uint32_t& n, size_t min_item) { return Count(n, kMaxListLength, min_item); }
};

void WriteHeaderBody(Writer& w, const Header& h) {
  w.Fixed(h.author);
  w.U64(h.round);
  w.U32(static_cast<uint32_t>(h.payload.size()));
  for (const PayloadEntry& p : h.payload) {
    w.Fixed(p.batch);
    w.U32(p.worker_id);
  }
  w.U32(static_cast<uint32_t>(h.parents.size()));
  for (const Digest& d : h.parents) w.Fixed(d);
}

void WriteHeader(Writer& w, const Header& h) {
  WriteHeaderBody(w, h);
  w.Fixed(h.id);
  w.Fixed(h.signature);
}

bool ReadHeader(Reader& r, Header& h) {
  uint32_t n;
  if (!r.Fixed(h.author) || !r.U64(h.round) || !r.Length(n, 36)) return false;
  h.payload.resize(n);
  for (PayloadEntry& p : h.payload) {
    if (!r.Fixed(p.batch) || !r.U32(p.worker_id)) return false;
  }
  if (!r.Length(n, 32)) return false;
  h.parents.resize(n);
  for (Digest& d : h.parents) {
    if (!r.Fixed(d)) return false;
  }
  return r.Fixed(h.id) && r.Fixed(h.signature);
}

void WriteCertificate(Writer& w, const Certificate& c) {
  WriteHeader(w, c.header);
  w.U32(static_cast<uint32_t>(c.votes.size()));
  for (const auto& [voter, signature] : c.votes) {
    w.Fixed(voter);
    w.Fixed(signature);
  }
}

bool ReadCertificate(Reader& r, Certificate& c) {
  uint32_t n;
  if (!ReadHeader(r, c.header) || !r.Length(n, 96)) return false;
  c.votes.resize(n);
  for (auto& [voter, signature] : c.votes) {
    if (!r.Fixed(voter) || !r.Fixed(signature)) return false;
  }
  return true;
}

void WriteBatch(Writer& w, const Batch& b) {
  w.U32(static_cast<uint32_t>(b.transactions.size()));
  for (const std::string& tx : b.transactions) w.Bytes(tx);
}

bool ReadBatch(Reader& r, Batch& b) {
  uint32_t n;
  if (!r.U32(n) || n > kMaxBatchTransactions) return false;
  b.transactions.clear();
  b.transactions.reserve(std::min<uint32_t>(n, 1024));
  for (uint32_t i = 0; i < n; ++i) {
    std::string tx;
    if (!r.Bytes(tx, kMaxTransactionSize)) return false;
    b.transactions.push_back(std::move(tx));
  }
  return true;
}

void WriteDigests(Writer& w, const std::vector<Digest>& digests) {
  w.U32(static_cast<uint32_t>(digests.size()));
  for (const Digest& d : digests) w.Fixed(d);
}

bool ReadDigests(Reader& r, std::vector<Digest>& digests) {
  uint32_t n;
  if (!r.Length(n, 32)) return false;
  digests.resize(n);
  for (Digest& d : digests) {
    if (!r.Fixed(d)) return false;
  }
  return true;
}

Status Malformed(std::string_view what) {
  return Status::Corruption("malformed " + std::string(what));
}

}  // namespace

Digest Batch::ComputeDigest() const {
  Writer w;
  w.Bytes("narwhal.batch.v1");
  WriteBatch(w, *this);
  return HashBytes(w.Take());
}

Header Header::Make(const KeyPair& key, uint64_t round, std::vector<PayloadEntry> payload,
                    std::vector<Digest> parents) {
  Header h;
  h.author = key.public_key();
  h.round = round;
  std::sort(payload.begin(), payload.end());
  h.payload = std::move(payload);
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  h.parents = std::move(parents);
  h.id = h.ComputeId();
  h.signature = key.Sign(h.id);
  return h;
}

Digest Header::ComputeId() const {
  Writer w;
  w.Bytes("narwhal.header.v1");
  WriteHeaderBody(w, *this);
  return HashBytes(w.Take());
}

Digest Vote::VoteDigest(const Digest& header_id) {
  Writer w;
  w.Bytes("narwhal.vote.v1");
  w.Fixed(header_id);
  return HashBytes(w.Take());
}

Vote Vote::Make(const KeyPair& key, const Header& header) {
  Vote v;
  v.header_id = header.id;
  v.round = header.round;
  v.origin = header.author;
  v.author = key.public_key();
  v.signature = key.Sign(VoteDigest(header.id));
  return v;
}

Digest Certificate::ComputeDigest() const {
  Writer w;
  w.Bytes("narwhal.certificate.v1");
  w.Fixed(header.id);
  return HashBytes(w.Take());
}

Certificate Certificate::Genesis(const PublicKey& author) {
  Certificate c;
  c.header.author = author;
  c.header.round = 0;
  c.header.id = c.header.ComputeId();
  return c;
}

std::string EncodeMessage(const Message& message) {
  Writer w;
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Header>) {
          w.U8(static_cast<uint8_t>(Kind::kHeader));
          WriteHeader(w, m);
        } else if constexpr (std::is_same_v<T, Vote>) {
          w.U8(static_cast<uint8_t>(Kind::kVote));
          w.Fixed(m.header_id);
          w.U64(m.round);
          w.Fixed(m.origin);
          w.Fixed(m.author);
          w.Fixed(m.signature);
        } else if constexpr (std::is_same_v<T, Certificate>) {
          w.U8(static_cast<uint8_t>(Kind::kCertificate));
          WriteCertificate(w, m);
        } else if constexpr (std::is_same_v<T, CertificatesRequest>) {
          w.U8(static_cast<uint8_t>(Kind::kCertificatesRequest));
          w.Fixed(m.requester);
          WriteDigests(w, m.digests);
          w.U64(m.from_round);
        } else if constexpr (std::is_same_v<T, BatchMessage>) {
          w.U8(static_cast<uint8_t>(Kind::kBatch));
          w.Fixed(m.origin);
          w.U32(m.worker_id);
          WriteBatch(w, m.batch);
        } else if constexpr (std::is_same_v<T, BatchAck>) {
          w.U8(static_cast<uint8_t>(Kind::kBatchAck));
          w.Fixed(m.batch);
          w.Fixed(m.author);
        } else if constexpr (std::is_same_v<T, BatchesRequest>) {
          w.U8(static_cast<uint8_t>(Kind::kBatchesRequest));
          w.Fixed(m.requester);
          w.U32(m.worker_id);
          WriteDigests(w, m.digests);
        } else {
          static_assert(std::is_same_v<T, TransactionMessage>);
          w.U8(static_cast<uint8_t>(Kind::kTransaction));
          w.Bytes(m.transaction);
        }
      },
      message);
  return w.Take();
}

Result<Message> DecodeMessage(std::string_view bytes) {
  if (bytes.size() > kMaxMessageSize) return Status::Corruption("message over the size limit");
  Reader r(bytes);
  uint8_t kind;
  if (!r.U8(kind)) return Malformed("message: empty");
  Message out;
  bool ok = false;
  switch (static_cast<Kind>(kind)) {
    case Kind::kHeader: {
      Header h;
      ok = ReadHeader(r, h);
      out = std::move(h);
      break;
    }
    case Kind::kVote: {
      Vote v;
      ok = r.Fixed(v.header_id) && r.U64(v.round) && r.Fixed(v.origin) && r.Fixed(v.author) &&
           r.Fixed(v.signature);
      out = v;
      break;
    }
    case Kind::kCertificate: {
      Certificate c;
      ok = ReadCertificate(r, c);
      out = std::move(c);
      break;
    }
    case Kind::kCertificatesRequest: {
      CertificatesRequest q;
      ok = r.Fixed(q.requester) && ReadDigests(r, q.digests) && r.U64(q.from_round);
      out = std::move(q);
      break;
    }
    case Kind::kBatch: {
      BatchMessage b;
      ok = r.Fixed(b.origin) && r.U32(b.worker_id) && ReadBatch(r, b.batch);
      out = std::move(b);
      break;
    }
    case Kind::kBatchAck: {
      BatchAck a;
      ok = r.Fixed(a.batch) && r.Fixed(a.author);
      out = a;
      break;
    }
    case Kind::kBatchesRequest: {
      BatchesRequest q;
      ok = r.Fixed(q.requester) && r.U32(q.worker_id) && ReadDigests(r, q.digests);
      out = std::move(q);
      break;
    }
    case Kind::kTransaction: {
      TransactionMessage t;
      ok = r.Bytes(t.transaction, kMaxTransactionSize);
      out = std::move(t);
      break;
    }
    default:
      return Malformed("message: unknown kind " + std::to_string(kind));
  }
  if (!ok) return Malformed("message of kind " + std::to_string(kind));
  if (!r.done()) return Malformed("message: trailing bytes");
  return out;
}

std::string EncodeCertificate(const Certificate& certificate) {
  Writer w;
  WriteCertificate(w, certificate);
  return w.Take();
}

Result<Certificate> DecodeCertificate(std::string_view bytes) {
  Reader r(bytes);
  Certificate c;
  if (!ReadCertificate(r, c) || !r.done()) return Malformed("certificate");
  return c;
}

std::string EncodeBatch(const Batch& batch) {
  Writer w;
  WriteBatch(w, batch);
  return w.Take();
}

Result<Batch> DecodeBatch(std::string_view bytes) {
  Reader r(bytes);
  Batch b;
  if (!ReadBatch(r, b) || !r.done()) return Malformed("batch");
  return b;
}

}  // namespace rustorium::chain
