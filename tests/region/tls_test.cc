// RPC over TLS 1.3 with the cluster's certificates: mutual authentication works with the
// right CA and is refused with a wrong one, without a client certificate, or in plain TCP.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/rpc/server.h"
#include "tests/test_util.h"

namespace rustorium::rpc {
namespace {

using rustorium::testing::TempDir;
using std::chrono::milliseconds;

class TlsRpc : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterCertsOptions a;
    a.dir = dir_.Sub("a");
    a.stores = 2;
    ASSERT_TRUE(CreateClusterCerts(a).ok());
    ClusterCertsOptions b = a;
    b.dir = dir_.Sub("b");
    ASSERT_TRUE(CreateClusterCerts(b).ok());
  }
  TlsOptions Node(const std::string& cluster, int i) {
    TlsOptions o;
    o.ca_file = dir_.Sub(cluster + "/ca.crt");
    o.cert_file = dir_.Sub(cluster + "/store-" + std::to_string(i) + ".crt");
    o.key_file = dir_.Sub(cluster + "/store-" + std::to_string(i) + ".key");
    return o;
  }
  std::unique_ptr<RpcServer> Serve(EventLoop& loop, TlsOptions tls,
                                   const std::string& host = "127.0.0.1") {
    auto ctx = TlsContext::CreateServer(tls);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    ServerOptions o;
    o.host = host;
    o.tls = *ctx;
    auto server = std::make_unique<RpcServer>(loop, o);
    server->Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
      respond(std::string(req.payload()));
    });
    EXPECT_TRUE(server->Start().ok());
    return server;
  }
  Result<std::string> Echo(EventLoop& loop, int port, const std::optional<TlsOptions>& tls,
                           const std::string& host = "127.0.0.1") {
    ChannelOptions o;
    if (tls.has_value()) {
      auto ctx = TlsContext::CreateClient(*tls);
      if (!ctx.ok()) return ctx.status();
      o.tls = *ctx;
    }
    RpcChannel channel(loop, host, port, o);
    const auto start = std::chrono::steady_clock::now();
    auto r = channel.CallSync("echo", std::string(100000, 'z'), milliseconds(3000));
    // A refused handshake fails the call at once, not at its deadline.
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000))
        << "call to " << host << " with " << (tls ? tls->ca_file : "no TLS")
        << " hung: " << r.status().ToString();
    return r;
  }
  TempDir dir_;
};

TEST_F(TlsRpc, MutualTlsBetweenNodesOfOneCluster) {
  EventLoop loop;
  TlsOptions server_tls = Node("a", 1);
  server_tls.require_client_cert = true;
  auto server = Serve(loop, server_tls);
  auto r = Echo(loop, server->port(), Node("a", 2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 100000u);
}

TEST_F(TlsRpc, WrongCaNoCertificateAndPlainTcpAreRefused) {
  EventLoop loop;
  TlsOptions server_tls = Node("a", 1);
  server_tls.require_client_cert = true;
  auto server = Serve(loop, server_tls);
  // A node of another cluster: its certificate is not signed by our CA, and it does not
  // trust ours either.
  EXPECT_FALSE(Echo(loop, server->port(), Node("b", 1)).ok());
  // Our CA but no client certificate, while the server demands one.
  TlsOptions anonymous;
  anonymous.ca_file = dir_.Sub("a/ca.crt");
  EXPECT_FALSE(Echo(loop, server->port(), anonymous).ok());
  // No TLS at all.
  EXPECT_FALSE(Echo(loop, server->port(), std::nullopt).ok());
  // The server is unharmed.
  EXPECT_TRUE(Echo(loop, server->port(), Node("a", 2)).ok());
}

TEST_F(TlsRpc, ServerAuthenticatedClientsAndNameChecks) {
  EventLoop loop;
  auto server = Serve(loop, Node("a", 1));  // clients need no certificate
  TlsOptions client;
  client.ca_file = dir_.Sub("a/ca.crt");
  EXPECT_TRUE(Echo(loop, server->port(), client).ok());
  // The certificates name 127.0.0.1 and localhost: a server on 127.0.0.2 with one is refused.
  auto elsewhere = Serve(loop, Node("a", 1), "127.0.0.2");
  auto refused = Echo(loop, elsewhere->port(), client, "127.0.0.2");
  EXPECT_NE(refused.status().message().find(
                "the peer's certificate does not name '127.0.0.2', the host dialled"),
            std::string::npos)
      << refused.status().ToString();
  // Dialled by name, the certificate must name it: localhost is in the default hosts.
  auto by_name = Echo(loop, server->port(), client, "localhost");
  EXPECT_TRUE(by_name.ok()) << by_name.status().ToString();

  // A client trusting another CA refuses our server.
  TlsOptions other;
  other.ca_file = dir_.Sub("b/ca.crt");
  EXPECT_FALSE(Echo(loop, server->port(), other).ok());
}

// Certificates made for 127.0.0.1 only (`certs create --host 127.0.0.1`): dialling the same
// server as localhost is refused, in one phrase that names the host.
TEST_F(TlsRpc, ACertificateWithoutTheDialledNameIsRefused) {
  ClusterCertsOptions c;
  c.dir = dir_.Sub("ip-only");
  c.stores = 1;
  c.hosts = {"127.0.0.1"};
  ASSERT_TRUE(CreateClusterCerts(c).ok());
  TlsOptions node;
  node.ca_file = c.dir + "/ca.crt";
  node.cert_file = c.dir + "/store-1.crt";
  node.key_file = c.dir + "/store-1.key";
  EventLoop loop;
  auto server = Serve(loop, node);
  TlsOptions client;
  client.ca_file = c.dir + "/ca.crt";
  EXPECT_TRUE(Echo(loop, server->port(), client).ok());
  auto r = Echo(loop, server->port(), client, "localhost");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "TLS handshake failed: the peer's certificate does not name 'localhost', the "
                "host dialled"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(r.status().message().find("error:"), std::string::npos)
      << "no OpenSSL error stack: " << r.status().ToString();
}

TlsOptions Cert(const std::string& dir, const std::string& name) {
  TlsOptions o;
  o.ca_file = dir + "/ca.crt";
  o.cert_file = dir + "/" + name + ".crt";
  o.key_file = dir + "/" + name + ".key";
  return o;
}

// The server hands each handler the identity of the peer's verified certificate, and refuses
// a method to a role it is not for: PermissionDenied, counted, the handler never run.
TEST_F(TlsRpc, HandlersSeeTheVerifiedIdentityAndMethodsAreOpenOnlyToTheirRoles) {
  EventLoop loop;
  TlsOptions server_tls = Node("a", 1);
  server_tls.require_client_cert = true;
  auto ctx = TlsContext::CreateServer(server_tls);
  ASSERT_TRUE(ctx.ok());
  ServerOptions so;
  so.tls = *ctx;
  RpcServer server(loop, so);
  std::atomic<int> ran{0};
  server.Handle("whoami",
                [&](const Envelope&, const PeerIdentity& peer, RpcServer::Responder respond) {
                  ++ran;
                  respond(peer.ToString());
                });
  server.Handle(
      "node.only",
      [&](const Envelope&, RpcServer::Responder respond) {
        ++ran;
        respond(std::string("ok"));
      },
      PeerRole::kStore | PeerRole::kPd);
  std::atomic<int> messages{0};
  server.OnMessage(
      "node.message", [&](const Envelope&) { ++messages; }, Roles(PeerRole::kStore));
  ASSERT_TRUE(server.Start().ok());
  const std::string a = dir_.Sub("a");
  ClusterCertsOptions more;
  more.dir = a;
  more.add_clients = {"alice"};
  ASSERT_TRUE(CreateClusterCerts(more).ok());

  auto call = [&](const TlsOptions& tls, const std::string& method) {
    ChannelOptions co;
    co.tls = *TlsContext::CreateClient(tls);
    RpcChannel channel(loop, "127.0.0.1", server.port(), co);
    channel.Send("node.message", "x");
    return channel.CallSync(method, "", milliseconds(3000));
  };
  EXPECT_EQ(*call(Cert(a, "store-2"), "whoami"), "store 2");
  EXPECT_EQ(*call(Cert(a, "pd-1"), "whoami"), "pd 1");
  EXPECT_EQ(*call(Cert(a, "client-alice"), "whoami"), "client alice");
  EXPECT_EQ(*call(Cert(a, "admin"), "whoami"), "admin admin");
  EXPECT_EQ(server.denied_calls("whoami"), 0u) << "whoami is open to every role";
  EXPECT_TRUE(call(Cert(a, "store-2"), "node.only").ok());
  const int before = ran.load();
  for (const char* user : {"client", "client-alice", "admin"}) {
    Result<std::string> r = call(Cert(a, user), "node.only");
    EXPECT_TRUE(r.status().IsPermissionDenied()) << user << ": " << r.status().ToString();
  }
  EXPECT_EQ(ran.load(), before) << "a refused call never reaches its handler";
  // Each call above first sent a one-way node.message on its connection (which arrives before
  // the call's answer): store-2's two arrived; pd-1's and the users' six were refused.
  EXPECT_EQ(server.denied_calls("node.only"), 3u);
  EXPECT_EQ(server.denied_calls("node.message"), 6u);
  EXPECT_EQ(server.denied_calls(), 9u);
  EXPECT_EQ(messages.load(), 2);
}

TEST_F(TlsRpc, BadFilesAreClearErrors) {
  TlsOptions o = Node("a", 1);
  o.key_file = dir_.Sub("a/store-2.key");  // another node's key
  EXPECT_TRUE(TlsContext::CreateServer(o).status().IsInvalidArgument());
  o = Node("a", 1);
  o.ca_file = dir_.Sub("missing.crt");
  EXPECT_TRUE(TlsContext::CreateServer(o).status().IsInvalidArgument());
  o = Node("a", 1);
  o.cert_file = "";
  EXPECT_TRUE(TlsContext::CreateServer(o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace rustorium::rpc
