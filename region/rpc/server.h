// RpcServer: accepts connections on one address and dispatches frames by method.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/status.h"
#include "region/rpc/connection.h"
#include "region/rpc/event_loop.h"

namespace rustorium::rpc {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port, readable from port() after Start
  ConnectionLimits limits;
  // TLS for every connection when set (TlsContext::CreateServer); plain TCP otherwise.
  std::shared_ptr<TlsContext> tls;
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
  // Receives a ONE_WAY message; runs on the loop thread.
  using MessageHandler = std::function<void(const Envelope& message)>;

  RpcServer(EventLoop& loop, ServerOptions options);
  // Closes the listener and every connection.
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Register before Start.
  void Handle(const std::string& method, Handler handler);
  void OnMessage(const std::string& method, MessageHandler handler);

  // Binds and listens. IOError when the address cannot be bound.
  Status Start();
  int port() const { return port_; }

  // Connections closed for a malformed or oversized frame since Start. Thread-safe.
  uint64_t refused_connections() const { return refused_.load(); }

 private:
  void OnConnection();
  void OnFrame(Connection& c, Envelope& e);

  EventLoop& loop_;
  ServerOptions options_;
  uv_tcp_t listener_;
  bool listening_ = false;
  int port_ = 0;
  std::map<std::string, Handler> handlers_;
  std::map<std::string, MessageHandler> message_handlers_;
  std::set<std::shared_ptr<Connection>> connections_;  // loop thread only
  std::atomic<uint64_t> refused_{0};
};

}  // namespace rustorium::rpc
