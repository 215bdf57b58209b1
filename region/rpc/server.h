// RpcServer: accepts connections on one address and dispatches frames by method.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/status.h"
#include "region/rpc/connection.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/identity.h"

namespace rustorium::rpc {

struct ServerOptions {
  // An IP address, or a host name resolved once by Start (its first IPv4 address, else its
  // first address).
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port, readable from port() after Start
  // Per connection; also the TLS handshake timeout (10 s) and the idle timeout (10 min).
  ConnectionLimits limits;
  // Open connections at most; one more is accepted and closed at once (counted in
  // rejected_connections, logged), so a flood of peers cannot exhaust descriptors or memory.
  std::size_t max_connections = 1024;
  // TLS for every connection when set (TlsContext::CreateServer); plain TCP otherwise.
  std::shared_ptr<TlsContext> tls;
  // A connection that keeps a frame half-received this long is closed (slow-loris peers).
  std::chrono::milliseconds frame_timeout{10000};
  // Bytes queued for writing across all connections (as of the last sweep, every
  // frame_timeout / 4); at or above it requests are answered Busy without running their
  // handler.
  std::size_t max_total_queued_bytes = 512 << 20;
};

// Errors as they travel on the wire, and back.
ErrorCode ToWire(StatusCode code);
Status FromWire(ErrorCode code, const std::string& message);

class RpcServer {
 public:
  // Answers one request, once, from any thread: a value, or a Status for the caller.
  using Responder = std::function<void(Result<std::string>)>;
  // Serves a REQUEST; runs on the loop thread and must not block it.
  using Handler = std::function<void(const Envelope& request, Responder respond)>;
  // The same, given who sent it (the identity of the peer's verified certificate; a trusted
  // peer on plain TCP), for a handler that checks a claim of the request against it.
  using PeerHandler =
      std::function<void(const Envelope& request, const PeerIdentity& peer, Responder respond)>;
  // Receives a ONE_WAY message; runs on the loop thread.
  using MessageHandler = std::function<void(const Envelope& message)>;
  using PeerMessageHandler = std::function<void(const Envelope& message, const PeerIdentity& peer)>;

  // The sending side of a server stream. Thread-safe; items after Finish are dropped.
  class StreamWriter {
   public:
    virtual ~StreamWriter() = default;
    // Queues one item; false when the caller is gone (stop producing).
    virtual bool Write(std::string item) = 0;
    // Ends the stream with `status` (OK for a normal end). Call exactly once.
    virtual void Finish(Status status) = 0;
  };
  // Serves a REQUEST with a stream of items; runs on the loop thread.
  using StreamHandler =
      std::function<void(const Envelope& request, std::shared_ptr<StreamWriter> writer)>;

  RpcServer(EventLoop& loop, ServerOptions options);
  // Closes the listener and every connection.
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Register before Start. `roles`: who may call the method under TLS, by the role in their
  // certificate (identity.h); a request from anyone else is answered PermissionDenied without
  // running the handler, a one-way message from anyone else is dropped, and both are counted
  // (denied_calls). On plain TCP every peer is trusted and reaches every method.
  void Handle(const std::string& method, Handler handler, RoleSet roles = kAnyPeer);
  void Handle(const std::string& method, PeerHandler handler, RoleSet roles = kAnyPeer);
  void OnMessage(const std::string& method, MessageHandler handler, RoleSet roles = kAnyPeer);
  void OnMessage(const std::string& method, PeerMessageHandler handler, RoleSet roles = kAnyPeer);
  void HandleStream(const std::string& method, StreamHandler handler, RoleSet roles = kAnyPeer);

  // Binds and listens. IOError when the host does not resolve or the address cannot be bound.
  Status Start();
  int port() const { return port_; }

  // Connections closed for a malformed or oversized frame since Start. Thread-safe.
  uint64_t refused_connections() const { return refused_.load(); }
  // Connections closed for holding a partial frame past frame_timeout. Thread-safe.
  uint64_t timed_out_connections() const { return timed_out_.load(); }
  // Connections closed at accept because max_connections were open. Thread-safe.
  uint64_t rejected_connections() const { return rejected_.load(); }
  // Connections closed for a TLS handshake not complete within limits.handshake_timeout.
  // Thread-safe.
  uint64_t handshake_timed_out_connections() const { return handshake_timed_out_.load(); }
  // Connections closed after limits.idle_timeout without a frame. Thread-safe.
  uint64_t idle_closed_connections() const { return idle_closed_.load(); }
  // Connections open now. Thread-safe.
  std::size_t open_connections() const { return open_.load(); }
  // Calls and messages refused PermissionDenied since Start: by the role check above, and
  // by handlers that answered PermissionDenied (a claim the caller's identity does not back).
  // Thread-safe.
  uint64_t denied_calls() const { return denials_->total.load(); }
  // The same, for one method. Thread-safe.
  uint64_t denied_calls(const std::string& method) const;
  // Who may call `method` (kAnyPeer for an unregistered one).
  RoleSet roles(const std::string& method) const;

 private:
  void OnConnection();
  void OnFrame(Connection& c, Envelope& e);
  // Refusals, shared with responders that may run after the server is gone.
  struct Denials {
    std::atomic<uint64_t> total{0};
    std::mutex mu;
    std::map<std::string, uint64_t> by_method;  // guarded by mu
    void Count(const std::string& method);
  };
  void Sweep();

  EventLoop& loop_;
  ServerOptions options_;
  uv_tcp_t listener_;
  uv_timer_t sweep_timer_;
  bool listening_ = false;
  int port_ = 0;
  std::map<std::string, PeerHandler> handlers_;
  std::map<std::string, PeerMessageHandler> message_handlers_;
  std::map<std::string, StreamHandler> stream_handlers_;
  std::map<std::string, RoleSet> roles_;               // set before Start, read-only after
  std::set<std::shared_ptr<Connection>> connections_;  // loop thread only
  std::size_t total_queued_bytes_ = 0;                 // loop thread only; set by Sweep
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> timed_out_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> handshake_timed_out_{0};
  std::atomic<uint64_t> idle_closed_{0};
  std::atomic<std::size_t> open_{0};
  uint64_t rejected_logged_ms_ = 0;  // loop thread only: when a rejection was last logged
  std::shared_ptr<Denials> denials_ = std::make_shared<Denials>();
};

}  // namespace rustorium::rpc
