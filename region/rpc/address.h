// Server addresses as people write them ("host:port") and how they become socket addresses:
// an IPv4 address, an IPv6 address in brackets, or a DNS name that is resolved when used
// (docs/operations.md, "Addresses").
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct addrinfo;

namespace rustorium::rpc {

// Bytes a DNS name may have at most (RFC 1035, without the trailing dot).
inline constexpr std::size_t kMaxHostNameBytes = 253;

struct HostPort {
  std::string host;  // an IPv4 or IPv6 address (no brackets) or a DNS name
  int port = 0;      // 1..65535
};

// "host:port" -> host and port. The host is an IPv4 address ("127.0.0.1"), an IPv6 address in
// brackets ("[::1]") or a DNS name by RFC 1123 (dot-separated labels of 1..63 letters, digits
// and hyphens, no hyphen first or last, 253 bytes at most, the last label not all digits).
// InvalidArgument "address 'ADDRESS' is not host:port[: why]", the address quoted and bounded.
Result<HostPort> ParseAddress(const std::string& address);

// OK when `address` parses (ParseAddress); otherwise InvalidArgument whose message is
// "'ADDRESS' is not host:port[: why]", for callers to prefix with where it came from
// ("--pd 'x' is not host:port", "store.toml: store.pd[2]: 'x' is not host:port").
Status CheckAddress(const std::string& address);

// True for an IPv4 or IPv6 address literal (IPv6 without brackets).
bool IsIpLiteral(const std::string& host);

// True for a DNS name by the rules of ParseAddress (IP literals are not names).
bool IsHostName(std::string_view host);

// The socket addresses `host` stands for, at `port`: the literal itself, or what the name
// resolves to now (getaddrinfo, blocking: for start-up, never on an event loop). IOError
// "cannot resolve 'NAME': why" when the name does not resolve; InvalidArgument when `host` is
// neither a literal nor a name.
Result<std::vector<sockaddr_storage>> ResolveNow(const std::string& host, int port);

// The addresses of a getaddrinfo answer, in its order (the caller still frees `list`).
std::vector<sockaddr_storage> SocketAddresses(const addrinfo* list);

}  // namespace rustorium::rpc
