// EventLoop: one libuv loop on its own thread. Every handle of the RPC library lives on a
// loop and is touched only from that loop's thread; other threads hand work over with Post.
//
// libuv stays out of this header: code that needs the raw loop (the RPC library, the Raft
// backend's timers and workers) gets it from region/rpc/uv_loop.h, which public headers never
// include.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

struct uv_loop_s;

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

  // Runs `fn` on the loop thread once `delay` has passed; returns a handle for Cancel. Loop
  // thread only. An owner whose `fn` uses it cancels what it started before it goes.
  uint64_t RunAfter(std::chrono::milliseconds delay, std::function<void()> fn);
  // Drops a RunAfter that has not run (nothing when it has). Loop thread only.
  void Cancel(uint64_t handle);

  bool InLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Impl;  // the libuv handles and the posted-task queue (event_loop.cc)
  friend uv_loop_s* UvLoop(EventLoop& loop);

  std::unique_ptr<Impl> impl_;
  std::vector<std::function<void()>> end_of_turn_;  // loop thread only
  std::thread thread_;
};

}  // namespace rustorium::rpc
