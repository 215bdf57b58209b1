#include "region/rpc/identity.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <cstdio>
#include <memory>

namespace rustorium::rpc {

namespace {

constexpr std::string_view kScheme = "rustorium:";
constexpr std::size_t kMaxUserName = 64;

bool RoleFromName(std::string_view name, PeerRole* role) {
  for (PeerRole r : {PeerRole::kStore, PeerRole::kPd, PeerRole::kClient, PeerRole::kAdmin,
                     PeerRole::kValidator}) {
    if (RoleName(r) == name) {
      *role = r;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view RoleName(PeerRole role) {
  switch (role) {
    case PeerRole::kNone:
      return "none";
    case PeerRole::kStore:
      return "store";
    case PeerRole::kPd:
      return "pd";
    case PeerRole::kClient:
      return "client";
    case PeerRole::kAdmin:
      return "admin";
    case PeerRole::kValidator:
      return "validator";
  }
  return "none";
}

std::string PeerIdentity::ToString() const {
  if (trusted) return "plain TCP peer";
  switch (role) {
    case PeerRole::kNone:
      return "certificate without a Rustorium identity";
    case PeerRole::kStore:
    case PeerRole::kPd:
      return std::string(RoleName(role)) + " " + std::to_string(id);
    case PeerRole::kClient:
    case PeerRole::kAdmin:
      return std::string(RoleName(role)) + " " + name;
    case PeerRole::kValidator:
      return "validator " + name.substr(0, 16);
  }
  return "unknown";
}

Status CheckUserName(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserName) {
    return Status::InvalidArgument("a user name has 1.." + std::to_string(kMaxUserName) +
                                   " characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return Status::InvalidArgument("a user name is made of A-Z a-z 0-9 . _ -");
  }
  return Status::OK();
}

Status CheckValidatorName(std::string_view name) {
  if (name.size() != 64 || name.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Status::InvalidArgument(
        "a validator name is its public key: 64 lower-case hex characters");
  }
  return Status::OK();
}

std::string IdentityUri(PeerRole role, uint64_t id, std::string_view name) {
  std::string out(kScheme);
  out += RoleName(role);
  out += ':';
  if (role == PeerRole::kStore || role == PeerRole::kPd) {
    out += std::to_string(id);
  } else {
    out += name;
  }
  return out;
}

Result<PeerIdentity> ParseIdentityUri(std::string_view uri) {
  const std::string shown(uri.substr(0, 100));
  auto bad = [&shown](const std::string& why) {
    return Status::InvalidArgument("identity '" + shown + "': " + why);
  };
  if (uri.substr(0, kScheme.size()) != kScheme) return bad("not a rustorium: URI");
  uri.remove_prefix(kScheme.size());
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return bad("no role:id");
  PeerIdentity out;
  if (!RoleFromName(uri.substr(0, colon), &out.role)) return bad("unknown role");
  const std::string_view rest = uri.substr(colon + 1);
  if (out.role == PeerRole::kStore || out.role == PeerRole::kPd) {
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
    if (ec != std::errc() || end != rest.data() + rest.size() || id == 0 ||
        id > (uint64_t{1} << 63) || rest[0] == '0') {
      return bad("a node id is a number 1..2^63");
    }
    out.id = id;
  } else {
    Status s = out.role == PeerRole::kValidator ? CheckValidatorName(rest) : CheckUserName(rest);
    if (!s.ok()) return bad(s.message());
    out.name = std::string(rest);
  }
  return out;
}

Result<PeerIdentity> IdentityOf(X509* cert) {
  PeerIdentity out;
  if (cert == nullptr) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  bool found = false;
  Status error;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    const std::string_view uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(ASN1_STRING_length(s)));
    if (uri.substr(0, kScheme.size()) != kScheme) continue;
    if (found) {
      error = Status::InvalidArgument("a certificate carries more than one rustorium identity");
      break;
    }
    Result<PeerIdentity> parsed = ParseIdentityUri(uri);
    if (!parsed.ok()) {
      error = parsed.status();
      break;
    }
    out = *parsed;
    found = true;
  }
  GENERAL_NAMES_free(names);
  if (!error.ok()) return error;
  return out;
}

Result<PeerIdentity> CertificateIdentity(const std::string& cert_file) {
  std::FILE* f = std::fopen(cert_file.c_str(), "r");
  if (f == nullptr) return Status::InvalidArgument("cannot open certificate " + cert_file);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return Status::InvalidArgument(cert_file + " is not a PEM certificate");
  Result<PeerIdentity> id = IdentityOf(cert);
  X509_free(cert);
  if (!id.ok()) return id.status().WithContext(cert_file);
  if (id->role == PeerRole::kNone) {
    return Status::InvalidArgument(cert_file +
                                   " carries no rustorium identity (make it with `rustorium certs "
                                   "create`)");
  }
  return id;
}

}  // namespace rustorium::rpc
