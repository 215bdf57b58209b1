// A cluster's certificates: a CA, and certificates signed by it for every node (mutual TLS
// between stores, PD and validators) and for clients and admins, each carrying its identity
// (region/rpc/identity.h). `rustorium certs create` and the playground use this.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace rustorium::rpc {

struct ClusterCertsOptions {
  // Output directory; created when missing.
  std::string dir;
  // A new cluster (dir holds no CA yet): store-1..store-N and pd-1..pd-M, each usable as TLS
  // server and client and carrying its identity (rustorium:store:i, rustorium:pd:i), a client
  // certificate client.crt (rustorium:client:client) and an admin certificate admin.crt
  // (rustorium:admin:admin). Ignored when dir holds a CA already.
  int stores = 3;
  int pd_members = 1;
  // More certificates, for a new cluster or (with its ca.key) an existing one: store-<id> and
  // pd-<id> node certificates, client-<name> and admin-<name> user certificates (one per
  // user; names are 1..64 of A-Z a-z 0-9 . _ -). An existing file is never overwritten.
  std::vector<uint64_t> add_stores;
  std::vector<uint64_t> add_pd;
  std::vector<std::string> add_clients;
  std::vector<std::string> add_admins;
  // Chain validators' node certificates: (file name without .crt/.key, the validator's public
  // key as 64 lower-case hex), carrying rustorium:validator:<hex> and the hosts below. A new
  // cluster given validators needs no store or PD certificates.
  std::vector<std::pair<std::string, std::string>> add_validators;
  // Subject alternative names of every node certificate: IP addresses or DNS names.
  std::vector<std::string> hosts = {"127.0.0.1", "localhost"};
  int valid_days = 3650;
};

// Writes, PEM, EC P-256 keys, private keys mode 0600: for a new cluster ca.crt, ca.key and the
// certificates above; for an existing one only the add_* certificates, signed by its CA.
// Errors: InvalidArgument for bad options, FailedPrecondition when dir holds a CA and nothing
// is to be added, or a certificate to add exists already (nothing is written then), IOError
// when files cannot be written.
Status CreateClusterCerts(const ClusterCertsOptions& options);

}  // namespace rustorium::rpc
