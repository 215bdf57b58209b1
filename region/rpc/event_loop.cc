#include "region/rpc/event_loop.h"

#include <deque>
#include <future>
#include <map>
#include <mutex>

#include "region/rpc/uv_loop.h"

namespace rustorium::rpc {

struct EventLoop::Impl {
  static void OnAsync(uv_async_t* handle);
  static void OnCheck(uv_check_t* handle);
  void Drain();

  EventLoop* owner = nullptr;
  uv_loop_t loop;
  uv_async_t wakeup;
  uv_check_t end_of_turn_check;
  std::mutex mu;
  std::deque<std::function<void()>> queue;  // guarded by mu
  bool stopping = false;                    // guarded by mu
  // RunAfter's timers not yet run or cancelled (loop thread; freed by the destructor after
  // the thread ends when still here).
  struct Delayed {
    uv_timer_t timer;
    std::function<void()> fn;
    Impl* impl;
    uint64_t handle;
  };
  std::map<uint64_t, Delayed*> delayed;
  uint64_t next_delayed = 1;
  // Stops and closes a timer: its memory goes in the close callback.
  static void Retire(Delayed* d) {
    d->impl->delayed.erase(d->handle);
    uv_timer_stop(&d->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&d->timer),
             [](uv_handle_t* h) { delete static_cast<Delayed*>(h->data); });
  }
};

uv_loop_t* UvLoop(EventLoop& loop) { return &loop.impl_->loop; }

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.owner = this;
  uv_loop_init(&impl.loop);
  uv_async_init(&impl.loop, &impl.wakeup, &Impl::OnAsync);
  impl.wakeup.data = &impl;
  uv_check_init(&impl.loop, &impl.end_of_turn_check);
  impl.end_of_turn_check.data = &impl;
  uv_check_start(&impl.end_of_turn_check, &Impl::OnCheck);
  thread_ = std::thread([&impl] { uv_run(&impl.loop, UV_RUN_DEFAULT); });
}

EventLoop::~EventLoop() {
  Impl& impl = *impl_;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.stopping = true;
  }
  uv_async_send(&impl.wakeup);
  thread_.join();
  // Close whatever is left (nothing, when owners were destroyed first) and let the close
  // callbacks run.
  uv_walk(
      &impl.loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&impl.loop, UV_RUN_DEFAULT);
  uv_loop_close(&impl.loop);
  for (auto& [handle, d] : impl.delayed) delete d;  // closed by the walk, with no callback
}

uint64_t EventLoop::RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto* d = new Impl::Delayed{{}, std::move(fn), impl_.get(), impl_->next_delayed++};
  impl_->delayed[d->handle] = d;
  uv_timer_init(&impl_->loop, &d->timer);
  d->timer.data = d;
  uv_timer_start(
      &d->timer,
      [](uv_timer_t* t) {
        auto* d = static_cast<Impl::Delayed*>(t->data);
        std::function<void()> fn = std::move(d->fn);
        Impl::Retire(d);
        try {
          fn();
        } catch (...) {
          // Nothing may throw through libuv; a throwing callback is a bug, and is dropped.
        }
      },
      static_cast<uint64_t>(delay.count()), 0);
  return d->handle;
}

void EventLoop::Cancel(uint64_t handle) {
  auto it = impl_->delayed.find(handle);
  if (it != impl_->delayed.end()) Impl::Retire(it->second);
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->queue.push_back(std::move(fn));
  }
  uv_async_send(&impl_->wakeup);
}

void EventLoop::RunSync(const std::function<void()>& fn) {
  if (InLoopThread()) {
    fn();
    return;
  }
  std::promise<void> done;
  Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void EventLoop::Impl::OnAsync(uv_async_t* handle) { static_cast<Impl*>(handle->data)->Drain(); }

void EventLoop::Impl::OnCheck(uv_check_t* handle) {
  EventLoop* self = static_cast<Impl*>(handle->data)->owner;
  // Callbacks may schedule more for this turn (a flush that closes and reconnects).
  while (!self->end_of_turn_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(self->end_of_turn_);
    for (auto& fn : batch) {
      try {
        fn();
      } catch (...) {
        // Nothing may throw through libuv; a throwing callback is a bug, and is dropped.
      }
    }
  }
}

void EventLoop::Impl::Drain() {
  // One batch per wakeup: what is posted while it runs waits for the next loop iteration, so
  // handles closed by this batch finish closing first (RunSync([]{}) after a uv_close relies
  // on that before freeing the handle's memory).
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu);
    batch.swap(queue);
  }
  for (auto& fn : batch) {
    try {
      fn();
    } catch (...) {
      // Nothing may throw through libuv; a throwing task is a bug, and is dropped.
    }
  }
  std::lock_guard<std::mutex> lock(mu);
  if (stopping && queue.empty()) uv_stop(&loop);
}

}  // namespace rustorium::rpc
