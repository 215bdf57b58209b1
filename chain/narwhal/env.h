// What a validator needs from the world: time, timers and a way to send bytes. Behind an
// interface so the deterministic simulation (tests/chain/) can run every validator in one
// thread on virtual time, and real processes can run them on an event loop.
#pragma once

#include <cstdint>
#include <functional>
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

// Best-effort delivery: a message may be lost, delayed, reordered or duplicated, and the
// protocol retries what it needs. Never calls back into the sender synchronously.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void SendToPrimary(const PublicKey& to, std::string bytes) = 0;
  virtual void SendToWorker(const PublicKey& to, uint32_t worker_id, std::string bytes) = 0;
};

}  // namespace rustorium::chain
