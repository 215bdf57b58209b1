// Child process of the Raft-log durability test: group-commits appends for 8 groups, one
// entry per group per batch, and prints "group index" for each entry once its batch is
// committed. Runs until killed.
//
// usage: raft_log_writer DATA_DIR
#include <cstdio>

#include "region/raft/raft_log_store.h"
#include "tests/writer_util.h"

int main(int argc, char** argv) {
  rustorium::engine::StorageOptions o;
  o.sync_mode = rustorium::engine::SyncMode::kNone;  // the store syncs its commits itself
  o.write_buffer_size = 1 << 20;
  auto engine = rustorium::testing::OpenWriterEngine(argc, argv, 2, "DATA_DIR", o);
  rustorium::raft::RaftLogStore store(engine.get());
  // Continue each group's log where the previous run left it.
  uint64_t next[9] = {};
  for (uint64_t g = 1; g <= 8; ++g) {
    auto loaded = store.Load(g);
    if (!loaded.ok()) return 1;
    next[g] = loaded->first_index + loaded->entries.size();
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    rustorium::engine::WriteBatch batch;
    for (uint64_t g = 1; g <= 8; ++g) {
      rustorium::raft::LogEntry e{1, 1,
                                  "entry-" + std::to_string(g) + "-" + std::to_string(next[g])};
      store.StageAppend(batch, g, next[g], {&e, 1});
    }
    if (!store.Commit(batch).ok()) return 1;
    for (uint64_t g = 1; g <= 8; ++g)
      std::printf("%llu %llu\n", static_cast<unsigned long long>(g),
                  static_cast<unsigned long long>(next[g]++));
    std::fflush(stdout);
  }
}
