// Stores for the multi-raft tests and benchmark (tests/support: benchmarks may use it too): each
// with its own event loop, engine, RPC server on a loopback port and MultiRaft, hosting
// TestStateMachine groups. A store can be stopped and started again on the same directory and port.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "region/raft/multi_raft.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/server.h"
#include "region/rpc/tls.h"
#include "region/store/engine_limits.h"
#include "tests/support/ports.h"
#include "tests/support/test_state_machine.h"

namespace rustorium::raft::testing {

using rustorium::testing::PickPort;

class TestStore {
 public:
  TestStore(uint64_t id, std::string dir, MultiRaftOptions options)
      : id_(id), dir_(std::move(dir)), port_(PickPort()), options_(std::move(options)) {
    options_.store_id = id_;
    options_.address = address();
  }
  ~TestStore() { Stop(); }

  // Makes each group's state machine (TestStateMachine by default); before Start.
  using MachineFactory = std::function<std::unique_ptr<StateMachine>(engine::Engine*, GroupId)>;
  void set_machine_factory(MachineFactory f) { factory_ = std::move(f); }
  // The engine's options (its path, cache and sync mode are the store's own); before Start. A
  // region's state machine needs store::EngineOptionsFor({}).
  void set_engine_options(engine::StorageOptions o) { engine_options_ = std::move(o); }
  // Runs after the MultiRaft exists and before the server starts (to register more handlers).
  void set_before_serve(std::function<void(TestStore&, rpc::RpcServer&)> f) {
    before_serve_ = std::move(f);
  }
  // TLS for the store's server (the client side is options.channel.tls); before Start.
  void set_server_tls(std::shared_ptr<rpc::TlsContext> tls) { server_tls_ = std::move(tls); }
  uint64_t id() const { return id_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  Member member() const { return {id_, address()}; }
  bool running() const { return raft_ != nullptr; }
  rpc::EventLoop& loop() { return *loop_; }
  MultiRaft& raft() { return *raft_; }
  engine::Engine& engine() { return *engine_; }

  // Opens the engine, starts the server and creates `groups` (bootstrapped with `members`).
  Status Start(const std::vector<GroupId>& groups, const std::vector<Member>& members) {
    engine::StorageOptions o = engine_options_;
    o.path = dir_;
    o.block_cache_size = 16 << 20;
    o.sync_mode = engine::SyncMode::kNone;  // the Raft backend syncs what it must
    ASSIGN_OR_RETURN(engine_, engine::Engine::Open(o));
    loop_ = std::make_unique<rpc::EventLoop>();
    rpc::ServerOptions so;
    so.port = port_;
    so.tls = server_tls_;
    server_ = std::make_unique<rpc::RpcServer>(*loop_, so);
    raft_ = std::make_unique<MultiRaft>(*loop_, engine_.get(), options_);
    raft_->RegisterHandlers(*server_);
    if (before_serve_) before_serve_(*this, *server_);
    RETURN_IF_ERROR(server_->Start());
    Status status;
    loop_->RunSync([&] {
      for (GroupId g : groups) {
        status = raft_->CreateGroup(g,
                                    factory_ ? factory_(engine_.get(), g)
                                             : std::make_unique<TestStateMachine>(engine_.get(), g),
                                    members);
        if (!status.ok()) return;
      }
    });
    return status;
  }

  void Stop() {
    if (!raft_) return;
    raft_->ShutdownAndWait();
    server_.reset();
    raft_.reset();
    loop_.reset();
    engine_.reset();
  }

  // Runs `fn` on the store's loop thread and waits.
  template <typename Fn>
  auto Sync(Fn fn) -> decltype(fn()) {
    using R = decltype(fn());
    if constexpr (std::is_void_v<R>) {
      loop_->RunSync(fn);
    } else {
      std::optional<R> out;
      loop_->RunSync([&] { out.emplace(fn()); });
      return std::move(*out);
    }
  }

  std::optional<GroupInfo> Info(GroupId g) {
    return Sync([&] { return raft_->Info(g); });
  }
  TestStateMachine* Machine(GroupId g) {
    return Sync([&] { return static_cast<TestStateMachine*>(raft_->state_machine(g)); });
  }
  // (applied index, digest) of group g's state machine.
  std::pair<uint64_t, uint64_t> State(GroupId g) {
    return Sync([&] {
      auto* sm = static_cast<TestStateMachine*>(raft_->state_machine(g));
      return sm == nullptr ? std::pair<uint64_t, uint64_t>{0, 0}
                           : std::pair<uint64_t, uint64_t>{sm->AppliedIndex(), sm->digest()};
    });
  }

  // Proposes and waits for the outcome (up to `timeout`).
  Result<ProposeResult> Propose(GroupId g, std::string command,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto p = std::make_shared<std::promise<Result<ProposeResult>>>();
    auto f = p->get_future();
    loop_->Post([this, g, command = std::move(command), p]() mutable {
      raft_->Propose(g, std::move(command),
                     [p](Result<ProposeResult> r) { p->set_value(std::move(r)); });
    });
    if (f.wait_for(timeout) != std::future_status::ready) return Status::TimedOut("propose");
    return f.get();
  }
  Result<uint64_t> ReadIndex(GroupId g,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto p = std::make_shared<std::promise<Result<uint64_t>>>();
    auto f = p->get_future();
    loop_->Post([this, g, p] {
      raft_->ReadIndex(g, [p](Result<uint64_t> r) { p->set_value(std::move(r)); });
    });
    if (f.wait_for(timeout) != std::future_status::ready) return Status::TimedOut("read index");
    return f.get();
  }
  // Runs a membership call (which takes a StatusCallback last) and waits.
  Status Change(const std::function<void(MultiRaft&, MultiRaft::StatusCallback)>& call,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    loop_->Post([this, call, p] { call(*raft_, [p](Status s) { p->set_value(std::move(s)); }); });
    if (f.wait_for(timeout) != std::future_status::ready)
      return Status::TimedOut("membership change");
    return f.get();
  }

 private:
  uint64_t id_;
  std::string dir_;
  int port_;
  MultiRaftOptions options_;
  std::shared_ptr<rpc::TlsContext> server_tls_;
  MachineFactory factory_;
  engine::StorageOptions engine_options_;
  std::function<void(TestStore&, rpc::RpcServer&)> before_serve_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<rpc::EventLoop> loop_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<MultiRaft> raft_;
};

// Polls `pred` every 20 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace rustorium::raft::testing
