// Who is on the other end of a connection, as its certificate says.
//
// A cluster certificate made by `rustorium certs create` carries one identity as a URI in its
// subject alternative names: "rustorium:store:3", "rustorium:pd:1", "rustorium:client:alice",
// "rustorium:admin:bob", and for a chain validator its ed25519 public key in lower-case hex,
// "rustorium:validator:<64 hex>". Under TLS the server reads it from the verified peer certificate
// and hands it to every handler; on plain TCP nothing is verified and every peer is trusted
// (PeerIdentity::trusted), which is why plain TCP is never the default.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct x509_st X509;

namespace rustorium::rpc {

// What a certificate lets its holder be.
enum class PeerRole : uint8_t {
  kNone = 0,  // no certificate, or one without a Rustorium identity
  kStore = 1,
  kPd = 2,
  kClient = 3,
  kAdmin = 4,
  kValidator = 5,  // a chain validator (chain/): its name is its public key, 64 lower-case hex
};

// A set of roles (bit 1 << role), for who may call a method.
using RoleSet = uint32_t;
constexpr RoleSet Roles(PeerRole role) { return RoleSet{1} << static_cast<unsigned>(role); }
constexpr RoleSet operator|(PeerRole a, PeerRole b) { return Roles(a) | Roles(b); }
constexpr RoleSet operator|(RoleSet a, PeerRole b) { return a | Roles(b); }
// Every peer, certificate or not (the default of RpcServer::Handle).
inline constexpr RoleSet kAnyPeer = ~RoleSet{0};

// The lower-case name of a role in identity URIs and messages ("store", "client", ...).
std::string_view RoleName(PeerRole role);

struct PeerIdentity {
  // False for a TLS connection; true on plain TCP, where nothing is verified and every peer
  // is taken at its word (docs/operations.md).
  bool trusted = false;
  PeerRole role = PeerRole::kNone;
  uint64_t id = 0;   // kStore, kPd: the node's id (> 0)
  std::string name;  // kClient, kAdmin: the user's name; kValidator: the public key, hex

  static PeerIdentity Plain() { return PeerIdentity{true, PeerRole::kNone, 0, {}}; }
  // True when the peer may act as node `id` of `role`: a verified certificate of that role
  // and id, or a trusted (plain TCP) peer.
  bool Is(PeerRole r, uint64_t node_id) const {
    return trusted || (role == r && id == node_id && node_id != 0);
  }
  // "store 3", "client alice", "plain TCP peer", "certificate without an identity".
  std::string ToString() const;
};

// "rustorium:store:3" for (kStore, 3, ""); "rustorium:client:alice" for (kClient, 0, "alice").
std::string IdentityUri(PeerRole role, uint64_t id, std::string_view name);
// The identity an identity URI names; InvalidArgument when it is not one (wrong scheme, an
// unknown role, a node id that is not 1..2^63, a user name that is not 1..64 of
// [A-Za-z0-9._-], a validator name that is not 64 of [0-9a-f]).
Result<PeerIdentity> ParseIdentityUri(std::string_view uri);
// OK when `name` may be a client or admin name (1..64 of [A-Za-z0-9._-]).
Status CheckUserName(std::string_view name);
// OK when `name` may be a validator's name (64 of [0-9a-f]: an ed25519 public key).
Status CheckValidatorName(std::string_view name);

// The identity in the certificate file `cert_file` (PEM), for a node to learn its own id.
// InvalidArgument when the file does not parse or carries no identity URI.
Result<PeerIdentity> CertificateIdentity(const std::string& cert_file);
// The identity in a parsed certificate (not trusted: callers verify the certificate first).
// A certificate with no identity URI is a PeerIdentity with role kNone; one with two is
// InvalidArgument.
Result<PeerIdentity> IdentityOf(X509* cert);

}  // namespace rustorium::rpc
