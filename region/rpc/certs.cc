#include "region/rpc/certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "region/rpc/identity.h"

namespace rustorium::rpc {

namespace {

namespace fs = std::filesystem;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Result<Key> NewKey() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Status::Internal("cannot generate an EC P-256 key");
  return key;
}

// Adds an X509v3 extension given in OpenSSL's config syntax.
Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return Status::InvalidArgument("bad certificate extension: " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::OK() : Status::Internal("cannot add a certificate extension");
}

// A certificate for `key` named `cn`, signed by (issuer, issuer_key), or self-signed when
// issuer is null.
Result<Cert> MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                      int days, const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  if (!cert) return Status::Internal("X509_new failed");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return Status::Internal("RAND_bytes failed");
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Rustorium"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  for (const auto& [nid, value] : extensions) {
    RETURN_IF_ERROR(AddExtension(cert.get(), issuer != nullptr ? issuer : cert.get(), nid, value));
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return Status::Internal("cannot sign the certificate of " + cn);
  }
  return cert;
}

Status WritePem(const fs::path& path, X509* cert, EVP_PKEY* key) {
  if (key != nullptr) {
    // Private keys are created 0600 before anything is written into them.
    std::FILE* f = std::fopen(path.c_str(), "wx");
    if (f == nullptr) return Status::IOError("cannot create " + path.string());
    ::chmod(path.c_str(), 0600);
    const int ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    return ok == 1 ? Status::OK() : Status::IOError("cannot write " + path.string());
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Status::IOError("cannot create " + path.string());
  const int ok = PEM_write_X509(f, cert);
  std::fclose(f);
  return ok == 1 ? Status::OK() : Status::IOError("cannot write " + path.string());
}

// "IP:127.0.0.1,DNS:localhost" from the hosts.
std::string SubjectAltNames(const std::vector<std::string>& hosts) {
  std::string out;
  for (const std::string& h : hosts) {
    if (!out.empty()) out += ",";
    const bool ip =
        h.find_first_not_of("0123456789.") == std::string::npos || h.find(':') != std::string::npos;
    out += (ip ? "IP:" : "DNS:") + h;
  }
  return out;
}

Result<Key> ReadKey(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::FailedPrecondition("cannot read " + path.string());
  Key key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!key) return Status::InvalidArgument(path.string() + " is not a PEM private key");
  return key;
}

Result<Cert> ReadCert(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::FailedPrecondition("cannot read " + path.string());
  Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) return Status::InvalidArgument(path.string() + " is not a PEM certificate");
  return cert;
}

// One certificate to make: its file name (without .crt/.key) and identity.
struct Leaf {
  std::string file;
  PeerRole role;
  uint64_t id;
  std::string name;
};

Status WriteLeaf(const fs::path& dir, const Leaf& leaf, X509* ca, EVP_PKEY* ca_key, int days,
                 const std::string& hosts) {
  const bool node = leaf.role == PeerRole::kStore || leaf.role == PeerRole::kPd ||
                    leaf.role == PeerRole::kValidator;
  std::string sans = "URI:" + IdentityUri(leaf.role, leaf.id, leaf.name);
  if (node) sans += "," + hosts;
  std::vector<std::pair<int, std::string>> ext = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, node ? "serverAuth,clientAuth" : "clientAuth"},
      {NID_subject_alt_name, sans}};
  ASSIGN_OR_RETURN(Key key, NewKey());
  ASSIGN_OR_RETURN(Cert cert, MakeCert(key.get(), leaf.file, ca, ca_key, days, ext));
  RETURN_IF_ERROR(WritePem(dir / (leaf.file + ".key"), nullptr, key.get()));
  return WritePem(dir / (leaf.file + ".crt"), cert.get(), nullptr);
}

}  // namespace

Status CreateClusterCerts(const ClusterCertsOptions& o) {
  if (o.dir.empty()) return Status::InvalidArgument("certificate directory is empty");
  if (o.stores < 0 || o.stores > 1000) return Status::InvalidArgument("stores must be 0..1000");
  if (o.pd_members < 0 || o.pd_members > 7) {
    return Status::InvalidArgument("pd members must be 0..7");
  }
  if (o.valid_days < 1) return Status::InvalidArgument("valid_days must be positive");
  if (o.hosts.empty()) return Status::InvalidArgument("node certificates need at least one host");
  for (const std::string& h : o.hosts) {
    if (h.empty() || h.find_first_of(", \t") != std::string::npos) {
      return Status::InvalidArgument("bad host name '" + h + "'");
    }
  }
  const fs::path dir(o.dir);
  std::error_code ec;
  const bool existing = fs::exists(dir / "ca.key", ec);
  std::vector<Leaf> leaves;
  if (!existing) {
    if (o.stores + o.pd_members == 0 && o.add_validators.empty()) {
      return Status::InvalidArgument("a new cluster needs at least one node certificate");
    }
    for (int i = 1; i <= o.stores; ++i) {
      leaves.push_back({"store-" + std::to_string(i), PeerRole::kStore, uint64_t(i), ""});
    }
    for (int i = 1; i <= o.pd_members; ++i) {
      leaves.push_back({"pd-" + std::to_string(i), PeerRole::kPd, uint64_t(i), ""});
    }
    leaves.push_back({"client", PeerRole::kClient, 0, "client"});
    leaves.push_back({"admin", PeerRole::kAdmin, 0, "admin"});
  }
  auto add_node = [&](PeerRole role, uint64_t id) -> Status {
    if (id == 0 || id > (uint64_t{1} << 63)) {
      return Status::InvalidArgument("a node id is a number 1..2^63");
    }
    leaves.push_back({std::string(RoleName(role)) + "-" + std::to_string(id), role, id, ""});
    return Status::OK();
  };
  for (uint64_t id : o.add_stores) RETURN_IF_ERROR(add_node(PeerRole::kStore, id));
  for (uint64_t id : o.add_pd) RETURN_IF_ERROR(add_node(PeerRole::kPd, id));
  for (const std::string& n : o.add_clients) {
    RETURN_IF_ERROR(CheckUserName(n));
    leaves.push_back({"client-" + n, PeerRole::kClient, 0, n});
  }
  for (const std::string& n : o.add_admins) {
    RETURN_IF_ERROR(CheckUserName(n));
    leaves.push_back({"admin-" + n, PeerRole::kAdmin, 0, n});
  }
  for (const auto& [file, key_hex] : o.add_validators) {
    RETURN_IF_ERROR(CheckValidatorName(key_hex));
    if (file.empty() || file.find_first_of("/\\") != std::string::npos || file[0] == '.') {
      return Status::InvalidArgument("bad certificate file name '" + file + "'");
    }
    leaves.push_back({file, PeerRole::kValidator, 0, key_hex});
  }
  if (existing && leaves.empty()) {
    return Status::FailedPrecondition(o.dir +
                                      " already holds a cluster CA (ca.key); refusing to "
                                      "overwrite it (add certificates with --store, "
                                      "--pd-member, --client, --admin or --validator)");
  }
  std::set<std::string> files;
  for (const Leaf& l : leaves) {
    if (!files.insert(l.file).second) {
      return Status::InvalidArgument("certificate " + l.file + " is asked for twice");
    }
    if (fs::exists(dir / (l.file + ".crt"), ec) || fs::exists(dir / (l.file + ".key"), ec)) {
      return Status::FailedPrecondition(o.dir + " already holds " + l.file +
                                        ".crt or .key; refusing to overwrite it");
    }
  }
  Key ca_key;
  Cert ca;
  if (existing) {
    ASSIGN_OR_RETURN(ca_key, ReadKey(dir / "ca.key"));
    ASSIGN_OR_RETURN(ca, ReadCert(dir / "ca.crt"));
    if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
      return Status::InvalidArgument(o.dir + "/ca.key does not belong to ca.crt");
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + o.dir + ": " + ec.message());
    ASSIGN_OR_RETURN(ca_key, NewKey());
    ASSIGN_OR_RETURN(ca,
                     MakeCert(ca_key.get(), "Rustorium cluster CA", nullptr, nullptr, o.valid_days,
                              {{NID_basic_constraints, "critical,CA:TRUE"},
                               {NID_key_usage, "critical,keyCertSign,cRLSign"},
                               {NID_subject_key_identifier, "hash"}}));
    RETURN_IF_ERROR(WritePem(dir / "ca.key", nullptr, ca_key.get()));
    RETURN_IF_ERROR(WritePem(dir / "ca.crt", ca.get(), nullptr));
  }
  const std::string sans = SubjectAltNames(o.hosts);
  for (const Leaf& l : leaves) {
    RETURN_IF_ERROR(WriteLeaf(dir, l, ca.get(), ca_key.get(), o.valid_days, sans));
  }
  return Status::OK();
}

}  // namespace rustorium::rpc
