// Child process of the durability test: opens the store in sync mode `full`, writes keys
// "<round>/<i>" = "value-<round>-<i>" one batch each, and prints every key on stdout after its
// write was acknowledged. Runs until killed (or until `max_keys` were written).
//
// usage: engine_durability_writer DATA_DIR ROUND MAX_KEYS
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/engine.h"
#include "tests/writer_util.h"

int main(int argc, char** argv) {
  rustorium::engine::StorageOptions options;
  options.sync_mode = rustorium::engine::SyncMode::kFull;
  options.write_buffer_size = 1 << 20;  // small memtables: kills land during flushes too
  auto engine =
      rustorium::testing::OpenWriterEngine(argc, argv, 4, "DATA_DIR ROUND MAX_KEYS", options);
  const std::string round = argv[2];
  const long max_keys = std::strtol(argv[3], nullptr, 10);
  std::printf("ready\n");
  std::fflush(stdout);
  const std::string padding(200, 'p');
  for (long i = 0; i < max_keys; ++i) {
    const std::string key = round + "/" + std::to_string(i);
    rustorium::engine::WriteBatch batch;
    batch.Put(rustorium::engine::ColumnFamily::kDefault, key,
              "value-" + round + "-" + std::to_string(i) + padding);
    batch.Put(rustorium::engine::ColumnFamily::kMeta, "last/" + round, std::to_string(i));
    rustorium::Status s = engine->Write(batch);
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("%s\n", key.c_str());
    std::fflush(stdout);
  }
  return 0;
}
