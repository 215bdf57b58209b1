#include "tools/rustorium/certs_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "region/rpc/certs.h"
#include "tools/rustorium/exit_code.h"

namespace rustorium::tools {
namespace {

// One --validator value, "NAME=PUBKEYHEX": the certificate's file name (NAME.crt, NAME.key) and
// the validator's ed25519 public key as `rustorium chain keygen` prints it (64 hex digits,
// either case; the certificate carries it in lower case). InvalidArgument naming the value
// otherwise (file names are checked by CreateClusterCerts).
Result<std::pair<std::string, std::string>> ParseValidatorFlag(const std::string& value) {
  const size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("--validator '" + value +
                                   "': expected NAME=PUBKEYHEX (a certificate file name, then the "
                                   "validator's public key)");
  }
  std::string key = value.substr(eq + 1);
  for (char& c : key) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  const bool hex = key.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (key.size() != 64 || !hex) {
    return Status::InvalidArgument("--validator '" + value +
                                   "': the public key must be 64 hex digits (an ed25519 key, as "
                                   "`rustorium chain keygen` prints it), not " +
                                   std::to_string(key.size()) + " characters" +
                                   (hex ? "" : " with non-hex ones"));
  }
  return std::make_pair(value.substr(0, eq), std::move(key));
}

}  // namespace

void RegisterCertsCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<rpc::ClusterCertsOptions>();
  CLI::App* certs = app.add_subcommand("certs", "TLS certificates of a cluster");
  certs->require_subcommand(1);
  CLI::App* create = certs->add_subcommand(
      "create",
      "Write a cluster CA and node, client and admin certificates into DIR; or, when DIR holds "
      "a CA, add the certificates named by --store, --pd-member, --client, --admin and "
      "--validator");
  create->add_option("--dir", options->dir, "Output directory")->required();
  create->add_option("--stores", options->stores, "A new cluster's store certificates store-1..N")
      ->capture_default_str();
  create
      ->add_option("--pd-members", options->pd_members,
                   "A new cluster's PD member certificates pd-1..M")
      ->capture_default_str();
  create->add_option("--store", options->add_stores,
                     "Also a certificate for store ID (store-ID; repeatable)");
  create->add_option("--pd-member", options->add_pd,
                     "Also a certificate for PD member ID (pd-ID; repeatable)");
  create->add_option("--client", options->add_clients,
                     "Also a client certificate for user NAME (client-NAME; repeatable)");
  create->add_option("--admin", options->add_admins,
                     "Also an admin certificate for user NAME (admin-NAME; repeatable)");
  auto validators = std::make_shared<std::vector<std::string>>();
  create->add_option("--validator", *validators,
                     "Also a chain validator's certificate NAME.crt carrying "
                     "rustorium:validator:PUBKEYHEX (NAME=PUBKEYHEX; repeatable)");
  create
      ->add_option("--host", options->hosts,
                   "IP address or DNS name in every node certificate (repeatable)")
      ->capture_default_str();
  create->add_option("--days", options->valid_days, "Validity in days")->capture_default_str();
  create->callback([options, validators, &exit_code] {
    for (const std::string& value : *validators) {
      auto parsed = ParseValidatorFlag(value);
      if (!parsed.ok()) {
        exit_code = Fail(parsed.status());
        return;
      }
      options->add_validators.push_back(std::move(parsed).value());
    }
    const bool existing = std::filesystem::exists(options->dir + "/ca.key");
    Status s = rpc::CreateClusterCerts(*options);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    std::vector<std::string> made;
    if (!existing) {
      made.push_back("ca.crt, ca.key");
      if (options->stores > 0) made.push_back("store-1.." + std::to_string(options->stores));
      if (options->pd_members > 0) made.push_back("pd-1.." + std::to_string(options->pd_members));
      made.push_back("client, admin");
    }
    for (uint64_t id : options->add_stores) made.push_back("store-" + std::to_string(id));
    for (uint64_t id : options->add_pd) made.push_back("pd-" + std::to_string(id));
    for (const std::string& n : options->add_clients) made.push_back("client-" + n);
    for (const std::string& n : options->add_admins) made.push_back("admin-" + n);
    for (const auto& [file, key] : options->add_validators) made.push_back(file);
    std::string list;
    for (const std::string& m : made) list += (list.empty() ? "" : ", ") + m;
    std::cout << "wrote " << list << " (.crt and .key) to " << options->dir << "\n";
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
