// The RPC library over real sockets on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "region/rpc/channel.h"
#include "region/rpc/connection.h"
#include "region/rpc/link_filter.h"
#include "region/rpc/server.h"
#include "tests/test_util.h"

namespace rustorium::rpc {
namespace {

using std::chrono::milliseconds;

// An echo server with a method that never answers and one that fails.
std::unique_ptr<RpcServer> StartServer(EventLoop& loop, int port = 0,
                                       std::size_t max_frame = 1 << 20) {
  ServerOptions o;
  o.port = port;
  o.limits.max_frame_bytes = max_frame;
  auto server = std::make_unique<RpcServer>(loop, o);
  server->Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  server->Handle("never", [](const Envelope&, RpcServer::Responder) {});
  server->Handle("fail", [](const Envelope&, RpcServer::Responder respond) {
    respond(Status::NotFound("no such key"));
  });
  Status s = server->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return server;
}

// RunAfter runs on the loop once its delay has passed, in order of their deadlines; Cancel
// drops one that has not run; a loop destroyed with one pending frees it without running it.
TEST(EventLoopTimers, RunAfterRunsOnceAndCancelDropsIt) {
  std::mutex mu;
  std::vector<int> ran;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> lock(mu);
    ran.push_back(i);
  };
  {
    EventLoop loop;
    const auto start = std::chrono::steady_clock::now();
    uint64_t cancelled = 0;
    loop.RunSync([&] {
      loop.RunAfter(milliseconds(60), [&] { record(2); });
      loop.RunAfter(milliseconds(20), [&] {
        EXPECT_TRUE(loop.InLoopThread());
        record(1);
      });
      cancelled = loop.RunAfter(milliseconds(40), [&] { record(99); });
      loop.RunAfter(milliseconds(10'000), [&] { record(100); });  // never reached
    });
    loop.RunSync([&] { loop.Cancel(cancelled); });
    const auto give_up = start + milliseconds(5000);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (ran.size() >= 2) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the timers did not run";
      std::this_thread::sleep_for(milliseconds(5));
    }
    EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(60));
    loop.RunSync([&] { loop.Cancel(cancelled); });  // twice: nothing
  }
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(Rpc, RoundTripsAndErrors) {
  EventLoop loop;
  auto server = StartServer(loop);
  RpcChannel channel(loop, "127.0.0.1", server->port());
  auto r = channel.CallSync("echo", "hello", milliseconds(2000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello");
  auto big = channel.CallSync("echo", std::string(500000, 'x'), milliseconds(5000));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->size(), 500000u);
  auto fail = channel.CallSync("fail", "", milliseconds(2000));
  EXPECT_TRUE(fail.status().IsNotFound()) << fail.status().ToString();
  EXPECT_EQ(fail.status().message(), "no such key");
  auto unknown = channel.CallSync("nope", "", milliseconds(2000));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotSupported) << unknown.status().ToString();
}

TEST(Rpc, ManyConcurrentCallsShareOneConnection) {
  EventLoop loop;
  auto server = StartServer(loop);
  RpcChannel channel(loop, "127.0.0.1", server->port());
  std::atomic<int> ok{0}, done{0};
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) {
    channel.Call("echo", std::to_string(i), milliseconds(10000), [&, i](Result<std::string> r) {
      if (r.ok() && *r == std::to_string(i)) ++ok;
      ++done;
    });
  }
  for (int spins = 0; done < kCalls && spins < 1000; ++spins) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(ok.load(), kCalls);
}

TEST(Rpc, DeadlineExpires) {
  EventLoop loop;
  auto server = StartServer(loop);
  RpcChannel channel(loop, "127.0.0.1", server->port());
  const auto start = std::chrono::steady_clock::now();
  auto r = channel.CallSync("never", "", milliseconds(100));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.status().code() == StatusCode::kTimedOut) << r.status().ToString();
  EXPECT_GE(waited, milliseconds(90));
  EXPECT_LT(waited, milliseconds(5000));
  // The channel still works afterwards.
  EXPECT_TRUE(channel.CallSync("echo", "x", milliseconds(2000)).ok());
}

TEST(Rpc, ReconnectsAfterTheServerRestarts) {
  EventLoop loop;
  auto server = StartServer(loop);
  const int port = server->port();
  RpcChannel channel(loop, "127.0.0.1", port);
  ASSERT_TRUE(channel.CallSync("echo", "before", milliseconds(2000)).ok());
  server.reset();
  // While the server is down calls fail (connection lost, refused or timed out), bounded.
  auto down = channel.CallSync("echo", "during", milliseconds(200));
  EXPECT_FALSE(down.ok());
  server = StartServer(loop, port);
  Result<std::string> after = Status::Internal("not tried");
  for (int i = 0; i < 50 && !after.ok(); ++i)
    after = channel.CallSync("echo", "after", milliseconds(500));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, "after");
}

TEST(Rpc, NoServerMeansBoundedFailure) {
  EventLoop loop;
  int port;
  {
    auto server = StartServer(loop);
    port = server->port();
  }
  RpcChannel channel(loop, "127.0.0.1", port);
  // Refused: the call fails at once (well before its deadline), saying it was never sent.
  const auto start = std::chrono::steady_clock::now();
  auto r = channel.CallSync("echo", "x", milliseconds(5000));
  EXPECT_TRUE(r.status().code() == StatusCode::kBusy) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not sent"), std::string::npos) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(Rpc, HostThatIsNotAnAddressFailsAtOnce) {
  EventLoop loop;
  RpcChannel channel(loop, "bad_name!", 1);
  auto r = channel.CallSync("echo", "x", milliseconds(5000));
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
}

TEST(Rpc, HostNamesResolveOffTheLoopWhenConnecting) {
  EventLoop loop;
  ServerOptions o;
  o.host = "localhost";  // resolved once at start: its first IPv4 address
  auto server = std::make_unique<RpcServer>(loop, o);
  server->Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  ASSERT_TRUE(server->Start().ok());
  RpcChannel by_name(loop, "localhost", server->port());
  auto r = by_name.CallSync("echo", "hello", milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello");
  // The server is on 127.0.0.1.
  RpcChannel by_address(loop, "127.0.0.1", server->port());
  EXPECT_TRUE(by_address.CallSync("echo", "x", milliseconds(5000)).ok());
  // Re-resolved when the connection is made again.
  const int port = server->port();
  server.reset();
  EXPECT_FALSE(by_name.CallSync("echo", "down", milliseconds(500)).ok());
  server = StartServer(loop, port);
  Result<std::string> after = Status::Internal("not tried");
  for (int i = 0; i < 50 && !after.ok(); ++i) {
    after = by_name.CallSync("echo", "after", milliseconds(500));
    if (!after.ok()) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(after.ok()) << after.status().ToString();

  // The reserved .invalid domain never resolves (RFC 6761): a connection failure like a
  // refused one (not sent, retried after the backoff), named, and quick.
  RpcChannel nowhere(loop, "nowhere.invalid", 2479);
  const auto start = std::chrono::steady_clock::now();
  auto lost = nowhere.CallSync("echo", "x", milliseconds(5000));
  EXPECT_EQ(lost.status().code(), StatusCode::kBusy) << lost.status().ToString();
  EXPECT_EQ(lost.status().message().rfind("not sent: cannot resolve 'nowhere.invalid': ", 0), 0u)
      << lost.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));

  // A channel destroyed while its name is being resolved: the late answer is dropped.
  {
    auto leaving = std::make_unique<RpcChannel>(loop, "localhost", port);
    std::promise<Status> aborted;
    leaving->Call("echo", "x", milliseconds(5000),
                  [&aborted](Result<std::string> r) { aborted.set_value(r.status()); });
    leaving.reset();
    const Status why = aborted.get_future().get();
    EXPECT_TRUE(why.ok() || why.code() == StatusCode::kAborted) << why.ToString();
  }

  // A listen address that does not resolve is refused at start.
  ServerOptions unresolvable;
  unresolvable.host = "nowhere.invalid";
  RpcServer no_server(loop, unresolvable);
  Status s = no_server.Start();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("cannot resolve 'nowhere.invalid'"), std::string::npos)
      << s.ToString();
}

// A raw socket sending bytes the server must refuse.
int RawConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed `fd` within about two seconds.
bool ClosedByPeer(int fd) {
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

TEST(Rpc, OversizedAndGarbageFramesCloseOnlyTheirConnection) {
  EventLoop loop;
  auto server = StartServer(loop, 0, /*max_frame=*/1024);
  RpcChannel channel(loop, "127.0.0.1", server->port());
  ASSERT_TRUE(channel.CallSync("echo", "x", milliseconds(2000)).ok());

  int oversized = RawConnect(server->port());
  ASSERT_GE(oversized, 0);
  const char header[4] = {0x7f, 0, 0, 0};  // announces ~2 GiB
  ASSERT_EQ(::send(oversized, header, 4, 0), 4);
  EXPECT_TRUE(ClosedByPeer(oversized));
  ::close(oversized);

  int garbage = RawConnect(server->port());
  ASSERT_GE(garbage, 0);
  const char junk[] = "\x00\x00\x00\x05\xff\xff\xff\xff\xff";
  ASSERT_EQ(::send(garbage, junk, 9, 0), 9);
  EXPECT_TRUE(ClosedByPeer(garbage));
  ::close(garbage);

  // A client that connects and says nothing does not block anyone.
  int silent = RawConnect(server->port());
  ASSERT_GE(silent, 0);
  auto r = channel.CallSync("echo", "still serving", milliseconds(2000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "still serving");
  ::close(silent);
  EXPECT_EQ(server->refused_connections(), 2u);
  // The client side refuses to send an oversized request.
  ChannelOptions small;
  small.limits.max_frame_bytes = 1024;
  RpcChannel limited(loop, "127.0.0.1", server->port(), small);
  EXPECT_TRUE(limited.CallSync("echo", std::string(4096, 'x'), milliseconds(2000))
                  .status()
                  .IsInvalidArgument());
}

TEST(Rpc, SlowLorisPeersAreClosed) {
  EventLoop loop;
  ServerOptions o;
  o.frame_timeout = milliseconds(200);
  RpcServer server(loop, o);
  server.Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  ASSERT_TRUE(server.Start().ok());
  int loris = RawConnect(server.port());
  ASSERT_GE(loris, 0);
  ASSERT_EQ(::send(loris, "\x00\x00", 2, 0), 2);  // half a header, then nothing
  EXPECT_TRUE(ClosedByPeer(loris));
  ::close(loris);
  EXPECT_EQ(server.timed_out_connections(), 1u);
  RpcChannel channel(loop, "127.0.0.1", server.port());
  EXPECT_TRUE(channel.CallSync("echo", "fine", milliseconds(2000)).ok());
}

TEST(Rpc, FullWriteQueuesMakeTheServerBusy) {
  EventLoop loop;
  ServerOptions o;
  // Sweeps (which recount the queued bytes) every 250 ms; not shorter, or the hog's own
  // half-sent frame times out when this thread is preempted on a loaded machine (seen in CI:
  // the hog's send failed).
  o.frame_timeout = milliseconds(1000);
  o.max_total_queued_bytes = 4 << 20;
  RpcServer server(loop, o);
  server.Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  ASSERT_TRUE(server.Start().ok());
  // A peer that asks for 24 MiB of answers and never reads them.
  int hog = RawConnect(server.port());
  ASSERT_GE(hog, 0);
  Envelope big;
  big.set_kind(REQUEST);
  big.set_method("echo");
  big.set_payload(std::string(1 << 20, 'h'));
  std::string frames;
  for (int i = 0; i < 24; ++i) {
    big.set_id(i + 1);
    ASSERT_TRUE(AppendFrame(big, frames).ok());
  }
  for (std::size_t at = 0; at < frames.size();) {
    const ssize_t n = ::send(hog, frames.data() + at, frames.size() - at, 0);
    ASSERT_GT(n, 0);
    at += static_cast<std::size_t>(n);
  }
  RpcChannel channel(loop, "127.0.0.1", server.port());
  Result<std::string> r = std::string();
  for (int i = 0; i < 100 && r.ok(); ++i) {
    r = channel.CallSync("echo", "x", milliseconds(2000));
    if (r.ok()) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(r.status().code(), StatusCode::kBusy) << r.status().ToString();
  ::close(hog);  // the queue drains (its connection closes) and service resumes
  Result<std::string> later = Status::Internal("not tried");
  for (int i = 0; i < 100 && !later.ok(); ++i) {
    later = channel.CallSync("echo", "again", milliseconds(2000));
    if (!later.ok()) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

TEST(Rpc, ServerStreamsDeliverItemsInOrderThenTheirStatus) {
  EventLoop loop;
  RpcServer server(loop, ServerOptions{});
  server.HandleStream("count", [](const Envelope& req, std::shared_ptr<RpcServer::StreamWriter> w) {
    const int n = std::stoi(req.payload());
    // Produced from another thread, as a scan would.
    std::thread([w, n] {
      for (int i = 0; i < n; ++i) w->Write(std::to_string(i));
      w->Finish(n > 100 ? Status::InvalidArgument("too many") : Status::OK());
    }).detach();
  });
  ASSERT_TRUE(server.Start().ok());
  RpcChannel channel(loop, "127.0.0.1", server.port());
  auto collect = [&](int n, std::vector<std::string>& items) {
    std::promise<Status> end;
    channel.CallStream(
        "count", std::to_string(n), milliseconds(5000),
        [&items](std::string item) { items.push_back(std::move(item)); },
        [&end](Status s) { end.set_value(std::move(s)); });
    return end.get_future().get();
  };
  std::vector<std::string> items;
  Status s = collect(50, items);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(items.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(items[i], std::to_string(i));
  std::vector<std::string> more;
  s = collect(150, more);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(more.size(), 150u);
}

// An answer larger than a frame was once dropped in silence: the caller waited for its deadline.
TEST(Rpc, AnAnswerTooLargeForAFrameBecomesAnErrorAnswer) {
  EventLoop loop;
  ServerOptions o;
  o.limits.max_frame_bytes = 1 << 20;
  RpcServer server(loop, o);
  server.Handle("grow", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(std::stoul(req.payload()), 'x'));
  });
  server.HandleStream("grow-stream",
                      [](const Envelope& req, std::shared_ptr<RpcServer::StreamWriter> w) {
                        w->Write("small");
                        w->Write(std::string(std::stoul(req.payload()), 'x'));
                        w->Finish(Status::OK());
                      });
  ASSERT_TRUE(server.Start().ok());
  RpcChannel channel(loop, "127.0.0.1", server.port());
  auto fits = channel.CallSync("grow", std::to_string(1000), milliseconds(5000));
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  auto big = channel.CallSync("grow", std::to_string(2 << 20), milliseconds(20000));
  ASSERT_EQ(big.status().code(), StatusCode::kInvalidArgument) << big.status().ToString();
  EXPECT_NE(big.status().message().find("does not fit a frame"), std::string::npos);
  auto after = channel.CallSync("grow", std::to_string(10), milliseconds(5000));
  EXPECT_TRUE(after.ok()) << "the connection stays usable: " << after.status().ToString();

  std::vector<std::string> items;
  std::promise<Status> end;
  channel.CallStream(
      "grow-stream", std::to_string(2 << 20), milliseconds(20000),
      [&items](std::string item) { items.push_back(std::move(item)); },
      [&end](Status s) { end.set_value(std::move(s)); });
  const Status s = end.get_future().get();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], "small");
}

TEST(Rpc, FramesOfOneLoopTurnLeaveInOneWrite) {
  EventLoop loop;
  RpcServer server(loop, ServerOptions{});
  std::atomic<int> got{0};
  server.OnMessage("raft", [&](const Envelope&) { ++got; });
  ASSERT_TRUE(server.Start().ok());
  // A connection of our own, driven on the loop thread: 1,000 frames queued in one task.
  std::shared_ptr<Connection> conn;
  std::promise<int> connected;
  loop.RunSync([&] {
    conn = Connection::Create(loop, ConnectionLimits{});
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", server.port(), &addr);
    auto* req = new uv_connect_t;
    req->data = &connected;
    uv_tcp_connect(req, conn->tcp(), reinterpret_cast<const sockaddr*>(&addr),
                   [](uv_connect_t* r, int status) {
                     static_cast<std::promise<int>*>(r->data)->set_value(status);
                     delete r;
                   });
  });
  ASSERT_EQ(connected.get_future().get(), 0);
  uint64_t writes = 0;
  loop.RunSync([&] {
    conn->Start([](Connection&, Envelope&) {}, [](Connection&, const Status&) {});
    Envelope m;
    m.set_kind(ONE_WAY);
    m.set_method("raft");
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(conn->Send(m).ok());
  });
  for (int i = 0; i < 200 && got < 1000; ++i) std::this_thread::sleep_for(milliseconds(10));
  loop.RunSync([&] {
    writes = conn->writes();
    conn->Close(Status::Aborted("done"));
    conn.reset();
  });
  EXPECT_EQ(got.load(), 1000);
  EXPECT_EQ(writes, 1u) << "one loop turn, one write";
}

TEST(Rpc, OneWayMessagesArrive) {
  EventLoop loop;
  ServerOptions o;
  RpcServer server(loop, o);
  std::atomic<int> got{0};
  std::atomic<uint64_t> group{0};
  server.OnMessage("raft", [&](const Envelope& m) {
    group = m.group_id();
    ++got;
  });
  server.Handle("echo", [](const Envelope& req, RpcServer::Responder respond) {
    respond(std::string(req.payload()));
  });
  ASSERT_TRUE(server.Start().ok());
  RpcChannel channel(loop, "127.0.0.1", server.port());
  ASSERT_TRUE(channel.CallSync("echo", "connect", milliseconds(2000)).ok());
  for (int i = 0; i < 10; ++i) channel.Send("raft", "msg", 42);
  // A request after them on the same connection: once it is answered they have arrived.
  ASSERT_TRUE(channel.CallSync("echo", "barrier", milliseconds(2000)).ok());
  EXPECT_EQ(got.load(), 10);
  EXPECT_EQ(group.load(), 42u);
}

TEST(LinkFilter, ParsesRulesAndNamesTheBadLine) {
  auto rules =
      LinkFilter::Parse("# partition\ndrop 127.0.0.1:20162\n\ndelay 127.0.0.1:20163 250\n");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_TRUE((*rules)["127.0.0.1:20162"].drop);
  EXPECT_EQ((*rules)["127.0.0.1:20163"].delay, milliseconds(250));
  for (const char* bad :
       {"drop", "drop nowhere", "delay 127.0.0.1:1", "delay 127.0.0.1:1 -5",
        "delay 127.0.0.1:1 9999999", "cut 127.0.0.1:1", "drop 127.0.0.1:1 extra"}) {
    auto r = LinkFilter::Parse(std::string("drop 127.0.0.1:2\n") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().ToString();
  }
}

TEST(LinkFilter, DroppedCallsTimeOutAndDelayedOnesArriveLateInOrder) {
  EventLoop loop;
  auto server = StartServer(loop);
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  ChannelOptions o;
  o.filter = std::make_shared<LinkFilter>();
  RpcChannel channel(loop, "127.0.0.1", server->port(), o);
  ASSERT_TRUE(channel.CallSync("echo", "open", milliseconds(2000)).ok());

  o.filter->Set({{address, LinkRule{true, milliseconds(0)}}});
  auto dropped = channel.CallSync("echo", "lost", milliseconds(300));
  EXPECT_EQ(dropped.status().code(), StatusCode::kTimedOut) << dropped.status().ToString();

  o.filter->Set({{address, LinkRule{false, milliseconds(200)}}});
  const auto start = std::chrono::steady_clock::now();
  std::mutex mu;
  std::vector<std::string> answers;
  std::promise<void> all;
  for (int i = 0; i < 3; ++i) {
    channel.Call("echo", std::to_string(i), milliseconds(5000), [&](Result<std::string> r) {
      std::lock_guard<std::mutex> lock(mu);
      answers.push_back(r.ok() ? *r : r.status().ToString());
      if (answers.size() == 3) all.set_value();
    });
  }
  all.get_future().wait();
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(190));
  EXPECT_EQ(answers, (std::vector<std::string>{"0", "1", "2"}));

  o.filter->Set({});
  EXPECT_TRUE(channel.CallSync("echo", "healed", milliseconds(2000)).ok());
}

TEST(LinkFilter, WatchesItsFile) {
  rustorium::testing::TempDir tmp;
  const std::string path = tmp.path().string() + "/links";
  LinkFilter filter;
  filter.Watch(path, milliseconds(10));
  EXPECT_FALSE(filter.For("127.0.0.1:7").drop);  // no file: no rules
  // Each version of the file replaces the last at once (written beside it, then renamed): a
  // file rewritten in place is empty for a moment, and the watcher may read that (no rules).
  auto write = [&](const std::string& text) {
    { std::ofstream(path + ".tmp") << text; }
    std::filesystem::rename(path + ".tmp", path);
  };
  write("drop 127.0.0.1:7\n");
  bool dropped = false;
  for (int i = 0; i < 200 && !dropped; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    dropped = filter.For("127.0.0.1:7").drop;
  }
  EXPECT_TRUE(dropped);
  write("nonsense\n");  // refused: the rules stay
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(filter.For("127.0.0.1:7").drop);
  write("");
  for (int i = 0; i < 200 && dropped; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    dropped = filter.For("127.0.0.1:7").drop;
  }
  EXPECT_FALSE(dropped);
}

}  // namespace
}  // namespace rustorium::rpc
