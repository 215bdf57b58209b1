#include "region/pd/pd_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "region/rpc/server.h"
#include "tests/support/ports.h"

namespace rustorium::pd {
namespace {

// A PD member on loopback that answers pd.GetStores with `answer` (a Status, or a response
// naming `store_id`) and counts the calls it saw.
class FakeMember {
 public:
  FakeMember(rpc::EventLoop& loop, Status answer, uint64_t store_id)
      : server_(std::make_unique<rpc::RpcServer>(loop, rpc::ServerOptions{})) {
    server_->Handle(kGetStores, [this, answer, store_id](const rpc::Envelope&,
                                                         rpc::RpcServer::Responder respond) {
      calls++;
      if (!answer.ok()) {
        respond(answer);
        return;
      }
      GetStoresResponse r;
      r.add_stores()->set_id(store_id);
      respond(r.SerializeAsString());
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::atomic<int> calls{0};

 private:
  std::unique_ptr<rpc::RpcServer> server_;
};

class PdClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<PdClient> Connect(std::vector<std::string> members) {
    PdClientOptions o;
    o.members = std::move(members);
    o.timeout = std::chrono::milliseconds(2000);
    auto c = PdClient::Create(client_loop_, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string Unreachable() { return "127.0.0.1:" + std::to_string(testing::PickPort()); }

  rpc::EventLoop server_loop_;
  rpc::EventLoop client_loop_;
};

TEST_F(PdClientTest, AFollowerOrAnUnreachableMemberGivesWayToTheNextAndTheAnswererIsTriedFirst) {
  FakeMember follower(server_loop_, Status::FailedPrecondition("not leader"), 0);
  FakeMember leader(server_loop_, Status::OK(), 7);
  auto pd = Connect({Unreachable(), follower.address(), leader.address()});
  ASSERT_NE(pd, nullptr);
  Result<GetStoresResponse> r = pd->GetStores();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stores(0).id(), 7u);
  EXPECT_EQ(follower.calls.load(), 1);
  // The member that answered is asked first from now on.
  ASSERT_TRUE(pd->GetStores().ok());
  ASSERT_TRUE(pd->GetStores().ok());
  EXPECT_EQ(follower.calls.load(), 1);
  EXPECT_EQ(leader.calls.load(), 3);
}

TEST_F(PdClientTest, PdsOwnRefusalIsReturnedAtOnce) {
  FakeMember refusing(server_loop_, Status::InvalidArgument("bad request"), 0);
  FakeMember other(server_loop_, Status::OK(), 7);
  auto pd = Connect({refusing.address(), other.address()});
  ASSERT_NE(pd, nullptr);
  Result<GetStoresResponse> r = pd->GetStores();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(other.calls.load(), 0);
}

TEST_F(PdClientTest, WhenNoMemberAnswersTheErrorNamesAMember) {
  const std::string a = Unreachable(), b = Unreachable();
  auto pd = Connect({a, b});
  ASSERT_NE(pd, nullptr);
  Result<GetStoresResponse> r = pd->GetStores();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(PdRetryable(r.status())) << r.status().ToString();
  EXPECT_NE(r.status().message().find("PD at 127.0.0.1:"), std::string::npos)
      << r.status().ToString();
}

TEST_F(PdClientTest, BadMemberListsAreRefused) {
  EXPECT_EQ(PdClient::Create(client_loop_, {}).status().code(), StatusCode::kInvalidArgument);
  PdClientOptions o;
  o.members = {"not-an-address"};
  EXPECT_EQ(PdClient::Create(client_loop_, o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PdClientTest, AnAnswerThatDoesNotParseIsCorruption) {
  rpc::RpcServer server(server_loop_, rpc::ServerOptions{});
  server.Handle(kGetStores, [](const rpc::Envelope&, rpc::RpcServer::Responder respond) {
    respond(std::string("\xff\xff\xff", 3));
  });
  ASSERT_TRUE(server.Start().ok());
  auto pd = Connect({"127.0.0.1:" + std::to_string(server.port())});
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->GetStores().status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace rustorium::pd
