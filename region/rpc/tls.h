// TLS 1.3 for the RPC library through OpenSSL memory BIOs, so encryption runs on the same
// event loop as the sockets: the connection moves ciphertext between the socket and the
// session, and frames between the session and the frame codec.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "region/rpc/identity.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace rustorium::rpc {

struct TlsOptions {
  std::string ca_file;    // the cluster CA that must have signed the peer's certificate
  std::string cert_file;  // our certificate (required for servers; for mutual TLS on clients)
  std::string key_file;
  // Servers: demand and verify a client certificate (mutual TLS between nodes). Clients
  // always verify the server's certificate and its name (IP or DNS) against the address.
  bool require_client_cert = false;
};

// An SSL_CTX with our settings: TLS 1.3 only, peer verification against the cluster CA.
class TlsContext {
 public:
  // InvalidArgument when a file is missing or does not parse, or key and certificate differ.
  static Result<std::shared_ptr<TlsContext>> CreateServer(const TlsOptions& options);
  static Result<std::shared_ptr<TlsContext>> CreateClient(const TlsOptions& options);
  ~TlsContext();
  SSL_CTX* ctx() const { return ctx_; }
  bool server() const { return server_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  static Result<std::shared_ptr<TlsContext>> Create(const TlsOptions& options, bool server);
  SSL_CTX* ctx_;
  bool server_;
};

// One connection's TLS state. Not thread-safe (one loop thread).
class TlsSession {
 public:
  // `peer_host` (clients only): the IP address or DNS name the server's certificate must name;
  // a certificate that does not fails the handshake with "the peer's certificate does not name
  // 'HOST', the host dialled".
  TlsSession(const TlsContext& context, const std::string& peer_host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Starts the handshake (clients): ciphertext to send is appended to `out`.
  Status Start(std::string& out);
  // Takes ciphertext from the network: plaintext is appended to `plain`, ciphertext to send
  // (handshake replies) to `out`. A failed handshake or a bad record is IOError.
  Status OnCiphertext(std::string_view in, std::string& plain, std::string& out);
  // Encrypts `plain` into `out`; before the handshake completes the plaintext is held back
  // and sent once it does.
  Status Write(std::string_view plain, std::string& out);
  bool established() const { return established_; }
  // The identity in the peer's verified certificate, once established() (role kNone before,
  // and for a peer that showed no certificate or one without a valid identity).
  const PeerIdentity& peer() const { return peer_; }

 private:
  Status Pump(std::string& plain, std::string& out);
  void DrainOut(std::string& out);

  std::string peer_host_;  // clients: the host dialled
  SSL* ssl_;
  BIO* in_;   // network -> SSL (owned by ssl_)
  BIO* out_;  // SSL -> network (owned by ssl_)
  bool established_ = false;
  PeerIdentity peer_;
  std::string held_;  // plaintext written before the handshake completed
};

}  // namespace rustorium::rpc
