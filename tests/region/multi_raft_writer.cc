// Child process of the multi-raft durability test: one store with 8 single-member groups
// (each its own leader), 4 proposals in flight per group; prints "group index command" for
// each proposal once libraft reports it committed and applied. Runs until killed.
//
// usage: multi_raft_writer DATA_DIR
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <future>
#include <map>

#include "region/raft/multi_raft.h"
#include "region/rpc/event_loop.h"
#include "tests/support/test_state_machine.h"
#include "tests/writer_util.h"

namespace rr = rustorium::raft;

namespace {

struct Writer {
  rr::MultiRaft* raft;
  std::map<uint64_t, uint64_t> next;  // per group, the next command number

  void Propose(uint64_t g) {
    const std::string command = "c" + std::to_string(g) + "=" + std::to_string(next[g]++);
    raft->Propose(g, command, [this, g, command](rustorium::Result<rr::ProposeResult> r) {
      if (!r.ok()) {
        std::fprintf(stderr, "propose: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      std::printf("%llu %llu %s\n", static_cast<unsigned long long>(g),
                  static_cast<unsigned long long>(r->index), command.c_str());
      std::fflush(stdout);
      Propose(g);
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  // Standard output is the test's protocol (lines after "ready"): the store's logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("writer"));
  rustorium::engine::StorageOptions o;
  o.sync_mode = rustorium::engine::SyncMode::kNone;  // the backend syncs what Raft needs
  auto engine = rustorium::testing::OpenWriterEngine(argc, argv, 2, "DATA_DIR", o);
  rustorium::rpc::EventLoop loop;
  rr::MultiRaftOptions ro;
  ro.store_id = 1;
  ro.address = "127.0.0.1:1";        // never dialled: every group has this store only
  ro.snapshot_threshold = 1u << 30;  // keep the whole log, so the test can read every entry
  rr::MultiRaft raft(loop, engine.get(), ro);
  Writer writer{&raft, {}};
  std::promise<bool> started;
  loop.Post([&] {
    for (uint64_t g = 1; g <= 8; ++g) {
      auto s = raft.CreateGroup(g, std::make_unique<rr::testing::TestStateMachine>(engine.get(), g),
                                {{1, ro.address}});
      if (!s.ok()) {
        std::fprintf(stderr, "create group: %s\n", s.ToString().c_str());
        started.set_value(false);
        return;
      }
    }
    std::printf("ready\n");
    std::fflush(stdout);
    for (uint64_t g = 1; g <= 8; ++g) {
      for (int i = 0; i < 4; ++i) writer.Propose(g);
    }
    started.set_value(true);
  });
  if (!started.get_future().get()) return 1;
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
