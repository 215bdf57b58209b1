#include "region/rpc/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/quote.h"

namespace rustorium::rpc {

namespace {

std::string OpenSslError() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// Why a handshake failed, in one readable phrase instead of OpenSSL's error stack: the peer's
// certificate does not name `peer_host`, or did not verify, the peer does not speak TLS, or
// the first error's reason.
std::string HandshakeError(SSL* ssl, const std::string& peer_host) {
  const unsigned long first = ERR_peek_error();
  const long verify = SSL_get_verify_result(ssl);
  ERR_clear_error();
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return "the peer's certificate does not name " + QuoteInput(peer_host) + ", the host dialled";
  }
  if (verify != X509_V_OK) {
    return std::string("the peer's certificate does not verify against our CA (") +
           X509_verify_cert_error_string(verify) + ")";
  }
  if (first == 0) return "the peer closed the connection during the handshake";
  const int reason = ERR_GET_REASON(first);
  if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
      reason == SSL_R_RECORD_LENGTH_MISMATCH) {
    return "the peer does not speak TLS";
  }
  if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
      reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
    return "the peer refused our certificate (not signed by its CA, or none given)";
  }
  const char* why = ERR_reason_error_string(first);
  return why != nullptr ? why : "unknown TLS error";
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::shared_ptr<TlsContext>> TlsContext::CreateServer(const TlsOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return Status::InvalidArgument("a TLS server needs cert_file and key_file");
  }
  return Create(options, true);
}

Result<std::shared_ptr<TlsContext>> TlsContext::CreateClient(const TlsOptions& options) {
  return Create(options, false);
}

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsOptions& o, bool server) {
  if (o.ca_file.empty()) return Status::InvalidArgument("TLS needs the cluster CA (ca_file)");
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  auto fail = [ctx](const std::string& what) {
    SSL_CTX_free(ctx);
    return Status::InvalidArgument(what + ": " + OpenSslError());
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
    return fail("cannot load CA " + o.ca_file);
  }
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
      return fail("cannot load certificate " + o.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail("cannot load key " + o.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) return fail("key does not match " + o.cert_file);
  }
  int mode = SSL_VERIFY_PEER;
  if (server && o.require_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (server && !o.require_client_cert) mode = SSL_VERIFY_NONE;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, server));
}

TlsSession::TlsSession(const TlsContext& context, const std::string& peer_host)
    : peer_host_(peer_host) {
  ssl_ = SSL_new(context.ctx());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, in_, out_);
  if (context.server()) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, peer_host.c_str()) != 1) {
      X509_VERIFY_PARAM_set1_host(param, peer_host.c_str(), 0);
      SSL_set_tlsext_host_name(ssl_, peer_host.c_str());
    }
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::DrainOut(std::string& out) {
  char buf[16384];
  for (int n; (n = BIO_read(out_, buf, sizeof(buf))) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
}

Status TlsSession::Start(std::string& out) {
  std::string plain;
  return Pump(plain, out);
}

Status TlsSession::Pump(std::string& plain, std::string& out) {
  ERR_clear_error();
  if (!established_) {
    const int rc = SSL_do_handshake(ssl_);
    DrainOut(out);
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::OK();
      return Status::IOError("TLS handshake failed: " + HandshakeError(ssl_, peer_host_));
    }
    established_ = true;
    // Only a certificate the handshake verified against the cluster CA names anyone.
    X509* cert = SSL_get0_peer_certificate(ssl_);
    if (cert != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK) {
      Result<PeerIdentity> id = IdentityOf(cert);
      if (id.ok()) peer_ = *id;  // a malformed identity names no one (role kNone)
    }
    if (!held_.empty()) {
      std::string held;
      held.swap(held_);
      RETURN_IF_ERROR(Write(held, out));
    }
  }
  char buf[16384];
  for (;;) {
    const int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      plain.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    DrainOut(out);  // session tickets and key updates
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::OK();
    if (err == SSL_ERROR_ZERO_RETURN) return Status::Aborted("peer closed the TLS session");
    return Status::IOError("TLS read failed: " + OpenSslError());
  }
}

Status TlsSession::OnCiphertext(std::string_view in, std::string& plain, std::string& out) {
  if (!in.empty() && BIO_write(in_, in.data(), static_cast<int>(in.size())) <= 0) {
    return Status::Internal("BIO_write failed");
  }
  return Pump(plain, out);
}

Status TlsSession::Write(std::string_view plain, std::string& out) {
  if (!established_) {
    held_.append(plain);
    return Status::OK();
  }
  ERR_clear_error();
  while (!plain.empty()) {
    const int n = SSL_write(ssl_, plain.data(),
                            static_cast<int>(std::min<std::size_t>(plain.size(), 1 << 20)));
    if (n <= 0) return Status::IOError("TLS write failed: " + OpenSslError());
    plain.remove_prefix(static_cast<std::size_t>(n));
    DrainOut(out);
  }
  return Status::OK();
}

}  // namespace rustorium::rpc
