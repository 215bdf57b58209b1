// Addresses as people write them: IP literals and host names parse, everything else is refused
// with a message that says what is wrong; listen and dial resolution are in rpc_test.cc.
#include "region/rpc/address.h"

#include <gtest/gtest.h>

namespace rustorium::rpc {
namespace {

TEST(Address, ParsesIpLiteralsAndHostNamesAndSaysWhatIsWrong) {
  auto ok = [](const std::string& a, const std::string& host, int port) {
    Result<HostPort> hp = ParseAddress(a);
    ASSERT_TRUE(hp.ok()) << a << ": " << hp.status().ToString();
    EXPECT_EQ(hp->host, host) << a;
    EXPECT_EQ(hp->port, port) << a;
  };
  ok("127.0.0.1:2479", "127.0.0.1", 2479);
  ok("[::1]:7", "::1", 7);
  ok("localhost:65535", "localhost", 65535);
  ok("pd-1.rustorium.example:1", "pd-1.rustorium.example", 1);
  ok("3com.example:80", "3com.example", 80);  // RFC 1123: a label may start with a digit
  const std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                              std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(longest.size(), kMaxHostNameBytes);
  ok(longest + ":1", longest, 1);

  auto bad = [](const std::string& a, const std::string& message) {
    Status s = CheckAddress(a);
    EXPECT_TRUE(s.IsInvalidArgument()) << a;
    EXPECT_EQ(s.message(), message) << a;
    EXPECT_TRUE(ParseAddress(a).status().IsInvalidArgument()) << a;
  };
  bad("nowhere", "'nowhere' is not host:port");
  bad(":2479", "':2479' is not host:port: the host is empty");
  bad("localhost:", "'localhost:' is not host:port");
  bad("localhost:0", "'localhost:0' is not host:port: the port is not 1..65535");
  bad("localhost:65536", "'localhost:65536' is not host:port: the port is not 1..65535");
  bad("localhost:99999999999999999999",
      "'localhost:99999999999999999999' is not host:port: "
      "the port is not 1..65535");
  bad("localhost:-1", "'localhost:-1' is not host:port: the port is not 1..65535");
  bad("bad_name!:1",
      "'bad_name!:1' is not host:port: 'bad_name!' is not an IPv4 address, "
      "[IPv6] address or host name (letters, digits, '-' and '.')");
  bad("-a.example:1",
      "'-a.example:1' is not host:port: '-a.example' is not an IPv4 address, "
      "[IPv6] address or host name (letters, digits, '-' and '.')");
  bad("a..example:1",
      "'a..example:1' is not host:port: 'a..example' is not an IPv4 address, "
      "[IPv6] address or host name (letters, digits, '-' and '.')");
  bad("127.0.0.256:1",
      "'127.0.0.256:1' is not host:port: '127.0.0.256' is not an IPv4 "
      "address, [IPv6] address or host name (letters, digits, '-' and '.')");
  bad(std::string(64, 'a') + ".example:1",
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u2026' (74 bytes) is not host:port: "
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u2026' (72 bytes) is not an IPv4 address, [IPv6] "
      "address or host name (letters, digits, '-' and '.')");
  bad("a" + longest + ":1", "'a" + longest.substr(0, 31) +
                                "\u2026' (256 bytes) is not host:port: the host name has 254 "
                                "bytes (at most 253)");
  bad("::1:2479", "'::1:2479' is not host:port: an IPv6 address goes in brackets: [::1]:port");
  bad("[nope]:1", "'[nope]:1' is not host:port: 'nope' in brackets is not an IPv6 address");
  EXPECT_TRUE(IsIpLiteral("10.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_FALSE(IsIpLiteral("localhost"));
  EXPECT_TRUE(IsHostName("localhost"));
  EXPECT_FALSE(IsHostName("10.0.0.1"));
}

}  // namespace
}  // namespace rustorium::rpc
