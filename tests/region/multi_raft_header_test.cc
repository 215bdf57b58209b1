// region/raft/multi_raft.h is the multi-raft backend's public face: it must compile without
// bringing libraft or libuv along (directly or through region/rpc headers), as engine/engine.h
// hides RocksDB. This file fails to compile when either leaks back in.
#include "region/raft/multi_raft.h"

// raft.h defines RAFT_H and its error codes; uv.h defines UV_H, uv/version.h UV_VERSION_MAJOR.
#if defined(RAFT_H) || defined(RAFT_NOMEM)
#error "region/raft/multi_raft.h exposes libraft"
#endif
#if defined(UV_H) || defined(UV_VERSION_MAJOR)
#error "region/raft/multi_raft.h exposes libuv"
#endif

// Nor do the headers of its parts, which the tests use on their own.
#include "region/raft/group_commit.h"
#include "region/raft/peer_transport.h"
#include "region/raft/snapshot_transfers.h"
#if defined(RAFT_H) || defined(RAFT_NOMEM) || defined(UV_H) || defined(UV_VERSION_MAJOR)
#error "a header of region/raft/'s parts exposes libraft or libuv"
#endif

#include <gtest/gtest.h>

namespace rustorium::raft {
namespace {

// The public types stand on their own: a default GroupInfo describes no replica.
TEST(MultiRaftHeader, PublicTypesNeedNeitherLibraftNorLibuv) {
  GroupInfo info;
  EXPECT_EQ(info.role, Role::kUnavailable);
  EXPECT_TRUE(info.servers.empty());
  MultiRaftOptions options;
  EXPECT_EQ(options.channel.tls, nullptr);
  Member m{3, "127.0.0.1:1"};
  EXPECT_EQ(m.id, 3u);
}

}  // namespace
}  // namespace rustorium::raft
