#include "region/rpc/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cctype>
#include <cstring>

#include "base/quote.h"

namespace rustorium::rpc {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Why `host` is not an address literal or a DNS name; empty when it is one.
std::string HostProblem(const std::string& host) {
  if (host.empty()) return "the host is empty";
  if (IsIpLiteral(host)) {
    if (host.find(':') != std::string::npos)
      return "an IPv6 address goes in brackets: [" + host.substr(0, kQuotedInputBytes) + "]:port";
    return "";
  }
  if (host.size() > kMaxHostNameBytes) {
    return "the host name has " + std::to_string(host.size()) + " bytes (at most " +
           std::to_string(kMaxHostNameBytes) + ")";
  }
  if (!IsHostName(host)) {
    return QuoteInput(host) +
           " is not an IPv4 address, [IPv6] address or host name (letters, digits, '-' and '.')";
  }
  return "";
}

}  // namespace

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostNameBytes) return false;
  std::string_view last;
  for (std::size_t begin = 0; begin <= host.size();) {
    std::size_t end = host.find('.', begin);
    if (end == std::string_view::npos) end = host.size();
    const std::string_view label = host.substr(begin, end - begin);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last = label;
    begin = end + 1;
  }
  // "1.2.3.999" is a mistyped IPv4 address, not a name.
  return !AllDigits(last);
}

Status CheckAddress(const std::string& address) {
  const auto bad = [&address](const std::string& why) {
    return Status::InvalidArgument(QuoteInput(address) + " is not host:port" +
                                   (why.empty() ? "" : ": " + why));
  };
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return bad("");
  const std::string port = address.substr(colon + 1);
  if (!AllDigits(port) || port.size() > 5 || std::stoi(port) == 0 || std::stoi(port) > 65535) {
    return bad("the port is not 1..65535");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) {
      return bad(QuoteInput(host) + " in brackets is not an IPv6 address");
    }
    return Status::OK();
  }
  const std::string why = HostProblem(host);
  return why.empty() ? Status::OK() : bad(why);
}

Result<HostPort> ParseAddress(const std::string& address) {
  if (Status s = CheckAddress(address); !s.ok()) {
    return Status::InvalidArgument("address " + s.message());
  }
  const auto colon = address.rfind(':');
  HostPort out{address.substr(0, colon), std::stoi(address.substr(colon + 1))};
  if (out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  return out;
}

std::vector<sockaddr_storage> SocketAddresses(const addrinfo* list) {
  std::vector<sockaddr_storage> out;
  for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
    if (a->ai_addr == nullptr || a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage s{};
    std::memcpy(&s, a->ai_addr, a->ai_addrlen);
    out.push_back(s);
  }
  return out;
}

Result<std::vector<sockaddr_storage>> ResolveNow(const std::string& host, int port) {
  if (!IsIpLiteral(host) && !IsHostName(host)) {
    return Status::InvalidArgument(QuoteInput(host) + " is not an IP address or host name");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    return Status::IOError("cannot resolve " + QuoteInput(host) + ": " + ::gai_strerror(rc));
  }
  std::vector<sockaddr_storage> out = SocketAddresses(found);
  ::freeaddrinfo(found);
  if (out.empty()) return Status::IOError("cannot resolve " + QuoteInput(host) + ": no address");
  return out;
}

}  // namespace rustorium::rpc
