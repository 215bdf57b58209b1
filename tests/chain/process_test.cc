// Four validators as real processes (`rustorium chain node`) on loopback: the same committed
// sequence everywhere, liveness with f killed, recovery of a restarted validator, and no
// progress and no divergence with f + 1 killed, then recovery.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/codec.h"
#include "chain/narwhal/messages.h"
#include "chain/net/chain_node.h"
#include "chain/net/node_config.h"
#include "chain/net/rpc_transport.h"
#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/tls.h"
#include "tests/support/ports.h"
#include "tests/test_util.h"
#include "tools/rustorium/child_process.h"

namespace rustorium::chain {
namespace {

using rustorium::testing::TempDir;
using namespace std::chrono_literals;

// A certificate that no later one links (it formed after the others had moved on: a validator
// that starts late or falls behind joins their round) is never committed, and its author
// proposes its batches again only once garbage collection passes its round (Primary::
// GarbageCollect). So the wait for every transaction covers gc_depth rounds (about 100 ms
// each here) with room to spare on a loaded machine, and gc_depth still covers a validator's
// restart (a few seconds of rounds).
constexpr int kGcDepth = 150;
constexpr auto kCommitWait = 60s;

class Committee4 {
 public:
  // Mutual TLS between the validators (certificates in DIR/certs: v0..v3 and a client), or
  // plain TCP with plain = true.
  explicit Committee4(const TempDir& dir, bool plain = false)
      : dir_(dir.path().string()), plain_(plain) {
    std::vector<Authority> authorities;
    rpc::ClusterCertsOptions certs;
    certs.dir = dir_ + "/certs";
    certs.stores = 0;
    certs.pd_members = 0;
    for (int i = 0; i < 4; ++i) {
      const KeyPair key = KeyPair::Generate();
      Authority a;
      a.name = key.public_key();
      names_.push_back(a.name);
      a.primary_address = "127.0.0.1:" + std::to_string(rustorium::testing::PickPort());
      a.worker_addresses = {"127.0.0.1:" + std::to_string(rustorium::testing::PickPort())};
      primaries_.push_back(a.primary_address);
      workers_.push_back(a.worker_addresses[0]);
      authorities.push_back(a);
      const std::string n = std::to_string(i);
      certs.add_validators.emplace_back("v" + n, EncodeHex(AsBytes(a.name)));
      rustorium::testing::WriteFile(dir_ + "/v" + n + ".key", key.SeedHex() + "\n");
      const std::string transport =
          plain ? "[tls]\nplain = true\n"
                : "[tls]\nca_file = \"certs/ca.crt\"\ncert_file = \"certs/v" + n +
                      ".crt\"\nkey_file = \"certs/v" + n + ".key\"\n";
      rustorium::testing::WriteFile(
          dir_ + "/v" + n + ".toml",
          "key_file = \"v" + n + ".key\"\ncommittee = \"committee.toml\"\ndata_dir = \"v" + n +
              "\"\n" + transport +
              "[parameters]\nmax_header_delay_ms = 100\nmax_batch_delay_ms = 20\n"
              "retry_delay_ms = 500\ngc_depth = " +
              std::to_string(kGcDepth) + "\n");
    }
    if (!plain) EXPECT_TRUE(rpc::CreateClusterCerts(certs).ok());
    auto committee = Committee::Create(authorities);
    EXPECT_TRUE(committee.ok());
    rustorium::testing::WriteFile(dir_ + "/committee.toml", CommitteeToToml(*committee));
    pids_.assign(4, -1);
  }
  ~Committee4() {
    for (int i = 0; i < 4; ++i) Kill(i, SIGTERM);
  }

  void Start(int i) {
    const std::string n = std::to_string(i);
    pids_[i] = tools::SpawnChild(
        {RUSTORIUM_BINARY, "chain", "node", "--config", dir_ + "/v" + n + ".toml"},
        dir_ + "/v" + n + ".log");
    ASSERT_GT(pids_[i], 0);
  }
  void Kill(int i, int sig) {
    if (pids_[i] <= 0) return;
    ::kill(pids_[i], sig);
    ::waitpid(pids_[i], nullptr, 0);
    pids_[i] = -1;
  }

  // How a client (as_validator < 0) or validator `as_validator` connects.
  rpc::ChannelOptions Options(int as_validator = -1) const {
    rpc::ChannelOptions options;
    if (plain_) return options;
    const std::string stem =
        dir_ + "/certs/" + (as_validator < 0 ? "client" : "v" + std::to_string(as_validator));
    auto tls = rpc::TlsContext::CreateClient(
        rpc::TlsOptions{dir_ + "/certs/ca.crt", stem + ".crt", stem + ".key", false});
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    if (tls.ok()) options.tls = *tls;
    return options;
  }
  Result<std::string> Call(const std::string& address, const std::string& method,
                           std::string payload, int as_validator = -1) {
    auto hp = rpc::ParseAddress(address);
    if (!hp.ok()) return hp.status();
    auto channel =
        std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, Options(as_validator));
    auto answer = channel->CallSync(method, std::move(payload), 2s);
    loop_.RunSync([&] { channel.reset(); });
    return answer;
  }
  // One-way messages to validator i's primary (worker < 0) or worker, sent with validator
  // `as`'s certificate, then its status from the same connection, which the server reads
  // after them.
  Result<std::string> SendThenStatus(int i, int worker, const std::vector<std::string>& messages,
                                     int as = 3) {
    auto hp = rpc::ParseAddress(worker < 0 ? primaries_[i] : workers_[i]);
    if (!hp.ok()) return hp.status();
    auto channel = std::make_unique<rpc::RpcChannel>(loop_, hp->host, hp->port, Options(as));
    for (const std::string& m : messages) {
      channel->Send(worker < 0 ? kPrimaryMethod : kWorkerMethod, m,
                    worker < 0 ? 0 : static_cast<uint64_t>(worker));
    }
    auto answer = channel->CallSync(kStatusMethod, "", 2s);
    loop_.RunSync([&] { channel.reset(); });
    return answer;
  }
  // The value of "key: N" in validator i's status, or -1 when it does not answer.
  int64_t StatusValue(int i, const std::string& key) {
    auto text = Call(primaries_[i], kStatusMethod, "");
    if (!text.ok()) return -1;
    return ValueIn(*text, key);
  }
  static int64_t ValueIn(const std::string& text, const std::string& key) {
    const size_t at = text.find("\n" + key + ": ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size() + 3));
  }
  int64_t Committed(int i) { return StatusValue(i, "committed"); }
  const PublicKey& name(int i) const { return names_[i]; }
  const std::string& worker(int i) const { return workers_[i]; }
  const std::string& primary(int i) const { return primaries_[i]; }
  bool WaitCommitted(const std::vector<int>& who, int64_t at_least, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (int i : who) all = all && Committed(i) >= at_least;
      if (all) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
  void Submit(int i, int count, const std::string& tag) {
    for (int t = 0; t < count; ++t) {
      // Retried while the validator starts (connection refused) or is busy.
      bool ok = false;
      for (int attempt = 0; attempt < 50 && !ok; ++attempt) {
        ok = Call(workers_[i], kSubmitMethod, tag + "-" + std::to_string(t)).ok();
        if (!ok) std::this_thread::sleep_for(100ms);
      }
      ASSERT_TRUE(ok) << "validator " << i << " never accepted a transaction";
    }
  }
  // Each validator's output.log as index → line; fails on an index recorded twice differently.
  std::map<uint64_t, std::string> Outputs(int i) {
    std::ifstream in(dir_ + "/v" + std::to_string(i) + "/output.log");
    std::map<uint64_t, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
      const uint64_t index = std::stoull(line.substr(0, line.find(' ')));
      auto [it, fresh] = out.emplace(index, line);
      EXPECT_TRUE(fresh || it->second == line)
          << "validator " << i << " output " << index << " twice, differently";
    }
    return out;
  }
  // Every validator's status and the end of its log, for a failed expectation.
  std::string Describe() {
    std::ostringstream out;
    for (int i = 0; i < 4; ++i) {
      auto status = Call(primaries_[i], kStatusMethod, "");
      out << "--- validator " << i << " (pid " << pids_[i] << ")\n"
          << (status.ok() ? *status : status.status().ToString() + "\n");
      std::ifstream log(dir_ + "/v" + std::to_string(i) + ".log");
      std::vector<std::string> lines;
      for (std::string line; std::getline(log, line);) lines.push_back(line);
      for (size_t k = lines.size() > 40 ? lines.size() - 40 : 0; k < lines.size(); ++k)
        out << "  " << lines[k] << "\n";
    }
    return out.str();
  }
  void ExpectSameSequence() {
    const auto reference = Outputs(0);
    for (int i = 1; i < 4; ++i) {
      for (const auto& [index, line] : Outputs(i)) {
        auto it = reference.find(index);
        if (it != reference.end())
          EXPECT_EQ(it->second, line) << "validator " << i << " diverges at " << index;
      }
    }
  }

 private:
  std::string dir_;
  bool plain_ = false;
  std::vector<std::string> primaries_, workers_;
  std::vector<PublicKey> names_;
  std::vector<pid_t> pids_;
  rpc::EventLoop loop_;
};

TEST(ChainProcesses, CommitTheSameSequenceThroughCrashesAndRestarts) {
  TempDir dir;
  Committee4 c(dir);
  for (int i = 0; i < 4; ++i) c.Start(i);
  for (int i = 0; i < 4; ++i) c.Submit(i, 10, "a" + std::to_string(i));
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 40, kCommitWait))
      << "every transaction committed everywhere\n"
      << c.Describe();
  c.ExpectSameSequence();

  c.Kill(3, SIGKILL);  // f = 1: the rest keep committing
  for (int i = 0; i < 3; ++i) c.Submit(i, 10, "b" + std::to_string(i));
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2}, 70, kCommitWait)) << c.Describe();
  c.Start(3);  // catches up from the others
  ASSERT_TRUE(c.WaitCommitted({3}, 70, kCommitWait)) << c.Describe();
  c.ExpectSameSequence();

  c.Kill(2, SIGKILL);  // f + 1 down: no progress
  c.Kill(3, SIGKILL);
  std::this_thread::sleep_for(1s);
  const int64_t before = c.Committed(0);
  c.Submit(0, 10, "c0");
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(c.Committed(0), before) << "committed without a quorum";
  c.Start(2);
  c.Start(3);
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 80, kCommitWait)) << "recovery after f + 1 restarts\n"
                                                              << c.Describe();
  c.ExpectSameSequence();
}

// Clients get errors for bad transactions; malformed, forged and misaddressed messages are
// dropped and counted, and the committee keeps committing.
TEST(ChainProcesses, BadInputIsRefusedDroppedAndCounted) {
  TempDir dir;
  Committee4 c(dir);
  for (int i = 0; i < 4; ++i) c.Start(i);
  c.Submit(0, 5, "warm");
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 5, kCommitWait)) << c.Describe();

  auto empty = c.Call(c.worker(0), kSubmitMethod, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.status().IsInvalidArgument()) << empty.status().ToString();
  auto oversized = c.Call(c.worker(0), kSubmitMethod, std::string(kMaxTransactionSize + 1, 'x'));
  ASSERT_FALSE(oversized.ok());
  EXPECT_NE(oversized.status().message().find("over the limit"), std::string::npos)
      << oversized.status().ToString();

  const int64_t dropped = c.StatusValue(0, "dropped_messages");
  const int64_t rejected = c.StatusValue(0, "rejected_headers");
  ASSERT_GE(dropped, 0);
  // A header of validator 1 signed by a key outside the committee, one signed right but
  // altered after, and bytes that decode to nothing.
  const KeyPair outsider = KeyPair::Generate();
  Header forged =
      Header::Make(outsider, 3, {}, {HashBytes("p1"), HashBytes("p2"), HashBytes("p3")});
  forged.author = c.name(1);
  forged.id = forged.ComputeId();  // consistent, but the signature is the outsider's
  Header altered = forged;
  altered.round = 4;  // the id no longer matches
  auto after =
      c.SendThenStatus(0, -1, {EncodeMessage(forged), EncodeMessage(altered), "\x01garbage", ""});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Committee4::ValueIn(*after, "rejected_headers"), rejected + 2) << *after;
  EXPECT_EQ(Committee4::ValueIn(*after, "dropped_messages"), dropped + 2) << *after;
  // To the worker: garbage, and a batch from outside the committee.
  Batch batch;
  batch.transactions = {"from nowhere"};
  after = c.SendThenStatus(
      0, 0, {"\xff\xff", EncodeMessage(BatchMessage{outsider.public_key(), 0, batch})});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Committee4::ValueIn(*after, "dropped_messages"), dropped + 4) << *after;

  for (int i = 0; i < 4; ++i) c.Submit(i, 5, "after" + std::to_string(i));
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 25, kCommitWait)) << "the committee goes on\n"
                                                              << c.Describe();
  c.ExpectSameSequence();
}

// Over mutual TLS, a peer holding validator 3's certificate cannot speak for validator 2:
// batches and acknowledgements in 2's name are refused and counted, a sync request in 1's
// name is answered with nothing, and one in its own name is answered on its own connection.
// A client certificate reaches no validator-to-validator method. The committee goes on.
TEST(ChainProcesses, AValidatorCertificateSpeaksOnlyForItsValidator) {
  TempDir dir;
  Committee4 c(dir);
  for (int i = 0; i < 4; ++i) c.Start(i);
  c.Submit(0, 5, "warm");
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 5, kCommitWait)) << c.Describe();
  const int64_t refused = c.StatusValue(0, "refused_identity");
  ASSERT_EQ(refused, 0);

  Batch mine, forged;
  mine.transactions = {"from 3 itself"};
  forged.transactions = {"in 2's name"};
  auto after = c.SendThenStatus(0, 0,
                                {EncodeMessage(BatchMessage{c.name(2), 0, forged}),
                                 EncodeMessage(BatchAck{forged.ComputeDigest(), c.name(2)}),
                                 EncodeMessage(BatchMessage{c.name(3), 0, mine})},
                                /*as=*/3);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Committee4::ValueIn(*after, "refused_identity"), refused + 2) << *after;

  // Sync: asked in 1's name, nothing comes back (and nothing goes to 1); in its own name, the
  // batch it sent comes back on this connection.
  auto ask = [&](const PublicKey& requester) {
    return c.Call(c.worker(0), kWorkerSyncMethod,
                  EncodeMessage(BatchesRequest{requester, 0, {mine.ComputeDigest()}}), 3);
  };
  Result<std::string> as_1 = ask(c.name(1));
  ASSERT_TRUE(as_1.ok()) << as_1.status().ToString();
  EXPECT_TRUE(as_1->empty());
  EXPECT_EQ(c.StatusValue(0, "refused_identity"), refused + 3);
  Result<std::string> as_3 = ask(c.name(3));
  ASSERT_TRUE(as_3.ok()) << as_3.status().ToString();
  auto messages = DecodeSyncAnswer(*as_3);
  ASSERT_TRUE(messages.ok() && messages->size() == 1u) << as_3->size();
  auto answer = DecodeMessage((*messages)[0]);
  ASSERT_TRUE(answer.ok() && std::holds_alternative<BatchMessage>(*answer));
  EXPECT_EQ(std::get<BatchMessage>(*answer).batch, mine);
  // The same request one-way has no connection to answer on: dropped.
  const int64_t dropped = c.StatusValue(0, "dropped_messages");
  after = c.SendThenStatus(
      0, 0, {EncodeMessage(BatchesRequest{c.name(3), 0, {mine.ComputeDigest()}})}, 3);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Committee4::ValueIn(*after, "dropped_messages"), dropped + 1) << *after;

  // A client certificate may submit and read the status, nothing else.
  Result<std::string> client_sync = c.Call(c.primary(0), kPrimarySyncMethod,
                                           EncodeMessage(CertificatesRequest{c.name(3), {}, 1}));
  ASSERT_FALSE(client_sync.ok());
  EXPECT_TRUE(client_sync.status().IsPermissionDenied()) << client_sync.status().ToString();

  for (int i = 0; i < 4; ++i) c.Submit(i, 5, "after" + std::to_string(i));
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 25, kCommitWait)) << "the committee goes on\n"
                                                              << c.Describe();
  c.ExpectSameSequence();
}

// plain = true: the committee runs over plain TCP (every peer trusted).
TEST(ChainProcesses, PlainTcpCommitteeWithPlainTrue) {
  TempDir dir;
  Committee4 c(dir, /*plain=*/true);
  for (int i = 0; i < 4; ++i) c.Start(i);
  for (int i = 0; i < 4; ++i) c.Submit(i, 3, "p" + std::to_string(i));
  ASSERT_TRUE(c.WaitCommitted({0, 1, 2, 3}, 12, kCommitWait)) << c.Describe();
  c.ExpectSameSequence();
}

// A validator whose certificate carries another validator's key does not start: peers would
// bind its messages to the wrong member.
TEST(ChainProcesses, AValidatorRefusesACertificateOfAnotherKey) {
  TempDir dir;
  Committee4 c(dir);
  auto config = LoadNodeConfig(dir.Sub("v0.toml"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->tls_cert_file = dir.Sub("certs/v1.crt");
  config->tls_key_file = dir.Sub("certs/v1.key");
  auto node = ChainNode::Start(*config);
  ASSERT_FALSE(node.ok());
  EXPECT_TRUE(node.status().IsInvalidArgument()) << node.status().ToString();
  EXPECT_NE(node.status().message().find("carries the identity of validator"), std::string::npos)
      << node.status().ToString();
}

}  // namespace
}  // namespace rustorium::chain
