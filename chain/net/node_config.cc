#include "chain/net/node_config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <sstream>

#include "base/codec.h"

namespace rustorium::chain {
namespace {

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": " + what);
}

Result<toml::table> ParseFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Bad(path, std::string(e.description()));
  }
}

std::string Resolve(const std::string& base_file, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / path).string();
}

template <typename T>
Status ReadUnsigned(const toml::table& t, const std::string& path, std::string_view key, T& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return Status::OK();
  auto v = node->value<int64_t>();
  if (!v || *v < 0) return Bad(path, std::string(key) + " must be a non-negative integer");
  out = static_cast<T>(*v);
  return Status::OK();
}

Status ReadString(const toml::table& t, const std::string& path, std::string_view key,
                  std::string& out, bool required) {
  const toml::node* node = t.get(key);
  if (node == nullptr)
    return required ? Bad(path, std::string(key) + " is required") : Status::OK();
  auto v = node->value<std::string>();
  if (!v) return Bad(path, std::string(key) + " must be a string");
  out = *v;
  return Status::OK();
}

}  // namespace

Result<NodeConfig> LoadNodeConfig(const std::string& path) {
  ASSIGN_OR_RETURN(toml::table t, ParseFile(path));
  NodeConfig c;
  for (const auto& [key, value] : t) {
    const std::string k(key.str());
    if (k != "key_file" && k != "committee" && k != "data_dir" && k != "tls" && k != "parameters") {
      return Bad(path, "unknown key " + k);
    }
  }
  RETURN_IF_ERROR(ReadString(t, path, "key_file", c.key_file, true));
  RETURN_IF_ERROR(ReadString(t, path, "committee", c.committee_file, true));
  RETURN_IF_ERROR(ReadString(t, path, "data_dir", c.data_dir, true));
  if (const toml::table* tls = t["tls"].as_table()) {
    RETURN_IF_ERROR(ReadString(*tls, path, "ca_file", c.tls_ca_file, true));
    RETURN_IF_ERROR(ReadString(*tls, path, "cert_file", c.tls_cert_file, true));
    RETURN_IF_ERROR(ReadString(*tls, path, "key_file", c.tls_key_file, true));
  }
  if (const toml::table* p = t["parameters"].as_table()) {
    NarwhalParameters& q = c.parameters;
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "batch_size", q.batch_size));
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "max_batch_delay_ms", q.max_batch_delay_ms));
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "header_size", q.header_size));
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "max_header_delay_ms", q.max_header_delay_ms));
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "gc_depth", q.gc_depth));
    RETURN_IF_ERROR(ReadUnsigned(*p, path, "retry_delay_ms", q.retry_delay_ms));
    if (q.gc_depth == 0 || q.retry_delay_ms == 0)
      return Bad(path, "gc_depth and retry_delay_ms must be positive");
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
  ASSIGN_OR_RETURN(toml::table t, ParseFile(path));
  const toml::array* list = t["authority"].as_array();
  if (list == nullptr) return Bad(path, "no [[authority]] entries");
  std::vector<Authority> authorities;
  for (const toml::node& node : *list) {
    const toml::table* a = node.as_table();
    if (a == nullptr) return Bad(path, "[[authority]] must be tables");
    Authority out;
    std::string name_hex, name;
    RETURN_IF_ERROR(ReadString(*a, path, "name", name_hex, true));
    if (name_hex.size() != 64 || !DecodeHex(name_hex, name))
      return Bad(path, "name must be 64 hex characters");
    std::copy(name.begin(), name.end(), out.name.begin());
    RETURN_IF_ERROR(ReadUnsigned(*a, path, "stake", out.stake));
    RETURN_IF_ERROR(ReadString(*a, path, "primary", out.primary_address, true));
    const toml::array* workers = (*a)["workers"].as_array();
    if (workers == nullptr || workers->empty())
      return Bad(path, "workers must be a non-empty array of addresses");
    for (const toml::node& w : *workers) {
      auto address = w.value<std::string>();
      if (!address) return Bad(path, "workers must be strings");
      out.worker_addresses.push_back(*address);
    }
    out.workers = static_cast<uint32_t>(out.worker_addresses.size());
    authorities.push_back(std::move(out));
  }
  auto committee = Committee::Create(std::move(authorities));
  if (!committee.ok()) return Bad(path, committee.status().message());
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
