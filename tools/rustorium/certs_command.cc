#include "tools/rustorium/certs_command.h"

#include <iostream>
#include <memory>

#include "region/rpc/certs.h"
#include "tools/rustorium/exit_code.h"

namespace rustorium::tools {

void RegisterCertsCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<rpc::ClusterCertsOptions>();
  CLI::App* certs = app.add_subcommand("certs", "TLS certificates of a cluster");
  certs->require_subcommand(1);
  CLI::App* create = certs->add_subcommand(
      "create", "Write a cluster CA and certificates for N nodes and a client into DIR");
  create->add_option("--dir", options->dir, "Output directory (must not hold a CA yet)")
      ->required();
  create->add_option("--nodes", options->nodes, "Node certificates to make")->capture_default_str();
  create
      ->add_option("--host", options->hosts,
                   "IP address or DNS name in every node certificate (repeatable)")
      ->capture_default_str();
  create->add_option("--days", options->valid_days, "Validity in days")->capture_default_str();
  create->callback([options, &exit_code] {
    Status s = rpc::CreateClusterCerts(*options);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    std::cout << "wrote ca.crt, ca.key, node-1.." << options->nodes
              << " and client certificates to " << options->dir << "\n";
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
