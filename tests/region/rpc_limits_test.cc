// The RPC server's limits at the door (issue 18), over real sockets on 127.0.0.1: the
// connection cap, the TLS handshake timeout, the idle timeout, and bytes before a TLS
// handshake counted against the connection's queue limit, each at its bound.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>
#include <thread>

#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/rpc/connection.h"
#include "region/rpc/server.h"
#include "region/rpc/uv_loop.h"
#include "tests/test_util.h"

namespace rustorium::rpc {
namespace {

using rustorium::testing::TempDir;
using std::chrono::milliseconds;

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int RawConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A listener that never accepts: the kernel completes TCP connections into its backlog and
// nobody ever answers (a peer that stalls every handshake). Its port goes to `port`.
int SilentListener(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

void SetReceiveTimeout(int fd, milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

// True when the server closed `fd` within `within` (reading and discarding what it sent).
bool ClosedByPeer(int fd, milliseconds within = milliseconds(5000)) {
  SetReceiveTimeout(fd, within);
  char buf[4096];
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false;  // timed out: still open
  }
  return false;
}

// True when `fd` is still open after `wait` with nothing from the server.
bool StillOpen(int fd, milliseconds wait = milliseconds(300)) {
  SetReceiveTimeout(fd, wait);
  char buf[64];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One echo call over a raw plain-TCP socket: true when the answer came back within 2 s.
bool RawEcho(int fd, uint64_t id) {
  Envelope request;
  request.set_id(id);
  request.set_kind(REQUEST);
  request.set_method("echo");
  request.set_payload("ping " + std::to_string(id));
  std::string frame;
  if (!AppendFrame(request, frame).ok() || !SendAll(fd, frame)) return false;
  SetReceiveTimeout(fd, milliseconds(2000));
  FrameDecoder decoder;
  char buf[4096];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    decoder.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
    Envelope answer;
    Result<bool> next = decoder.Next(answer);
    if (!next.ok()) return false;
    if (*next) return answer.id() == id && answer.payload() == request.payload();
  }
  return false;
}

std::unique_ptr<RpcServer> StartEcho(EventLoop& loop, ServerOptions o) {
  auto server = std::make_unique<RpcServer>(loop, std::move(o));
  server->Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  Status s = server->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return server;
}

// Polls `pred` every 10 ms for up to `timeout`.
bool WaitFor(const std::function<bool()>& pred, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

TEST(RpcLimits, ConnectionsOverMaxConnectionsAreClosedAtAccept) {
  EventLoop loop;
  ServerOptions o;
  o.max_connections = 3;
  auto server = StartEcho(loop, o);
  std::vector<int> fds;
  // cap - 1 and cap: served.
  for (int i = 0; i < 3; ++i) {
    fds.push_back(RawConnect(server->port()));
    ASSERT_GE(fds.back(), 0);
    EXPECT_TRUE(RawEcho(fds.back(), 10 + i)) << "connection " << i + 1;
    EXPECT_EQ(server->open_connections(), static_cast<std::size_t>(i + 1));
  }
  EXPECT_EQ(server->rejected_connections(), 0u);
  // cap + 1: accepted and closed at once, counted; the others keep being served.
  int over = RawConnect(server->port());
  ASSERT_GE(over, 0);
  EXPECT_TRUE(ClosedByPeer(over));
  ::close(over);
  EXPECT_EQ(server->rejected_connections(), 1u);
  EXPECT_EQ(server->open_connections(), 3u);
  for (std::size_t i = 0; i < fds.size(); ++i) EXPECT_TRUE(RawEcho(fds[i], 20 + i));
  // A slot that frees up is taken by the next peer.
  ::close(fds[0]);
  fds.erase(fds.begin());
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() == 2; }));
  fds.push_back(RawConnect(server->port()));
  ASSERT_GE(fds.back(), 0);
  EXPECT_TRUE(RawEcho(fds.back(), 30));
  EXPECT_EQ(server->rejected_connections(), 1u);
  for (int fd : fds) ::close(fd);
}

class TlsLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterCertsOptions a;
    a.dir = dir_.Sub("certs");
    a.stores = 2;
    ASSERT_TRUE(CreateClusterCerts(a).ok());
    TlsOptions t;
    t.ca_file = dir_.Sub("certs/ca.crt");
    t.cert_file = dir_.Sub("certs/store-1.crt");
    t.key_file = dir_.Sub("certs/store-1.key");
    t.require_client_cert = true;
    auto server = TlsContext::CreateServer(t);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_tls_ = *server;
    t.cert_file = dir_.Sub("certs/store-2.crt");
    t.key_file = dir_.Sub("certs/store-2.key");
    auto client = TlsContext::CreateClient(t);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_tls_ = *client;
  }
  TempDir dir_;
  std::shared_ptr<TlsContext> server_tls_;
  std::shared_ptr<TlsContext> client_tls_;
};

TEST_F(TlsLimits, APeerThatNeverFinishesTheHandshakeIsClosed) {
  EventLoop loop;
  ServerOptions o;
  o.tls = server_tls_;
  o.limits.handshake_timeout = milliseconds(300);
  auto server = StartEcho(loop, o);
  int silent = RawConnect(server->port());
  ASSERT_GE(silent, 0);
  EXPECT_TRUE(ClosedByPeer(silent));
  ::close(silent);
  // The socket closes before the server's close handler counts it.
  EXPECT_TRUE(WaitFor([&] { return server->handshake_timed_out_connections() == 1; }));
  EXPECT_EQ(server->open_connections(), 0u);
  // A real client finishes in time and keeps its connection past the handshake deadline.
  ChannelOptions co;
  co.tls = client_tls_;
  RpcChannel channel(loop, "127.0.0.1", server->port(), co);
  ASSERT_TRUE(channel.CallSync("echo", "a", milliseconds(3000)).ok());
  std::this_thread::sleep_for(milliseconds(700));
  ASSERT_TRUE(channel.CallSync("echo", "b", milliseconds(3000)).ok());
  EXPECT_EQ(server->handshake_timed_out_connections(), 1u);
  EXPECT_EQ(server->open_connections(), 1u);
}

TEST_F(TlsLimits, AChannelGivesUpOnAServerThatNeverAnswersTheHandshake) {
  int port = 0;
  int listener = SilentListener(port);
  ASSERT_GE(listener, 0);
  EventLoop loop;
  ChannelOptions co;
  co.tls = client_tls_;
  co.limits.handshake_timeout = milliseconds(300);
  RpcChannel channel(loop, "127.0.0.1", port, co);
  const auto start = std::chrono::steady_clock::now();
  auto r = channel.CallSync("echo", "x", milliseconds(20000));
  // Closed at the handshake deadline, not left until the call's own deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(10000));
  EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("handshake_timeout"), std::string::npos)
      << r.status().ToString();
  ::close(listener);
}

TEST(RpcLimits, IdleConnectionsAreClosed) {
  EventLoop loop;
  ServerOptions o;
  o.limits.idle_timeout = milliseconds(400);
  auto server = StartEcho(loop, o);
  int idle = RawConnect(server->port());
  int busy = RawConnect(server->port());
  ASSERT_GE(idle, 0);
  ASSERT_GE(busy, 0);
  ASSERT_TRUE(RawEcho(idle, 1));
  // A connection with a frame every 100 ms outlives several idle periods.
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(RawEcho(busy, 100 + i)) << i;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(ClosedByPeer(idle));
  ::close(idle);
  EXPECT_TRUE(WaitFor([&] { return server->idle_closed_connections() == 1; }));
  ::close(busy);
  // A channel whose connection went idle connects again on its next call.
  ChannelOptions co;
  co.limits.idle_timeout = milliseconds(0);  // only the server's timer
  RpcChannel channel(loop, "127.0.0.1", server->port(), co);
  ASSERT_TRUE(channel.CallSync("echo", "first", milliseconds(3000)).ok());
  ASSERT_TRUE(WaitFor([&] { return server->idle_closed_connections() == 2; }));
  auto again = channel.CallSync("echo", "again", milliseconds(3000));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, "again");
}

TEST(RpcLimits, AChannelClosesItsOwnIdleConnectionAndConnectsAgain) {
  EventLoop loop;
  ServerOptions o;
  o.limits.idle_timeout = milliseconds(0);  // only the channel's timer
  auto server = StartEcho(loop, o);
  ChannelOptions co;
  co.limits.idle_timeout = milliseconds(300);
  RpcChannel channel(loop, "127.0.0.1", server->port(), co);
  ASSERT_TRUE(channel.CallSync("echo", "first", milliseconds(3000)).ok());
  EXPECT_EQ(server->open_connections(), 1u);
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() == 0; }));
  EXPECT_EQ(server->idle_closed_connections(), 0u) << "the channel's side closed it";
  auto again = channel.CallSync("echo", "again", milliseconds(3000));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(server->open_connections(), 1u);
}

// A TLS record header announcing a 16 KiB handshake record whose body never completes:
// OpenSSL waits for the rest, so only our count can close the connection before the
// handshake deadline.
std::string OpenRecordHeader() { return std::string("\x16\x03\x01\x40\x00", 5); }

TEST_F(TlsLimits, BytesBeforeTheHandshakeCountAgainstTheQueueLimit) {
  EventLoop loop;
  ServerOptions o;
  o.tls = server_tls_;
  o.limits.max_queued_bytes = 4096;
  o.limits.handshake_timeout = milliseconds(60000);
  auto server = StartEcho(loop, o);
  int flood = RawConnect(server->port());
  ASSERT_GE(flood, 0);
  // limit - 1, then limit: still waiting for the handshake.
  ASSERT_TRUE(SendAll(flood, OpenRecordHeader() + std::string(4095 - 5, 'f')));
  EXPECT_TRUE(StillOpen(flood));
  ASSERT_TRUE(SendAll(flood, "f"));
  EXPECT_TRUE(StillOpen(flood));
  EXPECT_EQ(server->refused_connections(), 0u);
  // limit + 1: closed and counted.
  ASSERT_TRUE(SendAll(flood, "f"));
  EXPECT_TRUE(ClosedByPeer(flood));
  ::close(flood);
  EXPECT_TRUE(WaitFor([&] { return server->refused_connections() == 1; }));
  // A real client is unaffected.
  ChannelOptions co;
  co.tls = client_tls_;
  RpcChannel channel(loop, "127.0.0.1", server->port(), co);
  EXPECT_TRUE(channel.CallSync("echo", "fine", milliseconds(3000)).ok());
}

// Connects a TLS client Connection to a listener that never answers, then sends `frames`
// one-way envelopes of `frame_bytes` each (header included) while the handshake is pending.
// Returns each Send's status.
std::vector<Status> SendWhileHandshaking(EventLoop& loop, std::shared_ptr<TlsContext> tls, int port,
                                         std::size_t max_queued_bytes, std::size_t frame_bytes,
                                         int frames) {
  ConnectionLimits limits;
  limits.max_queued_bytes = max_queued_bytes;
  std::shared_ptr<Connection> c;
  auto connected = std::make_shared<std::promise<int>>();
  auto done = connected->get_future();
  loop.RunSync([&] {
    c = Connection::Create(loop, limits);
    c->EnableTls(*tls, "127.0.0.1");
    auto* req = new uv_connect_t;
    req->data = new std::shared_ptr<std::promise<int>>(connected);
    sockaddr_in addr = Loopback(port);
    const int rc = uv_tcp_connect(
        req, c->tcp(), reinterpret_cast<const sockaddr*>(&addr), [](uv_connect_t* r, int status) {
          auto* p = static_cast<std::shared_ptr<std::promise<int>>*>(r->data);
          (*p)->set_value(status);
          delete p;
          delete r;
        });
    EXPECT_EQ(rc, 0);
  });
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  loop.RunSync([&] { c->Start([](Connection&, Envelope&) {}, [](Connection&, const Status&) {}); });
  // The ClientHello leaves first (at the end of that turn, its write then completes).
  EXPECT_TRUE(WaitFor([&] {
    std::size_t queued = 1;
    loop.RunSync([&] { queued = c->queued_bytes(); });
    return queued == 0;
  }));
  Envelope e;
  e.set_kind(ONE_WAY);
  e.set_method("m");
  for (int i = 0; i < 4; ++i) {  // the payload's length prefix grows with it: settle
    std::string frame;
    EXPECT_TRUE(AppendFrame(e, frame).ok());
    const auto size = static_cast<std::ptrdiff_t>(e.payload().size()) +
                      static_cast<std::ptrdiff_t>(frame_bytes) -
                      static_cast<std::ptrdiff_t>(frame.size());
    e.set_payload(std::string(static_cast<std::size_t>(std::max<std::ptrdiff_t>(size, 0)), 'p'));
  }
  std::string frame;
  EXPECT_TRUE(AppendFrame(e, frame).ok());
  EXPECT_EQ(frame.size(), frame_bytes);
  std::vector<Status> out;
  loop.RunSync([&] {
    for (int i = 0; i < frames; ++i) out.push_back(c->Send(e));
    EXPECT_EQ(c->queued_bytes(),
              frame_bytes * static_cast<std::size_t>(std::count_if(
                                out.begin(), out.end(), [](const Status& s) { return s.ok(); })));
    c->Close(Status::Aborted("test done"));
    c.reset();
  });
  return out;
}

TEST_F(TlsLimits, FramesHeldForTheHandshakeCountAgainstTheQueueLimit) {
  int port = 0;
  int listener = SilentListener(port);
  ASSERT_GE(listener, 0);
  EventLoop loop;
  constexpr std::size_t kFrame = 1000;
  // Send refuses once what is queued is over the limit: with one frame queued, a second
  // frame goes at limit - 1 (no), limit and limit + 1 (yes); a third never does.
  std::vector<Status> below = SendWhileHandshaking(loop, client_tls_, port, kFrame - 1, kFrame, 3);
  ASSERT_EQ(below.size(), 3u);
  EXPECT_TRUE(below[0].ok());
  EXPECT_EQ(below[1].code(), StatusCode::kBusy) << below[1].ToString();
  EXPECT_EQ(below[2].code(), StatusCode::kBusy);
  for (std::size_t limit : {kFrame, kFrame + 1}) {
    std::vector<Status> at = SendWhileHandshaking(loop, client_tls_, port, limit, kFrame, 3);
    ASSERT_EQ(at.size(), 3u);
    EXPECT_TRUE(at[0].ok() && at[1].ok()) << limit;
    EXPECT_EQ(at[2].code(), StatusCode::kBusy) << limit << ": " << at[2].ToString();
  }
  ::close(listener);
}

}  // namespace
}  // namespace rustorium::rpc
