#include "tools/rustorium/cluster_config.h"

#include <toml++/toml.h>

#include <set>

namespace rustorium::tools {

namespace {

template <typename T>
Status Read(const toml::table& t, const std::string& section, std::string_view key, T& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return Status::OK();
  std::optional<T> v = node->value<T>();
  if (!v.has_value())
    return Status::InvalidArgument(section + "." + std::string(key) + " has the wrong type");
  out = *v;
  return Status::OK();
}

Status Known(const toml::table& t, const std::string& section,
             const std::set<std::string, std::less<>>& keys) {
  for (const auto& [key, value] : t) {
    if (!keys.contains(key.str()))
      return Status::InvalidArgument("unknown key " + section + "." + std::string(key.str()));
  }
  return Status::OK();
}

Result<toml::table> Parse(const std::string& path,
                          const std::set<std::string, std::less<>>& sections) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config " + path + ": " + std::string(e.description()));
  }
  for (const auto& [key, value] : root) {
    if (!sections.contains(key.str()))
      return Status::InvalidArgument("config " + path + ": unknown section " +
                                     std::string(key.str()));
    if (!value.is_table())
      return Status::InvalidArgument("config " + path + ": " + std::string(key.str()) +
                                     " must be a table");
  }
  return root;
}

Status ReadRaft(const toml::table& root, raft::MultiRaftOptions& o) {
  const toml::table* t = root["raft"].as_table();
  if (t == nullptr) return Status::OK();
  RETURN_IF_ERROR(Known(*t, "raft", {"tick_ms", "heartbeat_ms", "election_ms"}));
  int64_t tick = o.tick.count(), heartbeat = o.heartbeat.count(), election = o.election.count();
  RETURN_IF_ERROR(Read(*t, "raft", "tick_ms", tick));
  RETURN_IF_ERROR(Read(*t, "raft", "heartbeat_ms", heartbeat));
  RETURN_IF_ERROR(Read(*t, "raft", "election_ms", election));
  if (tick <= 0 || heartbeat <= 0 || election <= heartbeat) {
    return Status::InvalidArgument(
        "raft timings must be positive, with election_ms > heartbeat_ms");
  }
  o.tick = std::chrono::milliseconds(tick);
  o.heartbeat = std::chrono::milliseconds(heartbeat);
  o.election = std::chrono::milliseconds(election);
  return Status::OK();
}

// [tls]: certificate files, or plain = true.
Result<NodeTls> ReadTls(const toml::table& root) {
  const toml::table* t = root["tls"].as_table();
  if (t == nullptr)
    return Status::InvalidArgument(
        "[tls] is missing: give ca_file, cert_file and key_file, or plain = true");
  RETURN_IF_ERROR(Known(*t, "tls", {"ca_file", "cert_file", "key_file", "plain"}));
  bool plain = false;
  RETURN_IF_ERROR(Read(*t, "tls", "plain", plain));
  if (plain) return NodeTls{};
  std::string ca, cert, key;
  RETURN_IF_ERROR(Read(*t, "tls", "ca_file", ca));
  RETURN_IF_ERROR(Read(*t, "tls", "cert_file", cert));
  RETURN_IF_ERROR(Read(*t, "tls", "key_file", key));
  return MakeTls(ca, cert, key);
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
  ASSIGN_OR_RETURN(toml::table root, Parse(path, {"pd", "raft", "tls"}));
  if (const toml::table* t = root["pd"].as_table()) {
    RETURN_IF_ERROR(Known(*t, "pd", {"data_dir", "address", "replicas", "member_id", "members"}));
    RETURN_IF_ERROR(Read(*t, "pd", "data_dir", o.data_dir));
    RETURN_IF_ERROR(Read(*t, "pd", "address", o.address));
    int64_t member_id = static_cast<int64_t>(o.member_id);
    RETURN_IF_ERROR(Read(*t, "pd", "member_id", member_id));
    if (member_id < 1) return Status::InvalidArgument("pd.member_id must be >= 1");
    o.member_id = static_cast<uint64_t>(member_id);
    if (const toml::node* members = t->get("members")) {
      // "ID=ADDRESS" for every member of a multi-member PD, this one included.
      const toml::array* a = members->as_array();
      if (a == nullptr)
        return Status::InvalidArgument("pd.members must be an array of \"ID=ADDRESS\"");
      for (const toml::node& n : *a) {
        std::optional<std::string> m = n.value<std::string>();
        const auto eq = m ? m->find('=') : std::string::npos;
        if (eq == std::string::npos)
          return Status::InvalidArgument("pd.members entries look like \"1=127.0.0.1:2479\"");
        uint64_t id = 0;
        try {
          id = std::stoull(m->substr(0, eq));
        } catch (...) {
          return Status::InvalidArgument("pd.members: bad member id in \"" + *m + "\"");
        }
        RETURN_IF_ERROR(rpc::ParseAddress(m->substr(eq + 1)).status());
        o.members.push_back({id, m->substr(eq + 1)});
      }
    }
    int64_t replicas = o.service.replicas;
    RETURN_IF_ERROR(Read(*t, "pd", "replicas", replicas));
    if (replicas < 1 || replicas > 7) return Status::InvalidArgument("pd.replicas must be 1..7");
    o.service.replicas = static_cast<int>(replicas);
  }
  if (o.data_dir.empty()) return Status::InvalidArgument("pd.data_dir is required");
  RETURN_IF_ERROR(ReadRaft(root, o.raft));
  ASSIGN_OR_RETURN(NodeTls tls, ReadTls(root));
  o.server_tls = tls.server;
  o.raft.channel.tls = tls.client;
  return Status::OK();
}

Status LoadStoreConfig(const std::string& path, store::StoreNodeOptions& o) {
  ASSIGN_OR_RETURN(toml::table root, Parse(path, {"store", "labels", "raft", "tls"}));
  if (const toml::table* t = root["store"].as_table()) {
    RETURN_IF_ERROR(Known(*t, "store", {"data_dir", "address", "pd", "heartbeat_ms"}));
    RETURN_IF_ERROR(Read(*t, "store", "data_dir", o.data_dir));
    RETURN_IF_ERROR(Read(*t, "store", "address", o.address));
    if (const toml::node* pd = t->get("pd")) {
      const toml::array* a = pd->as_array();
      if (a == nullptr) return Status::InvalidArgument("store.pd must be an array of addresses");
      o.pd.clear();
      for (const toml::node& n : *a) {
        std::optional<std::string> s = n.value<std::string>();
        if (!s) return Status::InvalidArgument("store.pd must hold strings");
        o.pd.push_back(*s);
      }
    }
    int64_t heartbeat = o.heartbeat.count();
    RETURN_IF_ERROR(Read(*t, "store", "heartbeat_ms", heartbeat));
    if (heartbeat <= 0) return Status::InvalidArgument("store.heartbeat_ms must be positive");
    o.heartbeat = std::chrono::milliseconds(heartbeat);
  }
  if (o.data_dir.empty()) return Status::InvalidArgument("store.data_dir is required");
  if (const toml::table* t = root["labels"].as_table()) {
    RETURN_IF_ERROR(Known(*t, "labels", {"region", "zone", "host"}));
    for (const auto& [k, v] : *t) {
      std::optional<std::string> s = v.value<std::string>();
      if (!s)
        return Status::InvalidArgument("labels." + std::string(k.str()) + " must be a string");
      o.labels[std::string(k.str())] = *s;
    }
  }
  RETURN_IF_ERROR(ReadRaft(root, o.raft));
  ASSIGN_OR_RETURN(NodeTls tls, ReadTls(root));
  o.server_tls = tls.server;
  o.channel.tls = tls.client;
  return Status::OK();
}

}  // namespace rustorium::tools
