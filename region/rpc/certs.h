// A cluster's certificates: a CA, and certificates signed by it for every node (mutual TLS
// between stores, PD and validators) and for clients. `rustorium certs create` and the
// playground use this.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace rustorium::rpc {

struct ClusterCertsOptions {
  // Output directory; created when missing. It must not already hold a CA (ca.key): an
  // existing cluster's CA is never overwritten.
  std::string dir;
  // node-1 .. node-N certificates, each usable as TLS server and client.
  int nodes = 3;
  // One client certificate (client.crt / client.key), usable as TLS client only.
  bool client = true;
  // Subject alternative names of every node certificate: IP addresses or DNS names.
  std::vector<std::string> hosts = {"127.0.0.1", "localhost"};
  int valid_days = 3650;
};

// Writes ca.crt, ca.key, node-<i>.crt, node-<i>.key and client.crt, client.key (PEM; EC P-256
// keys; private keys mode 0600). Errors: InvalidArgument for bad options,
// FailedPrecondition when dir already holds a CA, IOError when files cannot be written.
Status CreateClusterCerts(const ClusterCertsOptions& options);

}  // namespace rustorium::rpc
