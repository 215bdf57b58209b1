#include "region/rpc/event_loop.h"

#include <future>

namespace rustorium::rpc {

EventLoop::EventLoop() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wakeup_, &EventLoop::OnAsync);
  wakeup_.data = this;
  uv_check_init(&loop_, &end_of_turn_check_);
  end_of_turn_check_.data = this;
  uv_check_start(&end_of_turn_check_, &EventLoop::OnCheck);
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

EventLoop::~EventLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uv_async_send(&wakeup_);
  thread_.join();
  // Close whatever is left (nothing, when owners were destroyed first) and let the close
  // callbacks run.
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  uv_async_send(&wakeup_);
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

void EventLoop::OnAsync(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->Drain(); }

void EventLoop::OnCheck(uv_check_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
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

void EventLoop::Drain() {
  // One batch per wakeup: what is posted while it runs waits for the next loop iteration, so
  // handles closed by this batch finish closing first (RunSync([]{}) after a uv_close relies
  // on that before freeing the handle's memory).
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto& fn : batch) {
    try {
      fn();
    } catch (...) {
      // Nothing may throw through libuv; a throwing task is a bug, and is dropped.
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ && queue_.empty()) uv_stop(&loop_);
}

}  // namespace rustorium::rpc
