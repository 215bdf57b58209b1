// The options of a connection and of a channel to one server, apart from the classes that use
// them, so that a header that only carries options (MultiRaftOptions, ClientOptions) does not
// pull in libuv through connection.h / channel.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "region/rpc/frame.h"

namespace rustorium::rpc {

class LinkFilter;  // region/rpc/link_filter.h
class TlsContext;  // region/rpc/tls.h

struct ConnectionLimits {
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Bytes queued for writing beyond which Send refuses with Busy (a slow or stuck peer must
  // not grow our memory without bound). Frames sent before the TLS handshake completes (held
  // as plaintext until it does) count too. Bytes received before the handshake completes count
  // against it as well: above it the connection is closed (InvalidArgument).
  std::size_t max_queued_bytes = 64 << 20;
  // A TLS handshake not complete this long after Start closes the connection (TimedOut): a
  // peer that connects and never finishes, or trickles, holds no slot for long. 0: no limit.
  // Plain TCP connections have no handshake.
  std::chrono::milliseconds handshake_timeout{10000};
  // No frame in either direction for this long closes the connection (TimedOut); a channel
  // connects again on its next call. 0: never. Servers close idle peers after 10 minutes by
  // default; a channel's own timer (the same default) closes its side.
  std::chrono::milliseconds idle_timeout{600000};
  // TCP keepalive probes after this much idle time, so a peer that vanished (half-open
  // connection) is noticed. 0 turns keepalive off.
  unsigned keepalive_seconds = 30;
};

struct ChannelOptions {
  ConnectionLimits limits;
  // After a failed connection attempt, one-way messages are dropped for a pause doubling from
  // `backoff_initial` up to `backoff_max` (the peer is taken to be down); calls fail at once
  // and every new call tries again.
  std::chrono::milliseconds backoff_initial{20};
  std::chrono::milliseconds backoff_max{2000};
  // TLS when set (TlsContext::CreateClient): the server's certificate must name `host`.
  std::shared_ptr<TlsContext> tls;
  // Fault injection for tests: drops or delays what goes to this channel's address.
  std::shared_ptr<LinkFilter> filter;
};

}  // namespace rustorium::rpc
