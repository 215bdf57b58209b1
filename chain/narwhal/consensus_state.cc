#include "chain/narwhal/consensus_state.h"

#include "base/codec.h"

namespace rustorium::chain {
namespace {

constexpr uint8_t kConsensusStateVersion = 1;
constexpr size_t kConsensusStateEntrySize = 32 + 8;

Status MalformedState(std::string_view why) {
  return Status::Corruption("malformed consensus state: " + std::string(why));
}

}  // namespace

std::string EncodeConsensusState(const ConsensusState& state) {
  ByteWriter w;
  w.str().reserve(1 + 8 + 8 + 4 + state.last_committed.size() * kConsensusStateEntrySize);
  w.U8(kConsensusStateVersion);
  w.U64(state.last_committed_round);
  w.U64(state.last_index);
  w.U32(static_cast<uint32_t>(state.last_committed.size()));
  for (const auto& [author, round] : state.last_committed) {
    w.Fixed(author);
    w.U64(round);
  }
  return w.Take();
}

Result<ConsensusState> DecodeConsensusState(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t version;
  ConsensusState state;
  uint32_t n;
  if (!r.U8(version) ||
      (version == kConsensusStateVersion &&
       (!r.U64(state.last_committed_round) || !r.U64(state.last_index) || !r.U32(n)))) {
    return MalformedState("truncated");
  }
  if (version != kConsensusStateVersion) {
    return MalformedState("unknown version " + std::to_string(version));
  }
  if (n > kMaxListLength) return MalformedState("too many authors");
  if (r.remaining() != static_cast<size_t>(n) * kConsensusStateEntrySize) {
    return MalformedState(r.remaining() < static_cast<size_t>(n) * kConsensusStateEntrySize
                              ? "truncated"
                              : "trailing bytes");
  }
  for (uint32_t i = 0; i < n; ++i) {
    PublicKey author;
    uint64_t round;
    if (!r.Fixed(author) || !r.U64(round)) return MalformedState("truncated");
    if (!state.last_committed.empty() && !(state.last_committed.rbegin()->first < author)) {
      return MalformedState("authors out of order or repeated");
    }
    if (round > state.last_committed_round) {
      return MalformedState("an author's round is above the last committed round");
    }
    state.last_committed.emplace_hint(state.last_committed.end(), author, round);
  }
  return state;
}

}  // namespace rustorium::chain
