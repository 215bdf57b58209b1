// Env on a region/rpc EventLoop: wall-clock time and libuv timers on the loop's thread. A
// validator run by real processes lives on one loop; everything it does runs there.
#pragma once

#include <uv.h>

#include <map>
#include <memory>

#include "chain/narwhal/env.h"
#include "region/rpc/event_loop.h"

namespace rustorium::chain {

class LoopEnv : public Env {
 public:
  // `loop` must outlive this. Construct, use and destroy it on the loop thread.
  explicit LoopEnv(rpc::EventLoop& loop) : loop_(loop) {}
  ~LoopEnv() override;
  LoopEnv(const LoopEnv&) = delete;
  LoopEnv& operator=(const LoopEnv&) = delete;

  uint64_t NowMs() const override;
  TimerId StartTimer(uint64_t delay_ms, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;

 private:
  struct Timer;
  static void OnFire(uv_timer_t* handle);
  void Close(Timer* timer);

  rpc::EventLoop& loop_;
  TimerId next_id_ = 0;
  std::map<TimerId, Timer*> timers_;
};

}  // namespace rustorium::chain
