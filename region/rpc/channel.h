// RpcChannel: a client's connection to one server address, reused by every call, reconnected
// with exponential backoff when it breaks.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "region/rpc/address.h"
#include "region/rpc/channel_options.h"
#include "region/rpc/connection.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/link_filter.h"

namespace rustorium::rpc {

class RpcChannel {
 public:
  // The call's answer, on the loop thread: the response payload, or the error. TimedOut when
  // the deadline passed (the outcome on the server is unknown); IOError when the connection
  // broke with the call in flight (also unknown); Busy ("not sent: ...") when no connection
  // could be made (refused, or the host name did not resolve: "not sent: cannot resolve
  // 'NAME': why"), so the server never saw the call; the server's Status otherwise.
  using Callback = std::function<void(Result<std::string>)>;

  // `host` is an IPv4 or IPv6 address or a DNS name (region/rpc/address.h); anything else
  // fails every call with InvalidArgument. A name is resolved off the loop (libuv's thread
  // pool) each time a connection is made, and its addresses are tried in order; under TLS the
  // server's certificate must name `host`.
  RpcChannel(EventLoop& loop, std::string host, int port, ChannelOptions options = {});
  // Fails every pending call with Aborted and closes the connection.
  ~RpcChannel();
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  // Sends a request; `done` runs exactly once. Thread-safe.
  void Call(const std::string& method, std::string payload, std::chrono::milliseconds timeout,
            Callback done);
  // A request answered by a server stream: `on_item` runs for each item, then `on_end` once
  // with the stream's final status (or TimedOut / IOError as for Call). Both on the loop
  // thread. Thread-safe.
  void CallStream(const std::string& method, std::string payload, std::chrono::milliseconds timeout,
                  std::function<void(std::string)> on_item, std::function<void(Status)> on_end);
  // Call from a thread other than the loop's, waiting for the answer.
  Result<std::string> CallSync(const std::string& method, std::string payload,
                               std::chrono::milliseconds timeout);
  // A one-way message (best effort: held while the connection is being made, dropped when it
  // cannot be made or the queued-bytes bound is reached). Thread-safe.
  void Send(const std::string& method, std::string payload, uint64_t group_id = 0);

 private:
  struct Pending;
  void StartCall(uint64_t id, Envelope request, std::chrono::milliseconds timeout, Callback done,
                 std::function<void(std::string)> on_item = nullptr);
  void SendRequest(Envelope request);
  void SendOneWay(Envelope message);
  // Applies the link filter to a frame: false when it goes now; true when it was dropped or
  // is held (`send` then runs after the delay).
  bool Filtered(std::function<void()> send);
  void RunDelayed();
  void Connect();
  // The resolver's answer for host_: connects to the first address, or fails the attempt.
  void OnResolved(int status, std::vector<sockaddr_storage> addresses);
  // Connects to addresses_[next_address_].
  void ConnectNext();
  void OnConnected(int status);
  // A connection attempt failed (`why`): the waiting calls fail as not sent, and one-way
  // messages are dropped for the backoff pause.
  void OnConnectFailed(const std::string& why);
  void OnFrame(Envelope& e);
  void OnClosed(const Status& why);
  void Finish(uint64_t id, Result<std::string> result);

  EventLoop& loop_;
  std::string host_;
  int port_;
  ChannelOptions options_;
  // Loop-thread state.
  std::shared_ptr<Connection> connection_;
  bool connected_ = false;
  bool connecting_ = false;
  std::vector<sockaddr_storage> addresses_;  // what host_ stood for at this attempt
  std::size_t next_address_ = 0;             // the one being tried
  std::chrono::milliseconds backoff_{0};
  std::vector<Envelope> waiting_;          // requests queued while connecting
  std::vector<Envelope> waiting_one_way_;  // one-way messages queued while connecting
  std::size_t waiting_one_way_bytes_ = 0;
  uint64_t retry_at_ms_ = 0;  // one-way messages before this (loop time) are dropped
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  uint64_t next_id_ = 1;
  // Frames held by a delay rule, in order, with when (loop time, ms) each may go.
  std::deque<std::pair<uint64_t, std::function<void()>>> delayed_;
  uv_timer_t* delay_timer_ = new uv_timer_t;  // freed when libuv has closed it
  std::shared_ptr<bool> alive_;               // false once destroyed: late libuv callbacks check it
};

}  // namespace rustorium::rpc
