// One validator process: its primary's and workers' RPC servers, the validator on one event
// loop, and an executor that keeps the committed sequence in the data directory
// (`output.log`: one line per consensus index, "index anchor-round anchor-digest
// certificates transactions") and its progress (`executed`).
//
// Besides consensus traffic the servers answer clients: "chain.submit" (a REQUEST to a
// worker's address, or the primary's for worker 0: the payload is one transaction; OK once
// the worker queued it) and
// "chain.status" (a REQUEST to the primary's address: "key: value" lines; an optional payload
// "since_ms=T" limits the latency lines to samples committed at or after unix time T ms,
// else they cover the last 10 s).
//
// Latency: a transaction made by MakeSampleTransaction carries its send time; the executor
// measures send → execution (end-to-end latency). Consensus latency is measured from the
// moment this validator proposes a header to the commit of its certificate.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "chain/net/node_config.h"

namespace rustorium::chain {

inline constexpr char kSubmitMethod[] = "chain.submit";
inline constexpr char kStatusMethod[] = "chain.status";

// The first 8 bytes of a latency sample transaction; the next 8 are the send time (unix µs,
// big-endian).
inline constexpr std::string_view kSampleMagic{"rstm-smp", 8};
// A transaction of `size` bytes (at least 24) that is a latency sample sent at `unix_us`;
// `nonce` makes it unique.
std::string MakeSampleTransaction(uint64_t unix_us, uint64_t nonce, size_t size);
// Unix time in microseconds.
uint64_t UnixMicros();

class ChainNode {
 public:
  // Loads the key and committee, binds the addresses the committee gives this key, opens the
  // data directory and starts. Under TLS (unless config.plain) its certificate must carry
  // rustorium:validator:<its public key hex>, since peers bind what it sends to that name;
  // the consensus methods take validator certificates only, chain.submit and chain.status
  // client, admin and validator ones (rpc_transport.h, ServeValidator). Errors: config, key,
  // committee or certificate files (InvalidArgument for a certificate of another identity);
  // addresses that cannot be bound; the engine's.
  static Result<std::unique_ptr<ChainNode>> Start(const NodeConfig& config);
  // Stops the servers and the validator (what was committed is on disk).
  ~ChainNode();

  // The status lines served by "chain.status" (latency over the last 10 s). Thread-safe.
  std::string StatusText();

 private:
  struct Rep;
  explicit ChainNode(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace rustorium::chain
