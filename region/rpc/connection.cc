#include "region/rpc/connection.h"

#include <algorithm>
#include <cstdint>

#include "region/rpc/uv_loop.h"

namespace rustorium::rpc {

namespace {

// One write in flight: owns its bytes until libuv is done with them.
struct WriteRequest {
  uv_write_t req;
  std::string bytes;
  std::weak_ptr<Connection> connection;
};

}  // namespace

std::shared_ptr<Connection> Connection::Create(EventLoop& loop, ConnectionLimits limits) {
  std::shared_ptr<Connection> c(new Connection(loop, limits));
  c->self_ = c;  // released by the close callback
  return c;
}

Connection::Connection(EventLoop& loop, ConnectionLimits limits)
    : loop_(loop), limits_(limits), decoder_(limits.max_frame_bytes) {
  uv_tcp_init(UvLoop(loop_), &tcp_);
  tcp_.data = this;
  read_buffer_.resize(64 * 1024);
}

Connection::~Connection() = default;

void Connection::EnableTls(const TlsContext& context, const std::string& peer_host) {
  tls_ = std::make_unique<TlsSession>(context, peer_host);
}

void Connection::Start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  uv_tcp_nodelay(&tcp_, 1);
  if (limits_.keepalive_seconds > 0) uv_tcp_keepalive(&tcp_, 1, limits_.keepalive_seconds);
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::OnAlloc,
                               &Connection::OnRead);
  if (rc != 0) {
    Close(Status::IOError(std::string("read_start: ") + uv_strerror(rc)));
    return;
  }
  started_ms_ = last_frame_ms_ = uv_now(UvLoop(loop_));
  if ((tls_ && limits_.handshake_timeout.count() > 0) || limits_.idle_timeout.count() > 0) {
    timer_ = new uv_timer_t;
    uv_timer_init(UvLoop(loop_), timer_);
    timer_->data = this;
    CheckDeadlines();
  }
  if (tls_) {
    std::string hello;
    Status s = tls_->Start(hello);
    if (!s.ok()) {
      Close(s);
      return;
    }
    if (!hello.empty()) Enqueue(std::move(hello));
  }
}

void Connection::OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(c->read_buffer_.data(), static_cast<unsigned>(c->read_buffer_.size()));
}

void Connection::OnRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  if (n < 0) {
    c->Close(n == UV_EOF
                 ? Status::Aborted("peer closed the connection")
                 : Status::IOError(std::string("read: ") + uv_strerror(static_cast<int>(n))));
    return;
  }
  if (n == 0 || c->closing_) return;
  const std::string_view received(buf->base, static_cast<std::size_t>(n));
  if (c->tls_) {
    if (c->handshake_pending()) {
      // OpenSSL buffers at most a record of an unfinished handshake, but a peer must not be
      // able to make us hold more than the connection's queue limit either way.
      c->received_before_handshake_ += received.size();
      if (c->received_before_handshake_ + c->queued_bytes() > c->limits_.max_queued_bytes) {
        c->Close(Status::InvalidArgument(
            std::to_string(c->received_before_handshake_) +
            " bytes received before the TLS handshake completed (max_queued_bytes = " +
            std::to_string(c->limits_.max_queued_bytes) + ")"));
        return;
      }
    }
    std::string plain, reply;
    Status s = c->tls_->OnCiphertext(received, plain, reply);
    if (!c->handshake_pending()) {
      c->held_bytes_ = 0;  // the held frames are encrypted into `reply` now
      c->received_before_handshake_ = 0;
    }
    if (!reply.empty()) c->Enqueue(std::move(reply));
    if (!s.ok()) {
      c->Close(s);
      return;
    }
    c->decoder_.Feed(plain);
  } else {
    c->decoder_.Feed(received);
  }
  // A handler may close the connection; keep it alive through the loop.
  std::shared_ptr<Connection> keep = c->self_;
  Envelope envelope;
  while (!c->closing_) {
    Result<bool> next = c->decoder_.Next(envelope);
    if (!next.ok()) {
      c->Close(next.status());
      return;
    }
    if (!*next) break;
    c->last_frame_ms_ = uv_now(UvLoop(c->loop_));
    try {
      c->on_frame_(*c, envelope);
    } catch (...) {
      c->Close(Status::Internal("frame handler threw"));
    }
  }
  if (c->decoder_.buffered() == 0) {
    c->partial_since_ = 0;
  } else if (c->partial_since_ == 0) {
    c->partial_since_ = uv_now(UvLoop(c->loop_));
  }
}

Status Connection::Send(const Envelope& envelope) {
  if (closing_) return Status::Aborted("connection is closed");
  if (queued_bytes() > limits_.max_queued_bytes) {
    return Status::Busy("connection write queue is full (" + std::to_string(queued_bytes()) +
                        " bytes)");
  }
  std::string frame;
  RETURN_IF_ERROR(AppendFrame(envelope, frame, limits_.max_frame_bytes));
  last_frame_ms_ = uv_now(UvLoop(loop_));
  if (tls_) {
    if (handshake_pending()) held_bytes_ += frame.size();
    std::string cipher;
    Status s = tls_->Write(frame, cipher);
    if (!s.ok()) {
      Close(s);
      return s;
    }
    frame.swap(cipher);
  }
  if (!frame.empty()) Enqueue(std::move(frame));
  return Status::OK();
}

void Connection::Enqueue(std::string bytes) {
  // Everything leaves in the order it was queued (TLS records must), at the end of the loop
  // turn: frames of one turn go out in one write.
  queued_bytes_ += bytes.size();
  if (out_.empty()) {
    out_ = std::move(bytes);
  } else {
    out_.append(bytes);
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    std::weak_ptr<Connection> weak = weak_from_this();
    loop_.AtEndOfTurn([weak] {
      if (auto c = weak.lock()) c->Flush();
    });
  }
}

void Connection::Flush() {
  flush_scheduled_ = false;
  if (out_.empty()) return;
  std::string bytes;
  bytes.swap(out_);
  queued_bytes_ -= bytes.size();  // WriteRaw counts them again while in flight
  WriteRaw(std::move(bytes));
}

bool Connection::WriteRaw(std::string bytes) {
  if (closing_) return false;
  auto* w = new WriteRequest();
  w->bytes = std::move(bytes);
  w->connection = weak_from_this();
  w->req.data = w;
  queued_bytes_ += w->bytes.size();
  ++writes_;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  const int rc = uv_write(
      &w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, [](uv_write_t* req, int status) {
        auto* w = static_cast<WriteRequest*>(req->data);
        if (auto c = w->connection.lock()) {
          c->queued_bytes_ -= w->bytes.size();
          if (status < 0 && status != UV_ECANCELED) {
            c->Close(Status::IOError(std::string("write: ") + uv_strerror(status)));
          }
        }
        delete w;
      });
  if (rc != 0) {
    queued_bytes_ -= w->bytes.size();
    delete w;
    Close(Status::IOError(std::string("write: ") + uv_strerror(rc)));
    return false;
  }
  return true;
}

void Connection::CheckDeadlines() {
  if (closing_ || timer_ == nullptr) return;
  const uint64_t now = uv_now(UvLoop(loop_));
  const auto handshake = static_cast<uint64_t>(limits_.handshake_timeout.count());
  const auto idle = static_cast<uint64_t>(limits_.idle_timeout.count());
  uint64_t next = UINT64_MAX;  // ms until the earliest deadline still open
  if (handshake_pending() && handshake > 0) {
    if (now - started_ms_ >= handshake) {
      expiry_ = Expiry::kHandshake;
      Close(Status::TimedOut("TLS handshake not complete after " + std::to_string(handshake) +
                             " ms (handshake_timeout)"));
      return;
    }
    next = started_ms_ + handshake - now;
  }
  if (idle > 0) {
    if (now - last_frame_ms_ >= idle) {
      expiry_ = Expiry::kIdle;
      Close(Status::TimedOut("no frame for " + std::to_string(now - last_frame_ms_) +
                             " ms (idle_timeout " + std::to_string(idle) + " ms)"));
      return;
    }
    next = std::min(next, last_frame_ms_ + idle - now);
  }
  if (next == UINT64_MAX) return;
  // Frames move last_frame_ms_ without touching the timer: it fires at the old deadline,
  // finds the connection busy and sleeps until the new one.
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->CheckDeadlines(); }, next, 0);
}

void Connection::Close(const Status& why) {
  if (closing_) return;
  closing_ = true;
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  CloseHandler on_close = std::move(on_close_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
    auto* c = static_cast<Connection*>(h->data);
    std::shared_ptr<Connection> last = std::move(c->self_);  // may destroy c on return
  });
  if (on_close) on_close(*this, why);
}

}  // namespace rustorium::rpc
