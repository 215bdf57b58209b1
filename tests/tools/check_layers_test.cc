// tools/check-layers against small trees written here: it must refuse each kind of forbidden
// include the layer rule names, and pass the allowed ones and the real tree.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/test_util.h"

#ifndef RUSTORIUM_ROOT_DIR
#error "RUSTORIUM_ROOT_DIR must name the checkout"
#endif

namespace rustorium {
namespace {

using testing::RunCommand;
using testing::TempDir;

class CheckLayersTest : public ::testing::Test {
 protected:
  // Writes `file` with one include of `header` into a fresh tree and runs the checker on it.
  testing::CommandResult Check(const std::string& file, const std::string& header) {
    TempDir dir;
    const std::filesystem::path path = dir.path() / file;
    std::filesystem::create_directories(path.parent_path());
    testing::WriteFile(path.string(), "#include \"" + header + "\"\n");
    return RunCommand(std::string(RUSTORIUM_ROOT_DIR) + "/tools/check-layers --root " +
                      dir.path().string());
  }
  void ExpectRefused(const std::string& file, const std::string& header) {
    const auto r = Check(file, header);
    EXPECT_EQ(r.exit_code, 1) << file << " -> " << header << "\n" << r.out;
    EXPECT_NE(r.out.find(file + ":1: includes \"" + header + "\""), std::string::npos) << r.out;
  }
  void ExpectAllowed(const std::string& file, const std::string& header) {
    const auto r = Check(file, header);
    EXPECT_EQ(r.exit_code, 0) << file << " -> " << header << "\n" << r.out;
  }
};

TEST_F(CheckLayersTest, RefusesEveryForbiddenDirection) {
  ExpectRefused("engine/engine.cc", "proof/field/fr.h");
  ExpectRefused("base/status.cc", "engine/engine.h");
  ExpectRefused("proof/smt/proof.cc", "region/client.h");
  ExpectRefused("proof/zk/groth16.h", "chain/validator.h");
  ExpectRefused("region/rpc/server.cc", "region/raft/multi_raft.h");
  ExpectRefused("region/rpc/channel.h", "region/store/store.h");
  ExpectRefused("region/raft/multi_raft.cc", "region/store/region_fsm.h");
  ExpectRefused("region/raft/multi_raft.h", "region/pd/pd_fsm.h");
  ExpectRefused("region/client.cc", "region/store/region_fsm.h");
  ExpectRefused("region/client.h", "region/raft/multi_raft.h");
  ExpectRefused("chain/validator.cc", "region/raft/multi_raft.h");
  ExpectRefused("chain/net/chain_node.cc", "region/store/store.h");
  ExpectRefused("chain/net/chain_node.cc", "region/pd/pd_service.h");
  ExpectRefused("chain/narwhal/dag_store.h", "chain/bullshark/bullshark.h");
  ExpectRefused("bench/raft_bench.cc", "tests/region/raft_cluster.h");
  ExpectRefused("tools/rustorium/main.cc", "tests/test_util.h");
}

TEST_F(CheckLayersTest, AllowsWhatPointsDown) {
  ExpectAllowed("engine/engine.cc", "base/status.h");
  ExpectAllowed("proof/smt/proof.cc", "engine/engine.h");
  ExpectAllowed("region/client.cc", "region/store/root_statement.h");
  ExpectAllowed("region/client.cc", "region/pd/pd_client.h");
  ExpectAllowed("region/store/store.cc", "region/raft/multi_raft.h");
  ExpectAllowed("chain/net/chain_node.cc", "region/rpc/tls.h");
  ExpectAllowed("chain/bullshark/bullshark.h", "chain/narwhal/messages.h");
  ExpectAllowed("bench/raft_bench.cc", "tests/support/raft_cluster.h");
  ExpectAllowed("tests/region/store_test.cc", "region/store/store.h");
}

TEST_F(CheckLayersTest, TheTreeItselfPasses) {
  const auto r = RunCommand(std::string(RUSTORIUM_ROOT_DIR) + "/tools/check-layers");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace rustorium
