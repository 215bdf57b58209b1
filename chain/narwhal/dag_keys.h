// Every key of a validator's local engine (default column family), in one place. Each kind of
// record has its own one-byte prefix, so no two kinds share a key (tests/chain/dag_keys_test.cc):
//   "b" + digest (32)                      -> batch
//   "c" + round (8, BE) + author (32)      -> certificate (round first: GC deletes a range)
//   "v" + author (32)                      -> the last vote for that author's headers
//   "h"                                    -> this validator's own latest header
//   "s"                                    -> the consensus state
//   "o" + consensus index (8, BE)          -> output record
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/codec.h"
#include "chain/narwhal/messages.h"

namespace rustorium::chain::dag_keys {

inline constexpr char kBatchPrefix = 'b';
inline constexpr char kCertificatePrefix = 'c';
inline constexpr char kVotePrefix = 'v';
inline constexpr char kOutputPrefix = 'o';
inline constexpr std::string_view kHeaderKey = "h";
inline constexpr std::string_view kStateKey = "s";

inline std::string BatchKey(const Digest& d) {
  std::string key(1, kBatchPrefix);
  key.append(AsBytes(d));
  return key;
}
inline std::string CertificateKey(uint64_t round, const PublicKey& author) {
  std::string key(1, kCertificatePrefix);
  PutFixed64BE(key, round);
  key.append(reinterpret_cast<const char*>(author.data()), author.size());
  return key;
}
inline std::string VoteKey(const PublicKey& author) {
  std::string key(1, kVotePrefix);
  key.append(reinterpret_cast<const char*>(author.data()), author.size());
  return key;
}
inline std::string OutputKey(uint64_t index) {
  std::string key(1, kOutputPrefix);
  PutFixed64BE(key, index);
  return key;
}

}  // namespace rustorium::chain::dag_keys
