// EventLoop: one libuv loop on its own thread. Every handle of the RPC library lives on a
// loop and is touched only from that loop's thread; other threads hand work over with Post.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rustorium::rpc {

class EventLoop {
 public:
  // Starts the loop thread.
  EventLoop();
  // Runs what was posted, closes every handle still open and joins the thread. Objects that
  // own handles on this loop must be destroyed before it.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs `fn` on the loop thread, soon. Thread-safe.
  void Post(std::function<void()> fn);
  // Runs `fn` on the loop thread and waits for it to finish (runs it at once when called on
  // the loop thread). Thread-safe.
  void RunSync(const std::function<void()>& fn);

  // Runs `fn` on the loop thread at the end of the current loop turn, after the turn's I/O
  // callbacks and posted tasks: where connections flush what the turn queued, so messages of
  // one turn to one peer go out in one write. Loop thread only.
  void AtEndOfTurn(std::function<void()> fn) { end_of_turn_.push_back(std::move(fn)); }

  bool InLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  uv_loop_t* loop() { return &loop_; }

 private:
  static void OnAsync(uv_async_t* handle);
  static void OnCheck(uv_check_t* handle);
  void Drain();

  uv_loop_t loop_;
  uv_async_t wakeup_;
  uv_check_t end_of_turn_check_;
  std::vector<std::function<void()>> end_of_turn_;  // loop thread only
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace rustorium::rpc
