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
  // not grow our memory without bound).
  std::size_t max_queued_bytes = 64 << 20;
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
