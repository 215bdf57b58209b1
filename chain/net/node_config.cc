#include "chain/net/node_config.h"

#include <filesystem>
#include <sstream>
#include <string_view>

#include "base/codec.h"
#include "base/config_file.h"
#include "base/quote.h"
#include "chain/narwhal/worker.h"

namespace rustorium::chain {
namespace {

std::string Resolve(const std::string& base_file, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / path).string();
}

}  // namespace

Result<NodeConfig> LoadNodeConfig(const std::string& path) {
  ASSIGN_OR_RETURN(ConfigTable t, ConfigTable::Open(path));
  RETURN_IF_ERROR(t.AllowOnly({"key_file", "committee", "data_dir", "tls", "parameters"}));
  NodeConfig c;
  RETURN_IF_ERROR(t.ReadRequired("key_file", c.key_file));
  RETURN_IF_ERROR(t.ReadRequired("committee", c.committee_file));
  RETURN_IF_ERROR(t.ReadRequired("data_dir", c.data_dir));
  // [tls]: certificate files, or plain = true (as in pd.toml and store.toml).
  ASSIGN_OR_RETURN(std::optional<ConfigTable> tls, t.Table("tls"));
  if (!tls.has_value()) {
    return t.Bad("tls", "is missing: give ca_file, cert_file and key_file, or plain = true");
  }
  RETURN_IF_ERROR(tls->AllowOnly({"ca_file", "cert_file", "key_file", "plain"}));
  RETURN_IF_ERROR(tls->Read("plain", c.plain));
  if (c.plain) {
    for (std::string_view key : {"ca_file", "cert_file", "key_file"}) {
      if (tls->Has(key)) return tls->Bad(key, "is not used with plain = true");
    }
  } else {
    RETURN_IF_ERROR(tls->ReadRequired("ca_file", c.tls_ca_file));
    RETURN_IF_ERROR(tls->ReadRequired("cert_file", c.tls_cert_file));
    RETURN_IF_ERROR(tls->ReadRequired("key_file", c.tls_key_file));
  }
  ASSIGN_OR_RETURN(ConfigTable p, t.Section("parameters"));
  RETURN_IF_ERROR(p.AllowOnly({"batch_size", "max_batch_delay_ms", "header_size",
                               "max_header_delay_ms", "gc_depth", "retry_delay_ms",
                               "orphan_batch_age_ms", "max_unnamed_batch_bytes"}));
  NarwhalParameters& q = c.parameters;
  RETURN_IF_ERROR(p.Read("batch_size", q.batch_size));
  RETURN_IF_ERROR(p.Read("max_batch_delay_ms", q.max_batch_delay_ms));
  RETURN_IF_ERROR(p.Read("header_size", q.header_size));
  RETURN_IF_ERROR(p.Read("max_header_delay_ms", q.max_header_delay_ms));
  RETURN_IF_ERROR(p.Read("gc_depth", q.gc_depth, decltype(q.gc_depth){1}));
  RETURN_IF_ERROR(p.Read("retry_delay_ms", q.retry_delay_ms, decltype(q.retry_delay_ms){1}));
  RETURN_IF_ERROR(
      p.Read("orphan_batch_age_ms", q.orphan_batch_age_ms, decltype(q.orphan_batch_age_ms){1}));
  RETURN_IF_ERROR(p.Read("max_unnamed_batch_bytes", q.max_unnamed_batch_bytes));
  if (const size_t least = Worker::MaxChargedBytes(q.batch_size);
      q.max_unnamed_batch_bytes < least) {
    return p.Bad("max_unnamed_batch_bytes", "must hold one full batch of batch_size " +
                                                std::to_string(q.batch_size) + ", " +
                                                std::to_string(least) + " bytes, not " +
                                                std::to_string(q.max_unnamed_batch_bytes));
  }
  c.key_file = Resolve(path, c.key_file);
  c.committee_file = Resolve(path, c.committee_file);
  c.data_dir = Resolve(path, c.data_dir);
  c.tls_ca_file = Resolve(path, c.tls_ca_file);
  c.tls_cert_file = Resolve(path, c.tls_cert_file);
  c.tls_key_file = Resolve(path, c.tls_key_file);
  return c;
}

Result<Committee> LoadCommittee(const std::string& path) {
  ASSIGN_OR_RETURN(ConfigTable t, ConfigTable::Open(path));
  RETURN_IF_ERROR(t.AllowOnly({"authority"}));
  ASSIGN_OR_RETURN(std::vector<ConfigTable> list, t.Tables("authority"));
  if (list.empty()) return t.Bad("authority", "no [[authority]] entries");
  std::vector<Authority> authorities;
  for (const ConfigTable& a : list) {
    RETURN_IF_ERROR(a.AllowOnly({"name", "stake", "primary", "workers"}));
    Authority out;
    std::string name_hex, name;
    RETURN_IF_ERROR(a.ReadRequired("name", name_hex));
    if (name_hex.size() != 64 || !DecodeHex(name_hex, name)) {
      return a.Bad("name", QuoteInput(name_hex) + " is not 64 hex characters");
    }
    std::copy(name.begin(), name.end(), out.name.begin());
    RETURN_IF_ERROR(a.Read("stake", out.stake));
    RETURN_IF_ERROR(a.ReadRequired("primary", out.primary_address));
    RETURN_IF_ERROR(a.ReadRequired("workers", out.worker_addresses));
    if (out.worker_addresses.empty()) return a.Bad("workers", "must name at least one address");
    out.workers = static_cast<uint32_t>(out.worker_addresses.size());
    authorities.push_back(std::move(out));
  }
  auto committee = Committee::Create(std::move(authorities));
  if (!committee.ok()) return committee.status().WithContext(path);
  return committee;
}

std::string CommitteeToToml(const Committee& committee) {
  std::ostringstream out;
  for (const Authority& a : committee.authorities()) {
    out << "[[authority]]\nname = \"" << EncodeHex(AsBytes(a.name)) << "\"\nstake = " << a.stake
        << "\nprimary = \"" << a.primary_address << "\"\nworkers = [";
    for (size_t i = 0; i < a.worker_addresses.size(); ++i) {
      out << (i ? ", " : "") << "\"" << a.worker_addresses[i] << "\"";
    }
    out << "]\n\n";
  }
  return out.str();
}

}  // namespace rustorium::chain
