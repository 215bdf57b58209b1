// Child process of the Raft-log durability test: group-commits appends for 8 groups, one
// entry per group per batch, and prints "group index" for each entry once its batch is
// committed. Runs until killed.
//
// usage: raft_log_writer DATA_DIR
#include <cstdio>

#include "region/raft/raft_log_store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  rustorium::engine::StorageOptions o;
  o.path = argv[1];
  o.sync_mode = rustorium::engine::SyncMode::kNone;  // the store syncs its commits itself
  o.block_cache_size = 8 << 20;
  o.write_buffer_size = 1 << 20;
  auto engine = rustorium::engine::Engine::Open(o);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  rustorium::raft::RaftLogStore store(engine->get());
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
      rustorium::raft::LogEntry e{1, 1, "entry-" + std::to_string(g) + "-" + std::to_string(next[g])};
      store.StageAppend(batch, g, next[g], {&e, 1});
    }
    if (!store.Commit(batch).ok()) return 1;
    for (uint64_t g = 1; g <= 8; ++g) std::printf("%llu %llu\n", static_cast<unsigned long long>(g),
                                                  static_cast<unsigned long long>(next[g]++));
    std::fflush(stdout);
  }
}
