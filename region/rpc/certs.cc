#include "region/rpc/certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

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

}  // namespace

Status CreateClusterCerts(const ClusterCertsOptions& o) {
  if (o.dir.empty()) return Status::InvalidArgument("certificate directory is empty");
  if (o.nodes < 1 || o.nodes > 1000) return Status::InvalidArgument("nodes must be 1..1000");
  if (o.valid_days < 1) return Status::InvalidArgument("valid_days must be positive");
  if (o.hosts.empty()) return Status::InvalidArgument("node certificates need at least one host");
  for (const std::string& h : o.hosts) {
    if (h.empty() || h.find_first_of(", \t") != std::string::npos) {
      return Status::InvalidArgument("bad host name '" + h + "'");
    }
  }
  const fs::path dir(o.dir);
  std::error_code ec;
  if (fs::exists(dir / "ca.key", ec)) {
    return Status::FailedPrecondition(o.dir +
                                      " already holds a cluster CA (ca.key); refusing to "
                                      "overwrite it");
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + o.dir + ": " + ec.message());

  ASSIGN_OR_RETURN(Key ca_key, NewKey());
  ASSIGN_OR_RETURN(Cert ca,
                   MakeCert(ca_key.get(), "Rustorium cluster CA", nullptr, nullptr, o.valid_days,
                            {{NID_basic_constraints, "critical,CA:TRUE"},
                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                             {NID_subject_key_identifier, "hash"}}));
  RETURN_IF_ERROR(WritePem(dir / "ca.key", nullptr, ca_key.get()));
  RETURN_IF_ERROR(WritePem(dir / "ca.crt", ca.get(), nullptr));

  const std::string sans = SubjectAltNames(o.hosts);
  for (int i = 1; i <= o.nodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    ASSIGN_OR_RETURN(Key key, NewKey());
    ASSIGN_OR_RETURN(Cert cert, MakeCert(key.get(), name, ca.get(), ca_key.get(), o.valid_days,
                                         {{NID_basic_constraints, "critical,CA:FALSE"},
                                          {NID_key_usage, "critical,digitalSignature"},
                                          {NID_ext_key_usage, "serverAuth,clientAuth"},
                                          {NID_subject_alt_name, sans}}));
    RETURN_IF_ERROR(WritePem(dir / (name + ".key"), nullptr, key.get()));
    RETURN_IF_ERROR(WritePem(dir / (name + ".crt"), cert.get(), nullptr));
  }
  if (o.client) {
    ASSIGN_OR_RETURN(Key key, NewKey());
    ASSIGN_OR_RETURN(Cert cert, MakeCert(key.get(), "client", ca.get(), ca_key.get(), o.valid_days,
                                         {{NID_basic_constraints, "critical,CA:FALSE"},
                                          {NID_key_usage, "critical,digitalSignature"},
                                          {NID_ext_key_usage, "clientAuth"}}));
    RETURN_IF_ERROR(WritePem(dir / "client.key", nullptr, key.get()));
    RETURN_IF_ERROR(WritePem(dir / "client.crt", cert.get(), nullptr));
  }
  return Status::OK();
}

}  // namespace rustorium::rpc
