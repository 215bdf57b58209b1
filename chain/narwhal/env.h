// What a validator needs from the world: time, timers and a way to send bytes. Behind an
// interface so the deterministic simulation (tests/chain/) can run every validator in one
// thread on virtual time, and real processes can run them on an event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "chain/narwhal/crypto.h"

namespace rustorium::chain {

using TimerId = uint64_t;

// Called only from the validator's own thread; timers run on that thread too.
class Env {
 public:
  virtual ~Env() = default;
  // Milliseconds on a monotonic clock.
  virtual uint64_t NowMs() const = 0;
  // Runs `fn` once, `delay_ms` from now. The id cancels it.
  virtual TimerId StartTimer(uint64_t delay_ms, std::function<void()> fn) = 0;
  // Forgets the timer; a no-op when it already ran or was cancelled.
  virtual void CancelTimer(TimerId id) = 0;
};

// Who a message came from, as far as the transport can tell, and the way back to it.
struct MessageSource {
  // The committee member the sender's connection is authenticated as (the public key its TLS
  // certificate carries, rustorium:validator:<hex>). Unset where the transport authenticates
  // nobody (plain TCP): the names inside messages are then taken at their word.
  std::optional<PublicKey> member;
  // True for the answers to one of our own requests (Transport::Request*), which come back
  // on the connection the request went out on: only what we asked for is taken.
  bool answer = false;
  // Sends bytes back to the sender on the connection the message came in on: how sync
  // requests are answered. Valid only during the call it is handed to; null where there is
  // no way back (a one-way message), and then requests go unanswered.
  std::function<void(std::string)> reply;
};

// Best-effort delivery: a message may be lost, delayed, reordered or duplicated, and the
// protocol retries what it needs. Never calls back into the sender synchronously.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void SendToPrimary(const PublicKey& to, std::string bytes) = 0;
  virtual void SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) = 0;
  // A sync request (CertificatesRequest, BatchesRequest) to `to`, answered on the same
  // connection: the answers reach this validator's Validator::On*Message with
  // MessageSource::answer set. Never sent to an address the request itself names.
  virtual void RequestFromPrimary(const PublicKey& to, std::string bytes) = 0;
  virtual void RequestFromWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) = 0;
};

}  // namespace rustorium::chain
