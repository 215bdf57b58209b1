// A validator process's configuration: validator.toml (its key, data directory, committee
// file, listen addresses' TLS files and protocol parameters) and the committee file.
//
// committee.toml:
//   [[authority]]
//   name = "<64 hex: ed25519 public key>"
//   stake = 1
//   primary = "127.0.0.1:21000"
//   workers = ["127.0.0.1:21100"]
//
// validator.toml:
//   key_file = "validator-0.key"     # 64 hex characters: the ed25519 seed (rustorium chain keygen)
//   committee = "committee.toml"     # relative paths are relative to validator.toml's directory
//   data_dir = "validator-0"
//   [tls]  ca_file, cert_file, key_file (all three): mutual TLS between validators; the
//          certificate carries rustorium:validator:<this validator's public key hex>
//          or plain = true (and no files): plain TCP, every peer trusted
//   (the section is required: a config that says neither is refused)
//   [parameters] batch_size, max_batch_delay_ms, header_size, max_header_delay_ms, gc_depth,
//                retry_delay_ms, orphan_batch_age_ms, max_unnamed_batch_bytes
#pragma once

#include <string>

#include "base/status.h"
#include "chain/narwhal/committee.h"
#include "chain/narwhal/parameters.h"

namespace rustorium::chain {

struct NodeConfig {
  std::string key_file;
  std::string committee_file;
  std::string data_dir;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool plain = false;  // plain TCP; only when the file says [tls] plain = true
  NarwhalParameters parameters;
};

// InvalidArgument "FILE: section.key: reason" (base/config_file.h) on anything malformed or
// unknown.
Result<NodeConfig> LoadNodeConfig(const std::string& path);
Result<Committee> LoadCommittee(const std::string& path);
// Writes the committee file for `committee` (authorities' addresses included).
std::string CommitteeToToml(const Committee& committee);

}  // namespace rustorium::chain
