// SnapshotTransfers between two stores over real loopback sockets, with TestStateMachine data
// in real engines.
#include "region/raft/snapshot_transfers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "region/raft/peer_transport.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"
#include "tests/engine_util.h"
#include "tests/support/raft_cluster.h"
#include "tests/support/test_state_machine.h"
#include "tests/test_util.h"

namespace rustorium::raft {
namespace {

using namespace std::chrono_literals;
using rustorium::testing::TempDir;
using testing::PickPort;
using testing::TestStateMachine;
using testing::WaitFor;

// One store: loop, engine, server, transport and transfers, hosting TestStateMachine groups.
class Side {
 public:
  Side(uint64_t id, const TempDir& dir, SnapshotTransferOptions options)
      : id_(id), port_(PickPort()) {
    engine_ = rustorium::testing::OpenScratchEngine(dir.Sub("store" + std::to_string(id)));
    rpc::ServerOptions so;
    so.port = port_;
    server_ = std::make_unique<rpc::RpcServer>(loop_, so);
    transport_ = std::make_unique<PeerTransport>(
        loop_, PeerTransportOptions{id_, address(), rpc::ChannelOptions{}}, &stats_);
    options.store_id = id_;
    SnapshotTransfers::Hooks hooks;
    hooks.machine = [this](GroupId g) -> StateMachine* {
      auto it = machines_.find(g);
      return it == machines_.end() ? nullptr : it->second.get();
    };
    hooks.send_install = [this](const std::string& address, RaftMessage install) {
      std::lock_guard<std::mutex> lock(mu_);
      installs_.emplace_back(address, std::move(install));
    };
    transfers_ = std::make_unique<SnapshotTransfers>(loop_, options, &stats_, transport_.get(),
                                                     std::move(hooks));
    transfers_->RegisterHandler(*server_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Side() {
    server_.reset();
    transfers_.reset();
    loop_.RunSync([] {});
    transport_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  rpc::EventLoop& loop() { return loop_; }
  SnapshotTransfers& transfers() { return *transfers_; }
  const MultiRaftStats& stats() const { return stats_; }
  // A group's machine; add them before transfers start.
  TestStateMachine* AddMachine(GroupId g) {
    auto sm = std::make_unique<TestStateMachine>(engine_.get(), g);
    TestStateMachine* raw = sm.get();
    loop_.RunSync([&] { machines_[g] = std::move(sm); });
    return raw;
  }
  std::vector<std::pair<std::string, RaftMessage>> installs() {
    std::lock_guard<std::mutex> lock(mu_);
    return installs_;
  }
  // Runs `fn` on the loop thread and waits.
  template <typename Fn>
  auto Sync(Fn fn) -> decltype(fn()) {
    if constexpr (std::is_void_v<decltype(fn())>) {
      loop_.RunSync(fn);
    } else {
      std::optional<decltype(fn())> out;
      loop_.RunSync([&] { out.emplace(fn()); });
      return std::move(*out);
    }
  }

 private:
  uint64_t id_;
  int port_;
  std::unique_ptr<engine::Engine> engine_;
  rpc::EventLoop loop_;
  MultiRaftStats stats_;
  std::map<GroupId, std::unique_ptr<TestStateMachine>> machines_;  // loop thread
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<SnapshotTransfers> transfers_;
  std::mutex mu_;
  std::vector<std::pair<std::string, RaftMessage>> installs_;
};

RaftMessage InstallMessage(GroupId group, uint64_t to, uint64_t term) {
  RaftMessage m;
  m.set_group_id(group);
  m.set_to_id(to);
  m.mutable_install_snapshot()->set_term(term);
  return m;
}

void Fill(TestStateMachine* sm, int n, std::size_t value_bytes = 8) {
  for (int i = 1; i <= n; ++i) {
    ASSERT_TRUE(sm->Apply(static_cast<uint64_t>(i),
                          "key" + std::to_string(i) + "=" + std::string(value_bytes, 'v'))
                    .ok());
  }
}

// Starts streaming group `g` of `from` to `to`; returns the transfer id.
uint64_t StartSending(Side& from, TestStateMachine* sm, Side& to, GroupId g) {
  return from.Sync([&] {
    auto reader = sm->OpenSnapshot();
    EXPECT_TRUE(reader.ok());
    return from.transfers().Send(g, to.address(), std::move(*reader), InstallMessage(g, 2, 3));
  });
}

TEST(SnapshotTransfers, ChunksArriveInOrderThenTheInstallMessageIsHandedOver) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.chunk_bytes = 64;  // many chunks
  Side one(1, dir, o), two(2, dir, o);
  TestStateMachine* src = one.AddMachine(5);
  TestStateMachine* dst = two.AddMachine(5);
  Fill(src, 20);

  EXPECT_FALSE(one.Sync([&] { return one.transfers().Sending(5, two.address()); }));
  // Checked in the same loop turn as the send: a later turn may find the transfer done.
  const auto [id, sending] = one.Sync([&] {
    const uint64_t started = StartSending(one, src, two, 5);
    return std::make_pair(started, one.transfers().Sending(5, two.address()));
  });
  EXPECT_TRUE(sending) << "one transfer per group and follower";
  ASSERT_TRUE(WaitFor([&] { return one.installs().size() == 1; }, 10s));
  const auto [address, install] = one.installs()[0];
  EXPECT_EQ(address, two.address());
  EXPECT_EQ(install.install_snapshot().transfer_id(), id);
  EXPECT_EQ(install.install_snapshot().term(), 3u);
  EXPECT_EQ(one.Sync([&] { return one.transfers().outgoing(); }), 0u);
  EXPECT_EQ(one.stats().snapshots_sent.load(), 1u);
  EXPECT_GT(one.stats().snapshot_bytes_sent.load(), 4u * 64);

  // The message arrives: the data is installed first, once.
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 1u);
  EXPECT_FALSE(two.Sync([&] { return two.transfers().Install(6, 1, id, *dst); }))
      << "the transfer is for group 5";
  EXPECT_TRUE(two.Sync([&] { return two.transfers().Install(5, 1, id, *dst); }));
  EXPECT_FALSE(two.Sync([&] { return two.transfers().Install(5, 1, id, *dst); }));
  EXPECT_EQ(two.stats().snapshots_installed.load(), 1u);
  EXPECT_EQ(dst->AppliedIndex(), 20u);
  EXPECT_EQ(dst->digest(), src->digest());
  EXPECT_EQ(dst->Value("key17"), "vvvvvvvv");
}

TEST(SnapshotTransfers, OutgoingChunksShareTheStoreWideBandwidth) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.chunk_bytes = 512;
  o.bytes_per_second = 8 << 10;
  Side one(1, dir, o), two(2, dir, o);
  TestStateMachine* a = one.AddMachine(1);
  TestStateMachine* b = one.AddMachine(2);
  two.AddMachine(1);
  two.AddMachine(2);
  Fill(a, 50, 100);
  Fill(b, 50, 100);
  const auto start = std::chrono::steady_clock::now();
  StartSending(one, a, two, 1);
  StartSending(one, b, two, 2);
  ASSERT_TRUE(WaitFor([&] { return one.installs().size() == 2; }, 30s));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t sent = one.stats().snapshot_bytes_sent.load();
  EXPECT_GT(sent, 8u << 10);
  // Both transfers together keep to the one limit (the first chunk goes at once).
  EXPECT_GE(took, static_cast<double>(sent - 2 * 1024) / (8 << 10) * 0.9)
      << sent << " bytes in " << took << " s";
}

// Issue 18: a store started every snapshot libraft asked for, each holding an engine snapshot
// open. At most max_outgoing run at once; one more is deferred (libraft asks again).
TEST(SnapshotTransfers, OutgoingTransfersAreBounded) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.max_outgoing = 2;
  o.chunk_bytes = 64;
  o.bytes_per_second = 1024;  // slow enough that the first two still run
  Side one(1, dir, o), two(2, dir, o);
  std::vector<TestStateMachine*> src;
  for (GroupId g = 1; g <= 3; ++g) {
    src.push_back(one.AddMachine(g));
    two.AddMachine(g);
    Fill(src.back(), 40);
  }
  EXPECT_NE(StartSending(one, src[0], two, 1), 0u);  // limit - 1
  EXPECT_NE(StartSending(one, src[1], two, 2), 0u);  // limit
  EXPECT_EQ(StartSending(one, src[2], two, 3), 0u);  // limit + 1
  EXPECT_EQ(one.stats().snapshots_deferred.load(), 1u);
  EXPECT_EQ(one.Sync([&] { return one.transfers().outgoing(); }), 2u);
  EXPECT_FALSE(one.Sync([&] { return one.transfers().Sending(3, two.address()); }));
}

// The chunk handler's answers, as a leader's channel sees them.
class RawSender {
 public:
  explicit RawSender(const std::string& address) {
    const rpc::HostPort hp = *rpc::ParseAddress(address);
    channel_ = std::make_unique<rpc::RpcChannel>(loop_, hp.host, hp.port);
  }
  ~RawSender() { channel_.reset(); }
  Status Chunk(GroupId g, uint64_t from, uint64_t transfer, uint64_t seq, bool last = false,
               uint64_t applied_index = 0) {
    SnapshotChunk c;
    c.set_group_id(g);
    c.set_from_id(from);
    c.set_transfer_id(transfer);
    c.set_seq(seq);
    c.set_last(last);
    c.set_applied_index(applied_index);
    return Raw(c.SerializeAsString());
  }
  Status Raw(std::string payload) {
    return channel_->CallSync("raft.SnapshotChunk", std::move(payload), 10s).status();
  }

 private:
  rpc::EventLoop loop_;
  std::unique_ptr<rpc::RpcChannel> channel_;
};

TEST(SnapshotTransfers, BadUnknownOutOfOrderAndTooManyIncomingChunksAreRefused) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.max_incoming = 1;
  Side two(2, dir, o);
  two.AddMachine(1);
  two.AddMachine(2);
  RawSender leader(two.address());
  EXPECT_EQ(leader.Raw("\xff\xff\xff").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(leader.Chunk(1, 0, 1, 0).code(), StatusCode::kInvalidArgument) << "no sender";
  EXPECT_EQ(leader.Chunk(9, 7, 1, 0).code(), StatusCode::kNotFound) << "no such group";
  EXPECT_TRUE(leader.Chunk(1, 7, 1, 0).ok());
  EXPECT_EQ(leader.Chunk(2, 8, 1, 0).code(), StatusCode::kBusy) << "one at a time";
  EXPECT_EQ(leader.Chunk(1, 7, 1, 5).code(), StatusCode::kAborted) << "out of order";
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 0u)
      << "a transfer out of order is dropped";
  EXPECT_TRUE(leader.Chunk(2, 8, 1, 0).ok()) << "room again";
  // A new transfer from the same sender for the same group replaces the old one.
  EXPECT_TRUE(leader.Chunk(2, 8, 2, 0).ok());
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 1u);
  EXPECT_EQ(leader.Chunk(2, 8, 1, 1).code(), StatusCode::kAborted) << "the old one is gone";
}

TEST(SnapshotTransfers, IncompleteTransfersAreNotInstalledAndIdleOnesAreSwept) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.incoming_timeout = 100ms;
  Side two(2, dir, o);
  TestStateMachine* sm = two.AddMachine(1);
  RawSender leader(two.address());
  ASSERT_TRUE(leader.Chunk(1, 7, 4, 0).ok());
  EXPECT_FALSE(two.Sync([&] { return two.transfers().Install(1, 7, 4, *sm); }))
      << "the last chunk has not arrived";
  two.Sync([&] { two.transfers().Sweep(); });
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 1u) << "not idle yet";
  std::this_thread::sleep_for(300ms);
  two.Sync([&] { two.transfers().Sweep(); });
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 0u);
}

TEST(SnapshotTransfers, AStateMachineAheadOfTheDataKeepsItsOwn) {
  TempDir dir;
  Side two(2, dir, SnapshotTransferOptions{});
  TestStateMachine* sm = two.AddMachine(1);
  Fill(sm, 5);
  const uint64_t digest = sm->digest();
  RawSender leader(two.address());
  ASSERT_TRUE(leader.Chunk(1, 7, 4, 0, /*last=*/true, /*applied_index=*/3).ok());
  EXPECT_TRUE(two.Sync([&] { return two.transfers().Install(1, 7, 4, *sm); }))
      << "the message may go on to Raft";
  EXPECT_EQ(sm->AppliedIndex(), 5u);
  EXPECT_EQ(sm->digest(), digest);
  EXPECT_EQ(two.stats().snapshots_installed.load(), 0u);
  EXPECT_EQ(two.Sync([&] { return two.transfers().incoming(); }), 0u);
}

TEST(SnapshotTransfers, ClosingAGroupEndsItsTransfersAndDestructionLeavesNothingBehind) {
  TempDir dir;
  SnapshotTransferOptions o;
  o.chunk_bytes = 64;
  o.bytes_per_second = 64;  // one chunk a second: the rest waits on the bandwidth clock
  Side one(1, dir, o), two(2, dir, o);
  TestStateMachine* a = one.AddMachine(1);
  TestStateMachine* b = one.AddMachine(2);
  two.AddMachine(1);
  two.AddMachine(2);
  Fill(a, 30);
  Fill(b, 30);
  StartSending(one, a, two, 1);
  StartSending(one, b, two, 2);
  EXPECT_EQ(one.Sync([&] { return one.transfers().outgoing(); }), 2u);
  one.Sync([&] { one.transfers().CancelGroup(1); });
  EXPECT_EQ(one.Sync([&] { return one.transfers().outgoing(); }), 1u);
  EXPECT_FALSE(one.Sync([&] { return one.transfers().Sending(1, two.address()); }));
  // Group 2's transfer is still waiting on its timer as the stores go away (ASan checks that
  // nothing leaks and no late answer touches freed memory).
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(one.installs().empty());
}

}  // namespace
}  // namespace rustorium::raft
