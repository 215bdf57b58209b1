// A Narwhal primary: proposes one header per round carrying its workers' batch digests and
// 2f + 1 parent certificates, votes for others' headers, turns 2f + 1 votes into a
// certificate, and accepts certificates into the DAG only once their causal history and
// payload are complete, fetching what is missing (synchronizer). The accepted certificates
// leave through `on_certificate` in causal order.
//
// Safety across restarts: the vote for a header is durable before it is sent, and a
// validator votes at most once per (author, round) and never for a round below the last
// it voted for that author; its own header is durable before it is broadcast, and after a
// restart it re-broadcasts that header instead of making a new one for the round.
//
// Proposer rule (Bullshark's): with 2f + 1 certificates of round r, the next header (round
// r + 1) is made once max_header_delay has passed since the previous one, or earlier when
// the payload reached header_size and the anchor allows it: for even r, the round's anchor
// (Committee::Leader(r)) is among the certificates; for odd r, round-r certificates holding
// f + 1 stake reference the anchor of r - 1, or 2f + 1 stake do not (it cannot commit
// through this round anyway).
//
// Single-threaded: the Env's thread calls everything, timers included.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <variant>
#include <vector>

#include "chain/narwhal/committee.h"
#include "chain/narwhal/dag_store.h"
#include "chain/narwhal/env.h"
#include "chain/narwhal/messages.h"
#include "chain/narwhal/parameters.h"

namespace rustorium::chain {

struct PrimaryStats {
  uint64_t round = 0;  // round of our latest header
  uint64_t highest_accepted_round = 0;
  uint64_t headers_proposed = 0;
  uint64_t votes_sent = 0;
  uint64_t certificates_formed = 0;
  uint64_t certificates_accepted = 0;
  uint64_t dropped_messages = 0;  // malformed or from outside the committee
  // Certificate requests whose requester is not the member the connection is authenticated as.
  uint64_t refused_identity = 0;
  uint64_t rejected_headers = 0;  // failed verification
  uint64_t rejected_certificates = 0;
  uint64_t refused_votes = 0;         // a header we will not vote for (equivocation, old round)
  uint64_t batches_carried_over = 0;  // batches of an uncertified own header proposed again
};

class Primary {
 public:
  struct Callbacks {
    // A certificate joined the DAG; its parents came before it.
    std::function<void(const Certificate&)> on_certificate;
    // Fetch these batches of `author`'s worker `worker_id`.
    std::function<void(uint32_t worker_id, const std::vector<Digest>&, const PublicKey& author)>
        fetch_batches;
    // Optional: we proposed this header (for latency measurements).
    std::function<void(const Header&)> on_proposed;
    // Optional: a header that passed verification, alone (`certified` false) or in a
    // certificate that did (true). Its payload names batches.
    std::function<void(const Header&, bool certified)> on_header_verified;
  };

  // `env`, `transport` and `store` must outlive the primary. Call Start() next.
  Primary(const Committee& committee, const KeyPair& key, const NarwhalParameters& params, Env* env,
          Transport* transport, DagStore* store, Callbacks callbacks);
  ~Primary();
  Primary(const Primary&) = delete;
  Primary& operator=(const Primary&) = delete;

  // Reloads what the store holds (certificates above `gc_round`, votes, own header), hands
  // the reloaded certificates to on_certificate in round order, and starts proposing.
  Status Start(uint64_t gc_round);

  // A message from another primary; malformed or unverifiable ones are counted and dropped.
  // A certificate request is answered through from.reply only, and only when its requester is
  // the member `from` is authenticated as (when it is).
  void OnMessage(std::string_view bytes, const MessageSource& from);
  // One of our workers' batches is held by a quorum: it goes into a coming header.
  void OnOwnBatch(const PayloadEntry& entry);
  // A batch arrived in the store: headers and certificates waiting for it may go on.
  void OnBatchStored(const Digest& digest);
  // Consensus committed up to a new bound: forget everything at or below `gc_round`.
  // Returns the payload digests of the certificates forgotten (their batches can go).
  std::vector<Digest> GarbageCollect(uint64_t gc_round);
  // Consensus committed this certificate (called before GarbageCollect for the same commit).
  void OnCommitted(const Certificate& certificate);

  const PrimaryStats& stats() const { return stats_; }
  uint64_t gc_round() const { return gc_round_; }
  // Certificates held in memory (accepted and waiting).
  size_t memory_items() const;
  // Our latest header (the one being certified, or certified last), if any.
  const std::optional<Header>& own_header() const { return own_header_; }
  // The accepted certificate with this digest, or nullptr.
  const Certificate* FindCertificate(const Digest& digest) const;

 private:
  using Item = std::variant<Header, Certificate>;
  struct Waiting {
    Item item;
    PublicKey source{};
    std::set<Digest> missing_certificates;
    std::set<Digest> missing_batches;
  };
  struct Fetch {
    uint64_t since_ms = 0;
    uint64_t round = 0;  // round of the certificate fetched
  };

  void OnHeader(Header header, const PublicKey& source);
  void OnVote(const Vote& vote);
  void OnCertificate(Certificate certificate, const PublicKey& source);
  void OnCertificatesRequest(const CertificatesRequest& request, const MessageSource& from);

  // Checks that need nothing but the header: membership, round window, id, signature,
  // payload size and worker ids. Empty on success, the reason otherwise.
  std::string CheckHeader(const Header& header) const;
  std::string CheckVotes(const Certificate& certificate) const;
  // Parks the item until its parents and batches are here (fetching them), or runs it.
  void Admit(Item item, const PublicKey& source);
  // Missing parents and batches of a header.
  void FindMissing(const Header& header, Waiting& waiting) const;
  // The parents are all here: are they 2f + 1 certificates of the previous round?
  bool ParentsValid(const Header& header) const;
  void Run(Item item);
  void Vote(const Header& header);
  void Accept(const Certificate& certificate);
  void Wake(const Digest& digest, bool is_batch);

  void TryPropose();
  void Propose(uint64_t parents_round);
  void BroadcastOwnHeader(bool only_missing_votes);
  void Tick();
  void Broadcast(const Message& message);
  void SendTo(const PublicKey& to, const Message& message);
  uint64_t StakeOf(const std::map<PublicKey, Certificate>& certificates) const;

  const Committee& committee_;
  const KeyPair& key_;
  PublicKey name_;
  NarwhalParameters params_;
  Env* env_;
  Transport* transport_;
  DagStore* store_;
  Callbacks callbacks_;

  uint64_t gc_round_ = 0;
  // The accepted DAG: round → author → certificate, and digest → (round, author).
  std::map<uint64_t, std::map<PublicKey, Certificate>> dag_;
  std::map<Digest, std::pair<uint64_t, PublicKey>> accepted_;
  // Items waiting for parents or batches, by header id or certificate digest.
  std::map<Digest, Waiting> waiting_;
  std::map<Digest, std::set<Digest>> waiting_on_certificate_;
  std::map<Digest, std::set<Digest>> waiting_on_batch_;
  std::map<Digest, Fetch> fetching_;
  std::map<PublicKey, LastVote> last_votes_;

  // Proposer.
  uint64_t round_ = 0;
  std::vector<PayloadEntry> payload_;
  TimerId header_timer_ = 0;
  bool header_delay_passed_ = false;
  std::optional<Header> own_header_;
  std::map<PublicKey, Signature> own_votes_;
  uint64_t own_votes_stake_ = 0;
  std::optional<Certificate> own_certificate_;
  // Payloads of our certificates not yet committed, by round: proposed again once garbage
  // collection passes them uncommitted. In memory only: a restart loses them, like the
  // batches a worker had not yet sealed.
  std::map<uint64_t, std::vector<PayloadEntry>> uncommitted_own_;
  TimerId tick_timer_ = 0;
  uint64_t last_catch_up_ms_ = 0;
  bool started_ = false;

  PrimaryStats stats_;
};

}  // namespace rustorium::chain
