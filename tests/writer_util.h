// The child processes of the crash tests: each takes DATA_DIR first and opens an engine there.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "engine/engine.h"

namespace rustorium::testing {

// Checks argc (usage `usage` on a mismatch: exit 2) and opens the engine at argv[1] with
// `options` (its path is set here); exits 1 when it cannot open.
inline std::unique_ptr<engine::Engine> OpenWriterEngine(int argc, char** argv, int want_argc,
                                                        const char* usage,
                                                        engine::StorageOptions options) {
  if (argc != want_argc) {
    std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    std::exit(2);
  }
  options.path = argv[1];
  options.block_cache_size = 8 << 20;
  auto engine = engine::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

}  // namespace rustorium::testing
