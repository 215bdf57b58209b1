// Tests that need a real engine in a scratch directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/engine.h"
#include "region/store/engine_limits.h"

namespace rustorium::testing {

// An engine at `path` with a small cache and sync mode `none` (tests that check durability
// open their own), other options from `o` (a region's engine passes
// store::EngineOptionsFor({})); null, with a test failure, when it cannot open.
inline std::unique_ptr<engine::Engine> OpenScratchEngine(const std::string& path,
                                                         engine::StorageOptions o = {}) {
  o.path = path;
  o.block_cache_size = 8 << 20;
  o.sync_mode = engine::SyncMode::kNone;
  auto e = engine::Engine::Open(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

}  // namespace rustorium::testing
