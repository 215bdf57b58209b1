// The TOML configs of `rustorium pd` and `rustorium server` (docs/operations.md):
//   pd.toml:    [pd] data_dir, address, replicas, member_id, members, max_pending_proposals,
//               max_pending_reads, max_waiting_tso; [raft]; [tls]
//   store.toml: [store] data_dir, address, pd (array), heartbeat_ms, and the kv limits
//               max_key_size, max_value_size, max_mutations, max_command_bytes, max_scan_bytes;
//               index_cache_mb;
//               [labels] region, zone, host; [raft]; [tls]
//   both [pd] and [store]: max_connections, handshake_timeout_ms, idle_timeout_ms
//   [raft] tick_ms, heartbeat_ms, election_ms; unsafe_reads_without_quorum (tests only: breaks
//          linearizable reads on purpose, MultiRaftOptions)
//   [tls]  ca_file, cert_file, key_file (this node's certificate from `rustorium certs create`),
//          or plain = true for plain TCP (never the default). A store's id is the one in its
//          certificate (store-N); a PD member's certificate must be pd-<member_id>.
// Unknown keys and wrong types are InvalidArgument.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "region/pd/pd_node.h"
#include "region/rpc/channel.h"
#include "region/rpc/tls.h"
#include "region/store/store_node.h"

namespace rustorium::tools {

// A node's TLS: the server side (mutual TLS: peers and clients show a cluster certificate) and
// the client side (to PD and peer stores). Both null for plain TCP.
struct NodeTls {
  std::shared_ptr<rpc::TlsContext> server;
  std::shared_ptr<rpc::TlsContext> client;
  std::string cert_file;  // this node's certificate (empty for plain TCP)
};

Status LoadPdConfig(const std::string& path, pd::PdNodeOptions& options);
Status LoadStoreConfig(const std::string& path, store::StoreNodeOptions& options);

// TLS contexts from the cluster CA and a certificate and key signed by it.
Result<NodeTls> MakeTls(const std::string& ca_file, const std::string& cert_file,
                        const std::string& key_file);

}  // namespace rustorium::tools
