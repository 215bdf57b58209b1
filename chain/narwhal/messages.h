// What validators say to each other: batches, headers, votes, certificates, and the requests
// of the synchronizer. Each message has one canonical byte encoding (messages.cc), used both
// on the wire and for digests, so a digest names exactly one message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "chain/narwhal/crypto.h"

namespace rustorium::chain {

// Limits every decoder enforces before allocating.
inline constexpr size_t kMaxTransactionSize = 64 * 1024;
inline constexpr size_t kMaxBatchTransactions = 100'000;
inline constexpr size_t kMaxMessageSize = 16 * 1024 * 1024;
inline constexpr size_t kMaxListLength = 10'000;

// Transactions sealed by one worker. Opaque byte strings to consensus.
struct Batch {
  std::vector<std::string> transactions;
  Digest ComputeDigest() const;
  bool operator==(const Batch&) const = default;
};

// A batch a header commits to, and the worker (of the header's author) holding it.
struct PayloadEntry {
  Digest batch{};
  uint32_t worker_id = 0;
  auto operator<=>(const PayloadEntry&) const = default;
};

// One per (author, round). `payload` is sorted by digest and `parents` sorted and unique, so
// the id does not depend on the order things were collected in.
struct Header {
  PublicKey author{};
  uint64_t round = 0;
  std::vector<PayloadEntry> payload;
  std::vector<Digest> parents;  // certificate digests of round - 1
  Digest id{};                  // ComputeId()
  Signature signature{};        // author's signature of id

  // Sorts payload and parents, fills id and signs it.
  static Header Make(const KeyPair& key, uint64_t round, std::vector<PayloadEntry> payload,
                     std::vector<Digest> parents);
  Digest ComputeId() const;
  bool operator==(const Header&) const = default;
};

// A validator's vote for a header; it signs VoteDigest(header_id).
struct Vote {
  Digest header_id{};
  uint64_t round = 0;
  PublicKey origin{};  // the header's author
  PublicKey author{};  // the voter
  Signature signature{};

  static Digest VoteDigest(const Digest& header_id);
  static Vote Make(const KeyPair& key, const Header& header);
  bool operator==(const Vote&) const = default;
};

// A header with votes of 2f + 1 stake. Round 0 holds one genesis certificate per authority,
// with no votes, known to everybody in advance.
struct Certificate {
  Header header;
  std::vector<std::pair<PublicKey, Signature>> votes;  // sorted by voter

  // H("narwhal.certificate.v1" || header id): the same certificate whatever votes it carries.
  Digest ComputeDigest() const;
  uint64_t round() const { return header.round; }
  const PublicKey& origin() const { return header.author; }
  static Certificate Genesis(const PublicKey& author);
  bool operator==(const Certificate&) const = default;
};

// Messages between primaries.
// The certificates named by `digests`, and when `from_round` > 0 also every certificate the
// responder holds of rounds from_round .. from_round + kCatchUpRounds - 1 (a validator that
// fell behind catches up in one round trip instead of one per missing round).
inline constexpr uint64_t kCatchUpRounds = 50;
struct CertificatesRequest {
  PublicKey requester{};
  std::vector<Digest> digests;
  uint64_t from_round = 0;
  bool operator==(const CertificatesRequest&) const = default;
};
// Messages between workers (a worker talks to the workers with its own id).
struct BatchMessage {
  PublicKey origin{};
  uint32_t worker_id = 0;
  Batch batch;
  bool operator==(const BatchMessage&) const = default;
};
struct BatchAck {
  Digest batch{};
  PublicKey author{};  // who stored it
  bool operator==(const BatchAck&) const = default;
};
struct BatchesRequest {
  PublicKey requester{};
  uint32_t worker_id = 0;
  std::vector<Digest> digests;
  bool operator==(const BatchesRequest&) const = default;
};
// A client's transaction to a worker.
struct TransactionMessage {
  std::string transaction;
  bool operator==(const TransactionMessage&) const = default;
};

using Message = std::variant<Header, Vote, Certificate, CertificatesRequest, BatchMessage, BatchAck,
                             BatchesRequest, TransactionMessage>;

std::string EncodeMessage(const Message& message);
// Corruption on anything that is not exactly one encoded message within the limits above.
// Says nothing about signatures or membership: the receiver checks those.
Result<Message> DecodeMessage(std::string_view bytes);

std::string EncodeCertificate(const Certificate& certificate);
Result<Certificate> DecodeCertificate(std::string_view bytes);
std::string EncodeBatch(const Batch& batch);
Result<Batch> DecodeBatch(std::string_view bytes);

}  // namespace rustorium::chain
