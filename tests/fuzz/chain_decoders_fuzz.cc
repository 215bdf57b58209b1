// The chain's decoders: Narwhal messages, certificates and batches from peers, and the
// consensus state read back from disk. They may refuse (with Corruption), never crash or
// allocate without bound; what they accept re-encodes to exactly the input, since every
// encoding is canonical and digests are taken over it.
#include <string>
#include <string_view>

#include "chain/bullshark/bullshark.h"
#include "chain/narwhal/messages.h"
#include "tests/fuzz/fuzz_driver.h"

namespace rc = rustorium::chain;

std::vector<std::string> FuzzSeeds() {
  std::array<uint8_t, 32> seed{};
  seed[0] = 1;
  const rc::KeyPair author = rc::KeyPair::FromSeed(seed);
  seed[0] = 2;
  const rc::KeyPair voter = rc::KeyPair::FromSeed(seed);
  rc::Batch batch;
  batch.transactions = {"set k v", "", std::string(300, 'x')};
  rc::Certificate certificate;
  certificate.header =
      rc::Header::Make(author, 7, {{batch.ComputeDigest(), 0}, {rc::HashBytes("other"), 1}},
                       {rc::Certificate::Genesis(author.public_key()).ComputeDigest(),
                        rc::Certificate::Genesis(voter.public_key()).ComputeDigest()});
  for (const rc::KeyPair* k : {&author, &voter}) {
    const rc::Vote vote = rc::Vote::Make(*k, certificate.header);
    certificate.votes.emplace_back(vote.author, vote.signature);
  }
  rc::ConsensusState state;
  state.last_committed_round = 6;
  state.last_index = 3;
  state.last_committed[author.public_key()] = 5;
  state.last_committed[voter.public_key()] = 6;

  const std::vector<rc::Message> messages = {
      certificate.header,
      rc::Vote::Make(voter, certificate.header),
      certificate,
      rc::CertificatesRequest{author.public_key(), {certificate.ComputeDigest()}},
      rc::BatchMessage{author.public_key(), 0, batch},
      rc::BatchAck{batch.ComputeDigest(), voter.public_key()},
      rc::BatchesRequest{voter.public_key(), 1, {batch.ComputeDigest()}},
      rc::TransactionMessage{"set a b"},
  };
  auto tagged = [](char tag, const std::string& body) { return std::string(1, tag) + body; };
  std::vector<std::string> seeds;
  for (const rc::Message& m : messages) seeds.push_back(tagged(0, rc::EncodeMessage(m)));
  seeds.push_back(tagged(1, rc::EncodeCertificate(certificate)));
  seeds.push_back(tagged(1, rc::EncodeCertificate(rc::Certificate::Genesis(author.public_key()))));
  seeds.push_back(tagged(2, rc::EncodeBatch(batch)));
  seeds.push_back(tagged(3, rc::EncodeConsensusState(state)));
  seeds.push_back(tagged(3, rc::EncodeConsensusState({})));
  return seeds;
}

namespace {

// A refusal is Corruption; an accepted input re-encodes to itself.
template <typename T, typename Encode>
void CheckCanonical(const rustorium::Result<T>& decoded, Encode encode, const std::string& input) {
  if (decoded.ok()) {
    FUZZ_CHECK(encode(*decoded) == input);
  } else {
    FUZZ_CHECK(decoded.status().IsCorruption());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      CheckCanonical(rc::DecodeMessage(input), rc::EncodeMessage, input);
      return 0;
    case 1:
      CheckCanonical(rc::DecodeCertificate(input), rc::EncodeCertificate, input);
      return 0;
    case 2:
      CheckCanonical(rc::DecodeBatch(input), rc::EncodeBatch, input);
      return 0;
    default: {
      auto s = rc::DecodeConsensusState(input);
      CheckCanonical(s, rc::EncodeConsensusState, input);
      if (s.ok()) {
        for (const auto& [author, round] : s->last_committed) {
          FUZZ_CHECK(round <= s->last_committed_round);
        }
      }
      return 0;
    }
  }
}
