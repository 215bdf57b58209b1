#include "chain/net/loop_env.h"

#include "region/rpc/uv_loop.h"

namespace rustorium::chain {

struct LoopEnv::Timer {
  uv_timer_t handle{};
  LoopEnv* env = nullptr;
  TimerId id = 0;
  std::function<void()> fn;
};

LoopEnv::~LoopEnv() {
  for (auto& [id, timer] : timers_) Close(timer);
}

uint64_t LoopEnv::NowMs() const {
  uv_update_time(UvLoop(loop_));
  return uv_now(UvLoop(loop_));
}

TimerId LoopEnv::StartTimer(uint64_t delay_ms, std::function<void()> fn) {
  auto* timer = new Timer;
  timer->env = this;
  timer->id = ++next_id_;
  timer->fn = std::move(fn);
  timer->handle.data = timer;
  uv_timer_init(UvLoop(loop_), &timer->handle);
  uv_timer_start(&timer->handle, &LoopEnv::OnFire, delay_ms, 0);
  timers_[timer->id] = timer;
  return timer->id;
}

void LoopEnv::CancelTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  Close(it->second);
  timers_.erase(it);
}

void LoopEnv::OnFire(uv_timer_t* handle) {
  auto* timer = static_cast<Timer*>(handle->data);
  LoopEnv* env = timer->env;
  std::function<void()> fn = std::move(timer->fn);
  env->timers_.erase(timer->id);
  env->Close(timer);
  fn();
}

void LoopEnv::Close(Timer* timer) {
  uv_timer_stop(&timer->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer->handle),
           [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
}

}  // namespace rustorium::chain
