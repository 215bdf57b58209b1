// PeerTransport over real loopback sockets: two stores, each with its own loop and server.
#include "region/raft/peer_transport.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"
#include "tests/support/raft_cluster.h"

namespace rustorium::raft {
namespace {

using namespace std::chrono_literals;
using testing::PickPort;
using testing::WaitFor;

struct Received {
  RaftMessage message;
  uint64_t from_id;
  std::string from_address;
};

// A store's transport with its own loop and server; records what it is handed.
class Node {
 public:
  explicit Node(uint64_t id, std::size_t max_batch_bytes = 4 << 20) : id_(id), port_(PickPort()) {
    rpc::ServerOptions so;
    so.port = port_;
    server_ = std::make_unique<rpc::RpcServer>(loop_, so);
    transport_ = std::make_unique<PeerTransport>(
        loop_, PeerTransportOptions{id_, address(), rpc::ChannelOptions{}, max_batch_bytes},
        &stats_);
    transport_->RegisterHandler(
        *server_, [this](const RaftMessage& m, uint64_t from_id, const std::string& from) {
          std::lock_guard<std::mutex> lock(mu_);
          received_.push_back({m, from_id, from});
          return accept_;
        });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Node() {
    server_.reset();
    transport_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  rpc::EventLoop& loop() { return loop_; }
  PeerTransport& transport() { return *transport_; }
  const MultiRaftStats& stats() const { return stats_; }
  void set_accept(bool accept) {
    std::lock_guard<std::mutex> lock(mu_);
    accept_ = accept;
  }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  uint64_t id_;
  int port_;
  rpc::EventLoop loop_;
  MultiRaftStats stats_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<PeerTransport> transport_;
  std::mutex mu_;
  std::vector<Received> received_;
  bool accept_ = true;
};

RaftMessage Vote(GroupId group, uint64_t to, uint64_t term) {
  RaftMessage m;
  m.set_group_id(group);
  m.set_to_id(to);
  m.mutable_request_vote()->set_term(term);
  m.mutable_request_vote()->set_candidate_id(1);
  return m;
}

TEST(PeerTransport, MessagesOfOneTurnToOnePeerTravelAsOneBatch) {
  Node one(1), two(2);
  one.loop().RunSync([&] {
    for (GroupId g = 1; g <= 3; ++g) one.transport().Queue(two.address(), Vote(g, 2, 10 + g));
    one.transport().Flush();
  });
  ASSERT_TRUE(WaitFor([&] { return two.received().size() == 3; }, 10s));
  const auto got = two.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].message.group_id(), i + 1) << "in the order queued";
    EXPECT_EQ(got[i].message.request_vote().term(), 11 + i);
    EXPECT_EQ(got[i].from_id, 1u);
    EXPECT_EQ(got[i].from_address, one.address());
  }
  EXPECT_EQ(one.stats().messages_sent.load(), 3u);
  EXPECT_EQ(one.stats().batches_sent.load(), 1u);
  EXPECT_EQ(two.stats().messages_received.load(), 3u);
  EXPECT_EQ(two.stats().messages_dropped.load(), 0u);

  // Nothing queued: a flush sends nothing.
  one.loop().RunSync([&] { one.transport().Flush(); });
  EXPECT_EQ(one.stats().batches_sent.load(), 1u);
  // One channel per peer, reused.
  one.loop().RunSync([&] {
    EXPECT_EQ(one.transport().ChannelTo(two.address()), one.transport().ChannelTo(two.address()));
  });
}

// One turn's messages to a peer once went as one batch whatever their size: beyond a frame
// they were never delivered. Now they go in batches of max_batch_bytes (a larger message alone).
TEST(PeerTransport, ATurnsMessagesAreSplitIntoBatchesBySize) {
  Node one(1, 10000), two(2);
  auto big = [](GroupId g) {
    RaftMessage m = Vote(g, 2, 1);
    m.mutable_append_entries()->set_term(1);
    m.mutable_append_entries()->add_entries()->set_data(std::string(g == 4 ? 30000 : 3000, 'x'));
    return m;
  };
  one.loop().RunSync([&] {
    for (GroupId g = 1; g <= 8; ++g) one.transport().Queue(two.address(), big(g));
    one.transport().Flush();
  });
  ASSERT_TRUE(WaitFor([&] { return two.received().size() == 8; }, 10s));
  const auto got = two.received();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].message.group_id(), i + 1);
  // 3 + (the 30 KB one alone) + 3 + 1: four batches at least, each within the limit but one.
  EXPECT_GE(one.stats().batches_sent.load(), 4u);
  EXPECT_LE(one.stats().batches_sent.load(), 5u);
  EXPECT_EQ(one.stats().messages_sent.load(), 8u);
}

TEST(PeerTransport, MisaddressedRefusedAndMalformedMessagesAreDroppedAndCounted) {
  Node one(1), two(2);
  one.loop().RunSync([&] {
    one.transport().Queue(two.address(), Vote(1, 2, 5));
    one.transport().Queue(two.address(), Vote(1, 99, 5));  // for another server id
    one.transport().Flush();
  });
  ASSERT_TRUE(WaitFor([&] { return two.stats().messages_received.load() == 2; }, 10s));
  EXPECT_EQ(two.received().size(), 1u) << "the misaddressed message never reaches deliver";
  EXPECT_EQ(two.stats().messages_dropped.load(), 1u);

  // The deliver callback refuses: dropped.
  two.set_accept(false);
  one.loop().RunSync([&] {
    one.transport().Queue(two.address(), Vote(2, 2, 6));
    one.transport().Flush();
  });
  ASSERT_TRUE(WaitFor([&] { return two.stats().messages_dropped.load() == 2; }, 10s));

  // A batch that does not parse, and one without a sender: dropped whole.
  rpc::EventLoop loop;
  const rpc::HostPort hp = *rpc::ParseAddress(two.address());
  auto channel = std::make_unique<rpc::RpcChannel>(loop, hp.host, hp.port);
  channel->Send("raft.Batch", std::string("\xff\xff\xff", 3));
  RaftBatch anonymous;
  *anonymous.add_messages() = Vote(3, 2, 7);
  channel->Send("raft.Batch", anonymous.SerializeAsString());
  ASSERT_TRUE(WaitFor([&] { return two.stats().messages_dropped.load() == 4; }, 10s))
      << two.stats().messages_dropped.load();
  EXPECT_EQ(two.stats().messages_received.load(), 3u);
  channel.reset();
}

TEST(PeerTransport, AnAddressThatDoesNotParseDropsItsMessages) {
  Node one(1);
  one.loop().RunSync([&] {
    EXPECT_EQ(one.transport().ChannelTo("not-an-address"), nullptr);
    one.transport().Queue("not-an-address", Vote(1, 2, 5));
    one.transport().Queue("not-an-address", Vote(2, 2, 5));
    one.transport().Flush();
  });
  EXPECT_EQ(one.stats().messages_dropped.load(), 2u);
  EXPECT_EQ(one.stats().messages_sent.load(), 0u);
  EXPECT_EQ(one.stats().batches_sent.load(), 0u);
}

}  // namespace
}  // namespace rustorium::raft
