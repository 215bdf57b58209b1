#include "tools/rustorium/cluster_config.h"

#include "base/config_file.h"
#include "base/quote.h"
#include "region/rpc/identity.h"

namespace rustorium::tools {

namespace {

// `address`, the value at `key` ("address", "pd[2]"), must be host:port.
Status CheckAddress(const ConfigTable& t, std::string_view key, const std::string& address) {
  Status s = rpc::CheckAddress(address);
  return s.ok() ? s : t.Bad(key, s.message());
}

Status ReadRaft(const ConfigTable& root, raft::MultiRaftOptions& o) {
  ASSIGN_OR_RETURN(ConfigTable t, root.Section("raft"));
  RETURN_IF_ERROR(
      t.AllowOnly({"tick_ms", "heartbeat_ms", "election_ms", "unsafe_reads_without_quorum"}));
  // Test only (the fault harness's stale-read nemesis): reads skip the leadership probe.
  RETURN_IF_ERROR(t.Read("unsafe_reads_without_quorum", o.unsafe_reads_without_quorum));
  int64_t tick = o.tick.count(), heartbeat = o.heartbeat.count(), election = o.election.count();
  RETURN_IF_ERROR(t.Read<int64_t>("tick_ms", tick, 1));
  RETURN_IF_ERROR(t.Read<int64_t>("heartbeat_ms", heartbeat, 1));
  RETURN_IF_ERROR(t.Read<int64_t>("election_ms", election, 1));
  if (election <= heartbeat) {
    return t.Bad("election_ms", "must be greater than heartbeat_ms (" + std::to_string(heartbeat) +
                                    "), not " + std::to_string(election));
  }
  o.tick = std::chrono::milliseconds(tick);
  o.heartbeat = std::chrono::milliseconds(heartbeat);
  o.election = std::chrono::milliseconds(election);
  return Status::OK();
}

// [tls]: certificate files, or plain = true.
Result<NodeTls> ReadTls(const ConfigTable& root) {
  ASSIGN_OR_RETURN(std::optional<ConfigTable> t, root.Table("tls"));
  if (!t.has_value()) {
    return root.Bad("tls", "is missing: give ca_file, cert_file and key_file, or plain = true");
  }
  RETURN_IF_ERROR(t->AllowOnly({"ca_file", "cert_file", "key_file", "plain"}));
  bool plain = false;
  RETURN_IF_ERROR(t->Read("plain", plain));
  if (plain) {
    for (std::string_view key : {"ca_file", "cert_file", "key_file"}) {
      if (t->Has(key)) return t->Bad(key, "is not used with plain = true");
    }
    return NodeTls{};
  }
  std::string ca, cert, key;
  RETURN_IF_ERROR(t->ReadRequired("ca_file", ca));
  RETURN_IF_ERROR(t->ReadRequired("cert_file", cert));
  RETURN_IF_ERROR(t->ReadRequired("key_file", key));
  Result<NodeTls> tls = MakeTls(ca, cert, key);
  if (!tls.ok()) return tls.status().WithContext(root.file() + ": tls");
  tls->cert_file = cert;
  return tls;
}

// The identity of a node's own certificate, which must be of `role`.
Result<rpc::PeerIdentity> NodeIdentity(const ConfigTable& root, const NodeTls& tls,
                                       rpc::PeerRole role) {
  Result<rpc::PeerIdentity> id = rpc::CertificateIdentity(tls.cert_file);
  if (!id.ok()) return id.status().WithContext(root.file() + ": tls.cert_file");
  if (id->role != role) {
    return Status::InvalidArgument(root.file() + ": tls.cert_file " + tls.cert_file + " is " +
                                   id->ToString() + ", not a " + std::string(rpc::RoleName(role)) +
                                   " certificate");
  }
  return id;
}

// The connection keys of [pd] and [store] (docs/operations.md, "Connection and PD limits"):
// max_connections, handshake_timeout_ms, idle_timeout_ms (0 turns the idle timeout off).
Status ReadConnectionLimits(const ConfigTable& t, rpc::ServerOptions& o) {
  RETURN_IF_ERROR(t.Read<std::size_t>("max_connections", o.max_connections, 1, 1000000));
  int64_t handshake = o.limits.handshake_timeout.count(), idle = o.limits.idle_timeout.count();
  RETURN_IF_ERROR(t.Read<int64_t>("handshake_timeout_ms", handshake, 1, 3600000));
  RETURN_IF_ERROR(t.Read<int64_t>("idle_timeout_ms", idle, 0, 86400000));
  o.limits.handshake_timeout = std::chrono::milliseconds(handshake);
  o.limits.idle_timeout = std::chrono::milliseconds(idle);
  return Status::OK();
}

// data_dir: required, not empty.
Status ReadDataDir(const ConfigTable& t, std::string& out) {
  RETURN_IF_ERROR(t.ReadRequired("data_dir", out));
  if (out.empty()) return t.Bad("data_dir", "must not be empty");
  return Status::OK();
}

}  // namespace

Result<NodeTls> MakeTls(const std::string& ca_file, const std::string& cert_file,
                        const std::string& key_file) {
  rpc::TlsOptions t;
  t.ca_file = ca_file;
  t.cert_file = cert_file;
  t.key_file = key_file;
  t.require_client_cert = true;
  NodeTls out;
  ASSIGN_OR_RETURN(out.server, rpc::TlsContext::CreateServer(t));
  ASSIGN_OR_RETURN(out.client, rpc::TlsContext::CreateClient(t));
  return out;
}

Status LoadPdConfig(const std::string& path, pd::PdNodeOptions& o) {
  ASSIGN_OR_RETURN(ConfigTable root, ConfigTable::Open(path));
  RETURN_IF_ERROR(root.AllowOnly({"pd", "raft", "tls"}));
  ASSIGN_OR_RETURN(ConfigTable t, root.Section("pd"));
  RETURN_IF_ERROR(t.AllowOnly({"data_dir", "address", "replicas", "member_id", "members",
                               "max_pending_proposals", "max_pending_reads", "max_waiting_tso",
                               "max_connections", "handshake_timeout_ms", "idle_timeout_ms",
                               "store_disconnected_after_ms", "store_down_after_ms"}));
  RETURN_IF_ERROR(ReadDataDir(t, o.data_dir));
  RETURN_IF_ERROR(t.Read("address", o.address));
  RETURN_IF_ERROR(CheckAddress(t, "address", o.address));
  RETURN_IF_ERROR(t.Read<uint64_t>("member_id", o.member_id, 1));
  // "ID=ADDRESS" for every member of a multi-member PD, this one included.
  std::vector<std::string> members;
  RETURN_IF_ERROR(t.Read("members", members));
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::string& m = members[i];
    const std::string where = "members[" + std::to_string(i + 1) + "]";
    const auto eq = m.find('=');
    uint64_t id = 0;
    const bool id_ok = eq != std::string::npos && eq > 0 && eq <= 19 &&
                       m.find_first_not_of("0123456789") == eq &&
                       (id = std::stoull(m.substr(0, eq))) > 0;
    if (!id_ok) {
      return t.Bad(where, QuoteInput(m) + " is not ID=ADDRESS (\"1=127.0.0.1:2479\")");
    }
    RETURN_IF_ERROR(CheckAddress(t, where, m.substr(eq + 1)));
    o.members.push_back({id, m.substr(eq + 1)});
  }
  RETURN_IF_ERROR(t.Read("replicas", o.service.replicas, 1, 7));
  // Bounds on what PD holds for callers (docs/operations.md, "Connection and PD limits").
  constexpr std::size_t kMaxBound = 1000000;
  RETURN_IF_ERROR(
      t.Read<std::size_t>("max_pending_proposals", o.service.max_pending_proposals, 1, kMaxBound));
  RETURN_IF_ERROR(
      t.Read<std::size_t>("max_pending_reads", o.service.max_pending_reads, 1, kMaxBound));
  RETURN_IF_ERROR(t.Read<std::size_t>("max_waiting_tso", o.service.max_waiting_tso, 1, kMaxBound));
  // Store liveness (docs/operations.md, "Store states").
  int64_t disconnected = o.service.store_disconnected_after.count();
  int64_t down = o.service.store_down_after.count();
  constexpr int64_t kDay = 24 * 3600 * 1000;
  RETURN_IF_ERROR(t.Read<int64_t>("store_disconnected_after_ms", disconnected, 1, kDay));
  RETURN_IF_ERROR(t.Read<int64_t>("store_down_after_ms", down, 1, kDay));
  if (down <= disconnected) {
    return t.Bad("store_down_after_ms", "must be greater than store_disconnected_after_ms (" +
                                            std::to_string(disconnected) + ")");
  }
  o.service.store_disconnected_after = std::chrono::milliseconds(disconnected);
  o.service.store_down_after = std::chrono::milliseconds(down);
  RETURN_IF_ERROR(ReadConnectionLimits(t, o.server));
  RETURN_IF_ERROR(ReadRaft(root, o.raft));
  ASSIGN_OR_RETURN(NodeTls tls, ReadTls(root));
  if (tls.server != nullptr) {
    ASSIGN_OR_RETURN(rpc::PeerIdentity id, NodeIdentity(root, tls, rpc::PeerRole::kPd));
    if (id.id != o.member_id) {
      return t.Bad("member_id", std::to_string(o.member_id) + " is not the id in tls.cert_file (" +
                                    id.ToString() + ")");
    }
  }
  o.server_tls = tls.server;
  o.raft.channel.tls = tls.client;
  return Status::OK();
}

Status LoadStoreConfig(const std::string& path, store::StoreNodeOptions& o) {
  ASSIGN_OR_RETURN(ConfigTable root, ConfigTable::Open(path));
  RETURN_IF_ERROR(root.AllowOnly({"store", "labels", "raft", "tls"}));
  ASSIGN_OR_RETURN(ConfigTable t, root.Section("store"));
  RETURN_IF_ERROR(
      t.AllowOnly({"data_dir", "address", "pd", "heartbeat_ms", "max_key_size", "max_value_size",
                   "max_mutations", "max_command_bytes", "max_scan_bytes", "index_cache_mb",
                   "max_connections", "handshake_timeout_ms", "idle_timeout_ms",
                   "region_split_size_mb", "region_split_keys", "split_check_interval_ms",
                   "region_merge_size_mb", "region_merge_keys", "split_merge_interval_ms"}));
  RETURN_IF_ERROR(ReadDataDir(t, o.data_dir));
  RETURN_IF_ERROR(t.Read("address", o.address));
  RETURN_IF_ERROR(CheckAddress(t, "address", o.address));
  RETURN_IF_ERROR(t.Read("pd", o.pd));
  if (o.pd.empty()) return t.Bad("pd", "must name at least one PD address");
  for (std::size_t i = 0; i < o.pd.size(); ++i) {
    RETURN_IF_ERROR(CheckAddress(t, "pd[" + std::to_string(i + 1) + "]", o.pd[i]));
  }
  int64_t heartbeat = o.heartbeat.count();
  RETURN_IF_ERROR(t.Read<int64_t>("heartbeat_ms", heartbeat, 1));
  o.heartbeat = std::chrono::milliseconds(heartbeat);
  store::CommandLimits& limits = o.service.limits;
  RETURN_IF_ERROR(t.Read<std::size_t>("max_key_size", limits.max_key_size, 1, store::kMaxKeySize));
  RETURN_IF_ERROR(
      t.Read<std::size_t>("max_value_size", limits.max_value_size, 1, store::kMaxValueSize));
  RETURN_IF_ERROR(
      t.Read<std::size_t>("max_mutations", limits.max_mutations, 1, store::kMaxMutations));
  RETURN_IF_ERROR(t.Read<std::size_t>("max_command_bytes", limits.max_command_bytes, 1,
                                      store::kMaxCommandBytes));
  RETURN_IF_ERROR(t.Read<std::size_t>("max_scan_bytes", o.service.max_scan_bytes, 1,
                                      std::size_t{8} * 1024 * 1024));
  std::size_t cache_mb = o.service.index_cache_bytes >> 20;
  RETURN_IF_ERROR(t.Read<std::size_t>("index_cache_mb", cache_mb, 0, 65536));
  o.service.index_cache_bytes = cache_mb << 20;
  uint64_t split_mb = o.region_split_bytes >> 20;
  RETURN_IF_ERROR(t.Read<uint64_t>("region_split_size_mb", split_mb, 1, 1 << 20));
  o.region_split_bytes = split_mb << 20;
  RETURN_IF_ERROR(t.Read<uint64_t>("region_split_keys", o.region_split_keys, 2, uint64_t{1} << 40));
  int64_t split_check = o.split_check_interval.count();
  RETURN_IF_ERROR(t.Read<int64_t>("split_check_interval_ms", split_check, 0, 86'400'000));
  o.split_check_interval = std::chrono::milliseconds(split_check);
  uint64_t merge_mb = o.region_merge_bytes >> 20;
  RETURN_IF_ERROR(t.Read<uint64_t>("region_merge_size_mb", merge_mb, 0, 1 << 20));
  o.region_merge_bytes = merge_mb << 20;
  RETURN_IF_ERROR(t.Read<uint64_t>("region_merge_keys", o.region_merge_keys, 0, uint64_t{1} << 40));
  int64_t split_merge = o.split_merge_interval.count();
  RETURN_IF_ERROR(t.Read<int64_t>("split_merge_interval_ms", split_merge, 0, 7 * 86'400'000LL));
  o.split_merge_interval = std::chrono::milliseconds(split_merge);
  RETURN_IF_ERROR(ReadConnectionLimits(t, o.server));
  ASSIGN_OR_RETURN(ConfigTable labels, root.Section("labels"));
  RETURN_IF_ERROR(labels.AllowOnly({"region", "zone", "host"}));
  for (const std::string& key : labels.Keys()) {
    std::string value;
    RETURN_IF_ERROR(labels.Read(key, value));
    o.labels[key] = value;
  }
  RETURN_IF_ERROR(ReadRaft(root, o.raft));
  ASSIGN_OR_RETURN(NodeTls tls, ReadTls(root));
  if (tls.server != nullptr) {
    ASSIGN_OR_RETURN(rpc::PeerIdentity id, NodeIdentity(root, tls, rpc::PeerRole::kStore));
    o.store_id = id.id;
  }
  o.server_tls = tls.server;
  o.channel.tls = tls.client;
  return Status::OK();
}

}  // namespace rustorium::tools
