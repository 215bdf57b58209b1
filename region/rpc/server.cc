#include "region/rpc/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "region/rpc/address.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::rpc {

ErrorCode ToWire(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return OK;
    case StatusCode::kInvalidArgument:
      return INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return NOT_FOUND;
    case StatusCode::kCorruption:
      return CORRUPTION;
    case StatusCode::kIOError:
      return IO_ERROR;
    case StatusCode::kNotSupported:
      return NOT_SUPPORTED;
    case StatusCode::kFailedPrecondition:
      return FAILED_PRECONDITION;
    case StatusCode::kBusy:
      return BUSY;
    case StatusCode::kTimedOut:
      return TIMED_OUT;
    case StatusCode::kAborted:
      return ABORTED;
    case StatusCode::kInternal:
      return INTERNAL;
    case StatusCode::kPermissionDenied:
      return PERMISSION_DENIED;
  }
  return INTERNAL;
}

Status FromWire(ErrorCode code, const std::string& message) {
  switch (code) {
    case OK:
      return Status::OK();
    case INVALID_ARGUMENT:
      return Status::InvalidArgument(message);
    case NOT_FOUND:
      return Status::NotFound(message);
    case CORRUPTION:
      return Status::Corruption(message);
    case IO_ERROR:
      return Status::IOError(message);
    case NOT_SUPPORTED:
    case UNKNOWN_METHOD:
      return Status::NotSupported(message);
    case FAILED_PRECONDITION:
      return Status::FailedPrecondition(message);
    case BUSY:
      return Status::Busy(message);
    case TIMED_OUT:
      return Status::TimedOut(message);
    case ABORTED:
      return Status::Aborted(message);
    case PERMISSION_DENIED:
      return Status::PermissionDenied(message);
    default:
      return Status::Internal(message);
  }
}

namespace {

// Sends `reply` (a RESPONSE, STREAM_ITEM or STREAM_END) on `conn`. An answer too large for a
// frame is never dropped in silence (the caller would wait for its deadline): it becomes an
// error answer, and a stream item too large ends its stream with that error.
void SendAnswer(Connection& conn, Envelope& reply) {
  const Status s = conn.Send(reply);
  if (s.code() != StatusCode::kInvalidArgument) return;  // other failures close the connection
  const std::size_t size = reply.payload().size();
  reply.clear_payload();
  if (reply.kind() == STREAM_ITEM) reply.set_kind(STREAM_END);
  reply.set_error_code(ToWire(StatusCode::kInvalidArgument));
  reply.set_error_message("answer of " + std::to_string(size) +
                          " bytes does not fit a frame; ask for less: " + s.message());
  conn.Send(reply).IgnoreError();  // a small error answer; a failed send closes the connection
}

class ConnectionStreamWriter final : public RpcServer::StreamWriter {
 public:
  ConnectionStreamWriter(EventLoop* loop, std::weak_ptr<Connection> conn, uint64_t id)
      : loop_(loop), conn_(std::move(conn)), id_(id) {}

  bool Write(std::string item) override {
    if (finished_.load() || conn_.expired()) return false;
    Envelope e;
    e.set_id(id_);
    e.set_kind(STREAM_ITEM);
    e.set_payload(std::move(item));
    SendOnLoop(std::move(e));
    return true;
  }

  void Finish(Status status) override {
    if (finished_.exchange(true)) return;
    Envelope e;
    e.set_id(id_);
    e.set_kind(STREAM_END);
    e.set_error_code(ToWire(status.code()));
    e.set_error_message(status.message());
    SendOnLoop(std::move(e));
  }

 private:
  void SendOnLoop(Envelope e) {
    loop_->Post([conn = conn_, e = std::move(e)]() mutable {
      if (auto c = conn.lock(); c && !c->closed()) SendAnswer(*c, e);
    });
  }

  EventLoop* loop_;
  std::weak_ptr<Connection> conn_;
  uint64_t id_;
  std::atomic<bool> finished_{false};
};

}  // namespace

RpcServer::RpcServer(EventLoop& loop, ServerOptions options)
    : loop_(loop), options_(std::move(options)) {}

RpcServer::~RpcServer() {
  loop_.RunSync([this] {
    if (listening_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
    }
    for (const auto& c : std::set<std::shared_ptr<Connection>>(connections_)) {
      c->Close(Status::Aborted("server stopped"));
    }
    connections_.clear();
  });
  // Let the listener's close complete before its memory goes away.
  loop_.RunSync([] {});
}

void RpcServer::Handle(const std::string& method, Handler handler, RoleSet roles) {
  Handle(
      method,
      [handler = std::move(handler)](const Envelope& e, const PeerIdentity&, Responder respond) {
        handler(e, std::move(respond));
      },
      roles);
}

void RpcServer::Handle(const std::string& method, PeerHandler handler, RoleSet roles) {
  handlers_[method] = std::move(handler);
  roles_[method] = roles;
}

void RpcServer::OnMessage(const std::string& method, MessageHandler handler, RoleSet roles) {
  OnMessage(
      method,
      [handler = std::move(handler)](const Envelope& e, const PeerIdentity&) { handler(e); },
      roles);
}

void RpcServer::OnMessage(const std::string& method, PeerMessageHandler handler, RoleSet roles) {
  message_handlers_[method] = std::move(handler);
  roles_[method] = roles;
}

void RpcServer::HandleStream(const std::string& method, StreamHandler handler, RoleSet roles) {
  stream_handlers_[method] = std::move(handler);
  roles_[method] = roles;
}

RoleSet RpcServer::roles(const std::string& method) const {
  auto it = roles_.find(method);
  return it == roles_.end() ? kAnyPeer : it->second;
}

uint64_t RpcServer::denied_calls(const std::string& method) const {
  std::lock_guard<std::mutex> lock(denials_->mu);
  auto it = denials_->by_method.find(method);
  return it == denials_->by_method.end() ? 0 : it->second;
}

void RpcServer::Denials::Count(const std::string& method) {
  ++total;
  std::lock_guard<std::mutex> lock(mu);
  ++by_method[method];
}

Status RpcServer::Start() {
  // A host name is resolved once, here (docs/decisions.md, "Host names"): the first IPv4
  // address it stands for, else its first address.
  Result<std::vector<sockaddr_storage>> resolved = ResolveNow(options_.host, options_.port);
  if (!resolved.ok()) {
    return Status::IOError("cannot listen on " + options_.host + ":" +
                           std::to_string(options_.port) + ": " + resolved.status().message());
  }
  sockaddr_storage addr = resolved->front();
  for (const sockaddr_storage& a : *resolved) {
    if (a.ss_family == AF_INET) {
      addr = a;
      break;
    }
  }
  Status result;
  loop_.RunSync([&] {
    uv_tcp_init(UvLoop(loop_), &listener_);
    listener_.data = this;
    uv_timer_init(UvLoop(loop_), &sweep_timer_);
    sweep_timer_.data = this;
    listening_ = true;
    const uint64_t period = std::max<uint64_t>(10, options_.frame_timeout.count() / 4);
    uv_timer_start(
        &sweep_timer_, [](uv_timer_t* t) { static_cast<RpcServer*>(t->data)->Sweep(); }, period,
        period);
    int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rc == 0) {
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128,
                     [](uv_stream_t* s, int status) {
                       if (status == 0) static_cast<RpcServer*>(s->data)->OnConnection();
                     });
    }
    if (rc != 0) {
      result = Status::IOError("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + uv_strerror(rc));
      return;
    }
    sockaddr_storage bound{};
    int len = sizeof(bound);
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  });
  return result;
}

void RpcServer::OnConnection() {
  std::shared_ptr<Connection> c = Connection::Create(loop_, options_.limits);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(c->tcp())) != 0) {
    c->Close(Status::IOError("accept failed"));
    return;
  }
  if (connections_.size() >= options_.max_connections) {
    // Accepted only to be closed: left in the backlog it would be retried on every turn.
    const uint64_t rejected = ++rejected_;
    const uint64_t now = uv_now(UvLoop(loop_));
    if (rejected == 1 || now - rejected_logged_ms_ >= 10000) {
      rejected_logged_ms_ = now;
      spdlog::warn("rpc connection refused: port={} open={} max_connections={} refused_total={}",
                   port_, connections_.size(), options_.max_connections, rejected);
    }
    c->Close(Status::Busy("max_connections reached"));
    return;
  }
  connections_.insert(c);
  open_ = connections_.size();
  if (options_.tls) c->EnableTls(*options_.tls, "");
  c->Start([this](Connection& conn, Envelope& e) { OnFrame(conn, e); },
           [this](Connection& conn, const Status& why) {
             if (why.IsInvalidArgument() || why.IsCorruption()) ++refused_;
             if (conn.expiry() == Connection::Expiry::kHandshake) ++handshake_timed_out_;
             if (conn.expiry() == Connection::Expiry::kIdle) ++idle_closed_;
             connections_.erase(conn.shared_from_this());
             open_ = connections_.size();
           });
}

void RpcServer::Sweep() {
  const uint64_t now = uv_now(UvLoop(loop_));
  const auto limit = static_cast<uint64_t>(options_.frame_timeout.count());
  std::vector<std::shared_ptr<Connection>> stale;
  total_queued_bytes_ = 0;
  for (const auto& c : connections_) {
    total_queued_bytes_ += c->queued_bytes();
    const uint64_t since = c->partial_frame_since();
    if (since != 0 && now - since >= limit) stale.push_back(c);
  }
  for (const auto& c : stale) {
    ++timed_out_;
    c->Close(Status::TimedOut("a frame stayed half-received past frame_timeout"));
  }
}

void RpcServer::OnFrame(Connection& c, Envelope& e) {
  if (e.kind() != ONE_WAY && e.kind() != REQUEST) {
    return;  // a server ignores answers and cancels it does not know
  }
  const PeerIdentity peer = c.peer();
  const RoleSet allowed = roles(e.method());
  if (!peer.trusted && (allowed & Roles(peer.role)) == 0) {
    // Refused before any handler runs: the method is not for this certificate's role.
    denials_->Count(e.method());
    if (e.kind() == ONE_WAY) return;
    Envelope reply;
    reply.set_id(e.id());
    reply.set_kind(RESPONSE);
    reply.set_error_code(PERMISSION_DENIED);
    reply.set_error_message(e.method().substr(0, 100) + " is not open to " + peer.ToString());
    c.Send(reply).IgnoreError();  // a failed send closes the connection itself
    return;
  }
  if (e.kind() == ONE_WAY) {
    auto it = message_handlers_.find(e.method());
    if (it != message_handlers_.end()) it->second(e, peer);
    return;  // unknown one-way messages are dropped
  }
  std::weak_ptr<Connection> weak = c.shared_from_this();
  const uint64_t id = e.id();
  EventLoop* loop = &loop_;
  Responder respond = [denials = denials_, weak, id, loop,
                       method = e.method()](Result<std::string> result) {
    // A handler's own refusal (a claim the caller's identity does not back) counts as well.
    if (!result.ok() && result.status().IsPermissionDenied()) denials->Count(method);
    loop->Post([weak, id, result = std::move(result)]() mutable {
      std::shared_ptr<Connection> conn = weak.lock();
      if (!conn || conn->closed()) return;  // the caller is gone
      Envelope reply;
      reply.set_id(id);
      reply.set_kind(RESPONSE);
      if (result.ok()) {
        reply.set_payload(std::move(*result));
      } else {
        reply.set_error_code(ToWire(result.status().code()));
        reply.set_error_message(result.status().message());
      }
      SendAnswer(*conn, reply);
    });
  };
  auto stream = stream_handlers_.find(e.method());
  if (stream != stream_handlers_.end()) {
    stream->second(e, std::make_shared<ConnectionStreamWriter>(&loop_, weak, id));
    return;
  }
  auto it = handlers_.find(e.method());
  if (it != handlers_.end() && total_queued_bytes_ >= options_.max_total_queued_bytes) {
    Envelope reply;
    reply.set_id(id);
    reply.set_kind(RESPONSE);
    reply.set_error_code(BUSY);
    reply.set_error_message("server write queues are full");
    c.Send(reply).IgnoreError();  // a failed send closes the connection itself
    return;
  }
  if (it == handlers_.end()) {
    Envelope reply;
    reply.set_id(id);
    reply.set_kind(RESPONSE);
    reply.set_error_code(UNKNOWN_METHOD);
    reply.set_error_message("no method " + e.method());
    c.Send(reply).IgnoreError();  // a failed send closes the connection itself
    return;
  }
  it->second(e, peer, std::move(respond));
}

}  // namespace rustorium::rpc
