// Four validators in one process, each on its own event loop and RPC server, talking over
// loopback TCP: what they commit is the same everywhere.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "chain/net/loop_env.h"
#include "chain/net/rpc_transport.h"
#include "chain/validator.h"
#include "tests/test_util.h"

namespace rustorium::chain {
namespace {

using rustorium::testing::TempDir;

class RecordingExecutor : public Executor {
 public:
  uint64_t LastExecutedIndex() const override { return last_; }
  void Execute(const ConsensusOutput& output) override {
    last_ = output.index;
    for (const std::string& tx : output.transactions) transactions_.push_back(tx);
    for (const Certificate& c : output.certificates) sequence_.push_back(c.ComputeDigest());
  }
  uint64_t last_ = 0;
  std::vector<std::string> transactions_;
  std::vector<Digest> sequence_;
};

struct Node {
  std::unique_ptr<rpc::EventLoop> loop = std::make_unique<rpc::EventLoop>();
  std::unique_ptr<rpc::RpcServer> server;
  std::unique_ptr<LoopEnv> env;
  std::unique_ptr<RpcTransport> transport;
  RecordingExecutor executor;
  std::unique_ptr<Validator> validator;
};

TEST(ChainNet, FourValidatorsOverLoopbackCommitTheSameSequence) {
  TempDir dir;
  constexpr size_t kValidators = 4;
  std::vector<Node> nodes(kValidators);
  std::vector<KeyPair> keys;
  std::vector<Authority> authorities;
  for (size_t i = 0; i < kValidators; ++i) {
    Node& n = nodes[i];
    n.loop->RunSync([&] {
      n.server = std::make_unique<rpc::RpcServer>(*n.loop, rpc::ServerOptions{});
      ServeValidator(*n.server, 0, [&n] { return n.validator.get(); });
      ASSERT_TRUE(n.server->Start().ok());
    });
    keys.push_back(KeyPair::Generate());
    Authority a;
    a.name = keys.back().public_key();
    a.primary_address = "127.0.0.1:" + std::to_string(n.server->port());
    a.worker_addresses = {a.primary_address};
    authorities.push_back(a);
  }
  auto committee = Committee::Create(authorities);
  ASSERT_TRUE(committee.ok());
  ValidatorOptions options;
  options.parameters.max_header_delay_ms = 100;
  options.parameters.max_batch_delay_ms = 20;
  options.parameters.retry_delay_ms = 500;
  for (size_t i = 0; i < kValidators; ++i) {
    Node& n = nodes[i];
    options.data_dir = dir.Sub("v" + std::to_string(i));
    n.loop->RunSync([&] {
      n.env = std::make_unique<LoopEnv>(*n.loop);
      n.transport = std::make_unique<RpcTransport>(*n.loop, *committee, rpc::ChannelOptions{},
                                                   AnswersTo([&n] { return n.validator.get(); }));
      auto v = Validator::Open(*committee, keys[i], options, n.env.get(), n.transport.get(),
                               &n.executor);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      n.validator = std::move(v).value();
    });
  }
  constexpr int kTransactions = 200;
  for (int t = 0; t < kTransactions; ++t) {
    Node& n = nodes[t % kValidators];
    n.loop->RunSync(
        [&] { ASSERT_TRUE(n.validator->SubmitTransaction(0, "tx-" + std::to_string(t)).ok()); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    all = true;
    for (Node& n : nodes) {
      size_t seen = 0;
      n.loop->RunSync([&] { seen = n.executor.transactions_.size(); });
      all = all && seen >= kTransactions;
    }
  }
  EXPECT_TRUE(all) << "every validator should execute every transaction within 60 s";
  std::vector<std::vector<Digest>> sequences(kValidators);
  std::vector<std::vector<std::string>> transactions(kValidators);
  for (size_t i = 0; i < kValidators; ++i) {
    nodes[i].loop->RunSync([&] {
      sequences[i] = nodes[i].executor.sequence_;
      transactions[i] = nodes[i].executor.transactions_;
    });
  }
  for (size_t i = 1; i < kValidators; ++i) {
    const size_t common = std::min(sequences[0].size(), sequences[i].size());
    EXPECT_TRUE(
        std::equal(sequences[0].begin(), sequences[0].begin() + common, sequences[i].begin()));
    const size_t common_tx = std::min(transactions[0].size(), transactions[i].size());
    EXPECT_TRUE(std::equal(transactions[0].begin(), transactions[0].begin() + common_tx,
                           transactions[i].begin()));
  }
  std::set<std::string> distinct(transactions[0].begin(), transactions[0].end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kTransactions));
  for (Node& n : nodes) {
    n.loop->RunSync([&] {
      n.validator.reset();
      n.transport.reset();
      n.env.reset();
      n.server.reset();
    });
  }
}

}  // namespace
}  // namespace rustorium::chain
