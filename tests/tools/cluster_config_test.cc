#include "tools/rustorium/cluster_config.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

TEST(ClusterConfig, PdConfigParsesAndRefusesMistakes) {
  TempDir dir;
  const std::string path = dir.Sub("pd.toml");
  WriteFile(
      path,
      "[pd]\ndata_dir = \"/tmp/x\"\naddress = \"127.0.0.1:2481\"\nreplicas = 1\nmember_id = 2\n"
      "members = [\"1=127.0.0.1:2479\", \"2=127.0.0.1:2481\"]\n[raft]\nelection_ms = "
      "3000\n[tls]\nplain = true\n");
  pd::PdNodeOptions o;
  ASSERT_TRUE(LoadPdConfig(path, o).ok());
  EXPECT_EQ(o.address, "127.0.0.1:2481");
  EXPECT_EQ(o.service.replicas, 1);
  EXPECT_EQ(o.member_id, 2u);
  ASSERT_EQ(o.members.size(), 2u);
  EXPECT_EQ(o.members[0].address, "127.0.0.1:2479");
  EXPECT_EQ(o.raft.election.count(), 3000);
  EXPECT_EQ(o.server_tls, nullptr) << "plain = true";

  for (const std::string& bad : {
           std::string("[pd]\ndata_dir = \"/x\"\nwhat = 1\n[tls]\nplain = true\n"),  // unknown key
           std::string("[pd]\ndata_dir = \"/x\"\n"),                                 // no [tls]
           std::string(
               "[pd]\ndata_dir = \"/x\"\nreplicas = 0\n[tls]\nplain = true\n"),  // replicas out of
                                                                                 // range
           std::string("[pd]\ndata_dir = \"/x\"\nmembers = [\"nonsense\"]\n[tls]\nplain = true\n"),
           std::string("[pd]\ndata_dir = \"/x\"\n[raft]\nheartbeat_ms = 500\nelection_ms = "
                       "100\n[tls]\nplain = true\n"),
           std::string(
               "[pd]\ndata_dir = \"/x\"\n[tls]\nca_file = \"/missing/ca.crt\"\n"),  // unreadable
                                                                                    // certificates
           std::string("[pd\n"),                                                    // not TOML
       }) {
    WriteFile(path, bad);
    pd::PdNodeOptions again;
    EXPECT_EQ(LoadPdConfig(path, again).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ClusterConfig, StoreConfigParsesLabelsAndPdList) {
  TempDir dir;
  const std::string path = dir.Sub("store.toml");
  WriteFile(path,
            "[store]\ndata_dir = \"/tmp/s\"\naddress = \"127.0.0.1:20161\"\npd = "
            "[\"127.0.0.1:2479\", \"127.0.0.1:2481\"]\n"
            "heartbeat_ms = 500\n[labels]\nregion = \"asia-northeast\"\nzone = \"a\"\n[tls]\nplain "
            "= true\n");
  store::StoreNodeOptions o;
  ASSERT_TRUE(LoadStoreConfig(path, o).ok());
  EXPECT_EQ(o.pd.size(), 2u);
  EXPECT_EQ(o.labels.at("region"), "asia-northeast");
  EXPECT_EQ(o.heartbeat.count(), 500);
  WriteFile(path, "[store]\ndata_dir = \"/tmp/s\"\n[labels]\nrack = \"r1\"\n[tls]\nplain = true\n");
  EXPECT_EQ(LoadStoreConfig(path, o).code(), StatusCode::kInvalidArgument) << "unknown label";
  WriteFile(path, "[store]\npd = \"127.0.0.1:2479\"\ndata_dir = \"/tmp/s\"\n[tls]\nplain = true\n");
  EXPECT_EQ(LoadStoreConfig(path, o).code(), StatusCode::kInvalidArgument) << "pd must be an array";
}

}  // namespace
}  // namespace rustorium::tools
