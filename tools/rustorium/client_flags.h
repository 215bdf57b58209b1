// The flags every client command shares (`rustorium kv`, `status check`, `bench kv`): where
// PD is (--pd), how to reach the cluster (--certs DIR or --plain), and the client they make.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "region/client.h"

namespace rustorium::tools {

inline constexpr char kDefaultDataDir[] = "./rustorium-data";
inline constexpr char kDefaultPd[] = "127.0.0.1:2479";

struct ClientFlags {
  std::string pd;     // PD members, comma-separated; empty: $RUSTORIUM_PD, then kDefaultPd
  std::string certs;  // directory with ca.crt, client.crt, client.key; empty: kDefaultDataDir/certs
  std::string user;   // non-empty: use client-USER.crt (or admin-USER.crt) from `certs`
  bool plain = false;  // plain TCP, for a cluster configured with plain = true
  bool json = false;
  std::string proof_out;
  std::optional<std::string> timeout;  // --timeout; none: the default budget (ClientOptionsFrom)
  // An operator command (`shard split`): without --user it connects with admin.crt, not
  // client.crt.
  bool admin = false;
};

// Adds --pd, --certs, --user, --plain and --timeout to `cmd`, bound to `f` (which must outlive
// the parse).
void AddClientFlags(CLI::App* cmd, ClientFlags& f);

// The bounds of --timeout.
inline constexpr std::chrono::milliseconds kMinClientTimeout{10};
inline constexpr std::chrono::milliseconds kMaxClientTimeout = std::chrono::hours(1);

// A --timeout value: digits and a unit, `ms`, `s`, `m` or `h` (`500ms`, `5s`, `2m`), between
// kMinClientTimeout and kMaxClientTimeout. InvalidArgument naming the flag otherwise (a bare
// number included: its unit would be a guess).
Result<std::chrono::milliseconds> ParseClientTimeout(const std::string& text);

// The client options the flags describe: PD members (PdMembersFlag; the client fails over
// between them), TLS from the certificates (unless plain), and the retry budget: without --timeout
// up to 8 attempts within 10 s, each RPC waiting at most 3 s; with --timeout D, attempts until D
// has passed, each RPC waiting at most min(3 s, D). InvalidArgument when an address or --timeout is
// malformed or the certificates are missing.
Result<client::ClientOptions> ClientOptionsFrom(const ClientFlags& f);

// OK when `address` is host:port (rpc::CheckAddress); otherwise InvalidArgument "FLAG 'ADDRESS'
// is not host:port[: why]", the address quoted and bounded (QuoteInput).
Status CheckAddressFlag(std::string_view flag, const std::string& address);

// The PD members of a comma-separated list ("a:2479,b:2479"), each checked by CheckAddressFlag
// (the first bad one is named; an empty entry is one).
Result<std::vector<std::string>> PdMembersFlag(std::string_view flag, const std::string& list);

// `s`, an error of a client command, said as what to do next: a refused connection is
// "unreachable: ADDR (is the cluster running? …)", and TLS mismatches (--plain against a TLS
// cluster, TLS against a plain one, certificates of another CA) name the cause and the flag
// that fixes it. Other errors are returned as they are.
Status Explain(const ClientFlags& f, const Status& s);

// Fail(Explain(f, s)).
int FailClient(const ClientFlags& f, const Status& s);

// Connects a client with ClientOptionsFrom(f).
Result<std::unique_ptr<client::Client>> MakeClient(const ClientFlags& f);

}  // namespace rustorium::tools
