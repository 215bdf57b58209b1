// Connection: one TCP stream carrying frames (internal to region/rpc/). Lives on one
// EventLoop; every method must be called on that loop's thread.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "region/rpc/channel_options.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/frame.h"
#include "region/rpc/tls.h"

namespace rustorium::rpc {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using FrameHandler = std::function<void(Connection&, Envelope&)>;
  using CloseHandler = std::function<void(Connection&, const Status&)>;

  static std::shared_ptr<Connection> Create(EventLoop& loop, ConnectionLimits limits);
  ~Connection();

  // The TCP handle, to accept into or to connect with before Start.
  uv_tcp_t* tcp() { return &tcp_; }

  // Wraps the stream in TLS (call before Start). `peer_host`: the name a client expects in
  // the server's certificate.
  void EnableTls(const TlsContext& context, const std::string& peer_host);

  // Starts reading: each decoded envelope goes to `on_frame`; `on_close` runs once, when the
  // connection closes for any reason (peer, error, malformed frame, Close, or the handshake
  // and idle timeouts of ConnectionLimits, which start counting here).
  void Start(FrameHandler on_frame, CloseHandler on_close);

  // Queues `envelope` for writing. Busy when the write queue (with frames held for an
  // unfinished TLS handshake) is over its limit, InvalidArgument for an oversized envelope,
  // Aborted when closed.
  Status Send(const Envelope& envelope);

  // Which of the connection's own deadlines closed it, if one did.
  enum class Expiry { kNone, kHandshake, kIdle };
  Expiry expiry() const { return expiry_; }

  // Closes the connection (idempotent); `why` reaches the close handler.
  void Close(const Status& why);
  bool closed() const { return closing_; }
  // Who the peer is: the identity of its verified certificate under TLS (role kNone until the
  // handshake completes), a trusted plain peer otherwise.
  PeerIdentity peer() const { return tls_ ? tls_->peer() : PeerIdentity::Plain(); }
  // Loop time (uv_now, ms) since which a frame has been partly received, or 0 when no
  // partial frame is buffered: how a server spots slow-loris peers.
  uint64_t partial_frame_since() const { return partial_since_; }
  // Bytes queued for writing, frames held for an unfinished TLS handshake included.
  std::size_t queued_bytes() const { return queued_bytes_ + held_bytes_; }
  // Socket writes issued so far (frames of one loop turn share one write).
  uint64_t writes() const { return writes_; }

 private:
  Connection(EventLoop& loop, ConnectionLimits limits);
  static void OnAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  // Writes bytes as they are (ciphertext under TLS); false when the connection closed.
  bool WriteRaw(std::string bytes);
  // Queues bytes (frames, or ciphertext under TLS) for the end-of-turn flush.
  void Enqueue(std::string bytes);
  // Writes what this loop turn queued in out_ (at the end of the turn).
  void Flush();
  // Arms timer_ for the earliest of the handshake and idle deadlines still open; closes the
  // connection when one has passed.
  void CheckDeadlines();
  bool handshake_pending() const { return tls_ != nullptr && !tls_->established(); }

  EventLoop& loop_;
  ConnectionLimits limits_;
  uv_tcp_t tcp_;
  FrameDecoder decoder_;
  std::unique_ptr<TlsSession> tls_;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  std::shared_ptr<Connection> self_;  // keeps this alive until libuv's close callback
  std::string read_buffer_;
  std::size_t queued_bytes_ = 0;
  std::string out_;  // frames (ciphertext under TLS) queued this turn, counted in queued_bytes_
  bool flush_scheduled_ = false;
  uint64_t writes_ = 0;
  uint64_t partial_since_ = 0;
  bool closing_ = false;
  // Frames Send handed to TLS before its handshake completed (TlsSession holds them).
  std::size_t held_bytes_ = 0;
  // Bytes received while the TLS handshake was incomplete.
  std::size_t received_before_handshake_ = 0;
  uv_timer_t* timer_ = nullptr;  // handshake and idle deadlines; freed by its close callback
  uint64_t started_ms_ = 0;      // loop time of Start
  uint64_t last_frame_ms_ = 0;   // loop time of the last frame received or sent
  Expiry expiry_ = Expiry::kNone;
};

}  // namespace rustorium::rpc
