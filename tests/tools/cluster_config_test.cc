#include "tools/rustorium/cluster_config.h"

#include <gtest/gtest.h>

#include "region/rpc/certs.h"
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
      "members = [\"1=127.0.0.1:2479\", \"2=pd-2.rustorium.test:2481\"]\nmax_pending_proposals = "
      "7\n"
      "max_pending_reads = 8\nmax_waiting_tso = 9\n[raft]\nelection_ms = "
      "3000\n[tls]\nplain = true\n");
  pd::PdNodeOptions o;
  ASSERT_TRUE(LoadPdConfig(path, o).ok());
  EXPECT_EQ(o.address, "127.0.0.1:2481");
  EXPECT_EQ(o.service.replicas, 1);
  EXPECT_EQ(o.member_id, 2u);
  ASSERT_EQ(o.members.size(), 2u);
  EXPECT_EQ(o.members[0].address, "127.0.0.1:2479");
  EXPECT_EQ(o.members[1].address, "pd-2.rustorium.test:2481");
  EXPECT_EQ(o.raft.election.count(), 3000);
  EXPECT_EQ(o.server_tls, nullptr) << "plain = true";
  EXPECT_EQ(o.service.max_pending_proposals, 7u);
  EXPECT_EQ(o.service.max_pending_reads, 8u);
  EXPECT_EQ(o.service.max_waiting_tso, 9u);

  for (const std::string& bad : {
           std::string("[pd]\ndata_dir = \"/x\"\nwhat = 1\n[tls]\nplain = true\n"),  // unknown key
           std::string("[pd]\ndata_dir = \"/x\"\n"),                                 // no [tls]
           std::string(
               "[pd]\ndata_dir = \"/x\"\nreplicas = 0\n[tls]\nplain = true\n"),  // replicas out of
                                                                                 // range
           std::string("[pd]\ndata_dir = \"/x\"\nmembers = [\"nonsense\"]\n[tls]\nplain = true\n"),
           std::string("[pd]\ndata_dir = \"/x\"\n[raft]\nheartbeat_ms = 500\nelection_ms = "
                       "100\n[tls]\nplain = true\n"),
           // unreadable certificates
           std::string("[pd]\ndata_dir = \"/x\"\n[tls]\nca_file = \"/missing/ca.crt\"\n"
                       "cert_file = \"/missing/node.crt\"\nkey_file = \"/missing/node.key\"\n"),
           std::string("[pd\n"),  // not TOML
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
            "[store]\ndata_dir = \"/tmp/s\"\naddress = \"store-1.rustorium.test:20161\"\npd = "
            "[\"127.0.0.1:2479\", \"localhost:2481\"]\n"
            "heartbeat_ms = 500\n[labels]\nregion = \"asia-northeast\"\nzone = \"a\"\n[tls]\nplain "
            "= true\n");
  store::StoreNodeOptions o;
  ASSERT_TRUE(LoadStoreConfig(path, o).ok());
  EXPECT_EQ(o.pd.size(), 2u);
  EXPECT_EQ(o.address, "store-1.rustorium.test:20161") << "host names are addresses too";
  EXPECT_EQ(o.pd[1], "localhost:2481");
  EXPECT_EQ(o.labels.at("region"), "asia-northeast");
  EXPECT_EQ(o.heartbeat.count(), 500);
  EXPECT_FALSE(o.raft.unsafe_reads_without_quorum) << "the broken-reads test switch is off";
  // The fault harness's stale-read nemesis sets the test switch.
  WriteFile(path,
            "[store]\ndata_dir = \"/tmp/s\"\n[raft]\nunsafe_reads_without_quorum = true\n"
            "[tls]\nplain = true\n");
  ASSERT_TRUE(LoadStoreConfig(path, o).ok());
  EXPECT_TRUE(o.raft.unsafe_reads_without_quorum);
  // The kv and connection limits.
  WriteFile(
      path,
      "[store]\ndata_dir = \"/tmp/s\"\nmax_key_size = 100\nmax_value_size = 1000\n"
      "max_mutations = 5\nmax_command_bytes = 5000\nmax_scan_bytes = 7000\n"
      "index_cache_mb = 3\nmax_connections = 9\nhandshake_timeout_ms = 250\nidle_timeout_ms = 0\n"
      "[tls]\nplain = true\n");
  ASSERT_TRUE(LoadStoreConfig(path, o).ok());
  EXPECT_EQ(o.service.limits.max_key_size, 100u);
  EXPECT_EQ(o.service.limits.max_value_size, 1000u);
  EXPECT_EQ(o.service.limits.max_mutations, 5u);
  EXPECT_EQ(o.service.limits.max_command_bytes, 5000u);
  EXPECT_EQ(o.service.max_scan_bytes, 7000u);
  EXPECT_EQ(o.service.index_cache_bytes, 3u << 20);
  EXPECT_EQ(o.server.max_connections, 9u);
  EXPECT_EQ(o.server.limits.handshake_timeout.count(), 250);
  EXPECT_EQ(o.server.limits.idle_timeout.count(), 0);
  // A limit cannot go past the hard one: 8192 is the largest key, 8193 is refused.
  WriteFile(path, "[store]\ndata_dir = \"/tmp/s\"\nmax_key_size = 8192\n[tls]\nplain = true\n");
  EXPECT_TRUE(LoadStoreConfig(path, o).ok());
  WriteFile(path, "[store]\ndata_dir = \"/tmp/s\"\nmax_key_size = 8193\n[tls]\nplain = true\n");
  EXPECT_EQ(LoadStoreConfig(path, o).code(), StatusCode::kInvalidArgument);
  // Splits and merges by size.
  WriteFile(path,
            "[store]\ndata_dir = \"/tmp/s\"\nregion_split_size_mb = 4\nregion_split_keys = 400\n"
            "split_check_interval_ms = 50\nregion_merge_size_mb = 1\nregion_merge_keys = 40\n"
            "split_merge_interval_ms = 2000\n[tls]\nplain = true\n");
  ASSERT_TRUE(LoadStoreConfig(path, o).ok());
  EXPECT_EQ(o.region_split_bytes, 4u << 20);
  EXPECT_EQ(o.region_split_keys, 400u);
  EXPECT_EQ(o.split_check_interval.count(), 50);
  EXPECT_EQ(o.region_merge_bytes, 1u << 20);
  EXPECT_EQ(o.region_merge_keys, 40u);
  EXPECT_EQ(o.split_merge_interval.count(), 2000);
  // A week is the longest split-merge interval; a millisecond more is refused, as is a negative
  // one.
  for (const auto& [value, ok] : std::vector<std::pair<std::string, bool>>{
           {"604799999", true}, {"604800000", true}, {"604800001", false}, {"-1", false}}) {
    WriteFile(path, "[store]\ndata_dir = \"/tmp/s\"\nsplit_merge_interval_ms = " + value +
                        "\n[tls]\nplain = true\n");
    EXPECT_EQ(LoadStoreConfig(path, o).ok(), ok) << value;
  }
  WriteFile(path, "[store]\ndata_dir = \"/tmp/s\"\n[labels]\nrack = \"r1\"\n[tls]\nplain = true\n");
  EXPECT_EQ(LoadStoreConfig(path, o).code(), StatusCode::kInvalidArgument) << "unknown label";
  WriteFile(path, "[store]\npd = \"127.0.0.1:2479\"\ndata_dir = \"/tmp/s\"\n[tls]\nplain = true\n");
  EXPECT_EQ(LoadStoreConfig(path, o).code(), StatusCode::kInvalidArgument) << "pd must be an array";
}

// A store's id is the one in its certificate; a PD member's certificate names its member id.
TEST(ClusterConfig, NodeIdsComeFromTheirCertificates) {
  TempDir dir;
  rpc::ClusterCertsOptions co;
  co.dir = dir.Sub("certs");
  co.stores = 2;
  co.pd_members = 2;
  ASSERT_TRUE(rpc::CreateClusterCerts(co).ok());
  auto tls = [&](const std::string& name) {
    return "[tls]\nca_file = \"" + co.dir + "/ca.crt\"\ncert_file = \"" + co.dir + "/" + name +
           ".crt\"\nkey_file = \"" + co.dir + "/" + name + ".key\"\n";
  };
  const std::string store = dir.Sub("store.toml");
  WriteFile(store, "[store]\ndata_dir = \"/tmp/s\"\n" + tls("store-2"));
  store::StoreNodeOptions so;
  ASSERT_TRUE(LoadStoreConfig(store, so).ok());
  EXPECT_EQ(so.store_id, 2u);
  for (const char* wrong : {"pd-1", "client", "admin"}) {
    WriteFile(store, "[store]\ndata_dir = \"/tmp/s\"\n" + tls(wrong));
    store::StoreNodeOptions again;
    Status s = LoadStoreConfig(store, again);
    EXPECT_TRUE(s.IsInvalidArgument()) << wrong << ": " << s.ToString();
    EXPECT_NE(s.message().find("not a store certificate"), std::string::npos) << s.ToString();
  }
  const std::string pd = dir.Sub("pd.toml");
  WriteFile(pd, "[pd]\ndata_dir = \"/tmp/p\"\nmember_id = 2\n" + tls("pd-2"));
  pd::PdNodeOptions po;
  ASSERT_TRUE(LoadPdConfig(pd, po).ok());
  WriteFile(pd, "[pd]\ndata_dir = \"/tmp/p\"\nmember_id = 1\n" + tls("pd-2"));
  Status s = LoadPdConfig(pd, po);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("member_id"), std::string::npos) << s.ToString();
  WriteFile(pd, "[pd]\ndata_dir = \"/tmp/p\"\n" + tls("store-1"));
  EXPECT_TRUE(LoadPdConfig(pd, po).IsInvalidArgument());
}

// Every mistake reads "FILE: section.key: reason" (base/config_file.h).
TEST(ClusterConfig, ErrorsNameTheFileSectionAndKey) {
  TempDir dir;
  const std::string path = dir.Sub("node.toml");
  const std::string tls = "[tls]\nplain = true\n";
  const std::string long_address(300, 'x');
  struct Case {
    std::string text;
    std::string message;  // after "PATH: "
  };
  const std::vector<Case> pd_cases = {
      {"[pd]\ndata_dir = \"/x\"\nwhat = 1\n" + tls,
       "pd.what: unknown key (known: data_dir, address, replicas, member_id, members, "
       "max_pending_proposals, max_pending_reads, max_waiting_tso, max_connections, "
       "handshake_timeout_ms, idle_timeout_ms, store_disconnected_after_ms, store_down_after_ms)"},
      {"[pd]\ndata_dir = \"/x\"\nstore_disconnected_after_ms = 5000\nstore_down_after_ms = 5000\n" +
           tls,
       "pd.store_down_after_ms: must be greater than store_disconnected_after_ms (5000)"},
      {"[pd]\ndata_dir = \"/x\"\nstore_disconnected_after_ms = 0\n" + tls,
       "pd.store_disconnected_after_ms: must be 1..86400000, not 0"},
      {"[pd]\ndata_dir = \"/x\"\nhandshake_timeout_ms = 0\n" + tls,
       "pd.handshake_timeout_ms: must be 1..3600000, not 0"},
      {"[pd]\ndata_dir = \"/x\"\nmax_waiting_tso = 0\n" + tls,
       "pd.max_waiting_tso: must be 1..1000000, not 0"},
      {"[pd]\ndata_dir = \"/x\"\n",
       "tls: is missing: give ca_file, cert_file and key_file, or plain = true"},
      {"[pd]\ndata_dir = \"/x\"\nreplicas = 0\n" + tls, "pd.replicas: must be 1..7, not 0"},
      {"[pd]\ndata_dir = \"/x\"\nreplicas = \"3\"\n" + tls,
       "pd.replicas: expected an integer, not a string"},
      {"[pd]\ndata_dir = \"/x\"\nmembers = [\"nonsense\"]\n" + tls,
       "pd.members[1]: 'nonsense' is not ID=ADDRESS (\"1=127.0.0.1:2479\")"},
      {"[pd]\ndata_dir = \"/x\"\nmembers = [\"1=127.0.0.1:1\", \"2=nowhere\"]\n" + tls,
       "pd.members[2]: 'nowhere' is not host:port"},
      {"[pd]\ndata_dir = \"/x\"\naddress = \"bad_name!:1\"\n" + tls,
       "pd.address: 'bad_name!:1' is not host:port: 'bad_name!' is not an IPv4 address, [IPv6] "
       "address or host name (letters, digits, '-' and '.')"},
      {"[pd]\ndata_dir = \"/x\"\n[raft]\nheartbeat_ms = 500\nelection_ms = 100\n" + tls,
       "raft.election_ms: must be greater than heartbeat_ms (500), not 100"},
      {"[pd]\naddress = \"127.0.0.1:2479\"\n" + tls, "pd.data_dir: is required"},
      {"[pd]\ndata_dir = \"/x\"\naddress = \"" + long_address + "\"\n" + tls,
       "pd.address: '" + std::string(32, 'x') + "\u2026' (300 bytes) is not host:port"},
      {"[pd]\ndata_dir = \"/x\"\n[tls]\nplain = true\nca_file = \"/c\"\n",
       "tls.ca_file: is not used with plain = true"},
      {"[pd]\ndata_dir = \"/x\"\n[tls]\nca_file = \"/c\"\n", "tls.cert_file: is required"},
      {"[pd]\ndata_dir = \"/x\"\n[pd2]\n" + tls, "pd2: unknown section (known: pd, raft, tls)"},
  };
  for (const Case& c : pd_cases) {
    WriteFile(path, c.text);
    pd::PdNodeOptions o;
    Status s = LoadPdConfig(path, o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(s.message(), path + ": " + c.message) << c.text;
  }
  const std::vector<Case> store_cases = {
      {"[store]\ndata_dir = \"/s\"\n[labels]\nrack = \"r1\"\n" + tls,
       "labels.rack: unknown key (known: region, zone, host)"},
      {"[store]\ndata_dir = \"/s\"\n[labels]\nzone = 1\n" + tls,
       "labels.zone: expected a string, not an integer"},
      {"[store]\npd = \"127.0.0.1:2479\"\ndata_dir = \"/s\"\n" + tls,
       "store.pd: expected an array of strings, not a string"},
      {"[store]\ndata_dir = \"/s\"\npd = [\"127.0.0.1:2479\", \"nowhere\"]\n" + tls,
       "store.pd[2]: 'nowhere' is not host:port"},
      {"[store]\ndata_dir = \"/s\"\naddress = \"localhost:65536\"\n" + tls,
       "store.address: 'localhost:65536' is not host:port: the port is not 1..65535"},
      {"[store]\ndata_dir = \"/s\"\nheartbeat_ms = -5\n" + tls,
       "store.heartbeat_ms: must be >= 1, not -5"},
      {"[sotre]\ndata_dir = \"/s\"\n" + tls,
       "sotre: unknown section (known: store, labels, raft, tls)"},
  };
  for (const Case& c : store_cases) {
    WriteFile(path, c.text);
    store::StoreNodeOptions o;
    Status s = LoadStoreConfig(path, o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(s.message(), path + ": " + c.message) << c.text;
  }
}

}  // namespace
}  // namespace rustorium::tools
