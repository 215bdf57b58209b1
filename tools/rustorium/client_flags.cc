#include "tools/rustorium/client_flags.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/quote.h"
#include "region/rpc/channel.h"
#include "region/rpc/identity.h"
#include "tools/rustorium/cluster_config.h"
#include "tools/rustorium/exit_code.h"

namespace rustorium::tools {

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--pd", f.pd,
                  "PD members, host:port[,host:port...] (default: $RUSTORIUM_PD, then "
                  "127.0.0.1:2479)");
  cmd->add_option(
      "--certs", f.certs,
      "Directory with ca.crt, client.crt, client.key (default: ./rustorium-data/certs)");
  cmd->add_option("--user", f.user,
                  "Connect as user NAME: client-NAME.crt (or admin-NAME.crt) from --certs, made "
                  "by `rustorium certs create --client NAME`");
  cmd->add_flag("--plain", f.plain, "Plain TCP (only for a cluster configured with plain = true)");
  cmd->add_option("--timeout", f.timeout,
                  "Give up a request after DURATION, retries included: 500ms, 5s, 2m (default: "
                  "8 attempts within 10 s)");
}

Result<std::chrono::milliseconds> ParseClientTimeout(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--timeout " + QuoteInput(text) + ": " + why);
  };
  const bool letters = std::all_of(unit.begin(), unit.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
  if (digits == 0 || digits > 9 || !letters) {
    return bad("expected a whole number and a unit: 500ms, 5s, 2m");
  }
  int64_t unit_ms = 0;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60'000;
  } else if (unit == "h") {
    unit_ms = 3'600'000;
  } else if (unit.empty()) {
    return bad("give a unit: 500ms, 5s, 2m");
  } else {
    return bad("unknown unit " + QuoteInput(unit) + " (ms, s, m or h)");
  }
  const std::chrono::milliseconds d(std::stoll(text.substr(0, digits)) * unit_ms);
  if (d < kMinClientTimeout || d > kMaxClientTimeout) {
    return bad("out of range: 10ms to 1h");
  }
  return d;
}

Result<client::ClientOptions> ClientOptionsFrom(const ClientFlags& f) {
  client::ClientOptions o;
  std::string pd = f.pd;
  if (pd.empty()) {
    const char* env = std::getenv("RUSTORIUM_PD");
    pd = env != nullptr && *env != '\0' ? env : kDefaultPd;
  }
  ASSIGN_OR_RETURN(o.pd, PdMembersFlag(f.pd.empty() ? "$RUSTORIUM_PD" : "--pd", pd));
  o.max_attempts = 8;
  o.timeout = std::chrono::seconds(3);
  o.deadline = std::chrono::seconds(10);
  if (f.timeout.has_value()) {
    ASSIGN_OR_RETURN(o.deadline, ParseClientTimeout(*f.timeout));
    // The deadline decides, not a count of attempts (bounded anyway: backoff reaches 1 s).
    o.max_attempts = 1'000'000;
    o.timeout = std::min(o.timeout, o.deadline);
  }
  if (!f.plain) {
    const std::string dir = f.certs.empty() ? std::string(kDefaultDataDir) + "/certs" : f.certs;
    if (!std::filesystem::exists(dir + "/ca.crt")) {
      return Status::InvalidArgument("no cluster CA at " + dir +
                                     "/ca.crt: give --certs DIR (or --plain)");
    }
    std::string cert = dir + (f.admin ? "/admin" : "/client");
    if (!f.user.empty()) {
      RETURN_IF_ERROR(rpc::CheckUserName(f.user).WithContext("--user"));
      cert = dir + "/client-" + f.user;
      if (!std::filesystem::exists(cert + ".crt") &&
          std::filesystem::exists(dir + "/admin-" + f.user + ".crt")) {
        cert = dir + "/admin-" + f.user;
      }
      if (!std::filesystem::exists(cert + ".crt")) {
        return Status::InvalidArgument("no certificate for user " + f.user + " in " + dir +
                                       ": make one with `rustorium certs create --dir " + dir +
                                       " --client " + f.user + "`");
      }
    }
    ASSIGN_OR_RETURN(NodeTls tls, MakeTls(dir + "/ca.crt", cert + ".crt", cert + ".key"));
    o.channel.tls = tls.client;
  }
  return o;
}

Status CheckAddressFlag(std::string_view flag, const std::string& address) {
  Status s = rpc::CheckAddress(address);
  return s.ok() ? s : Status::InvalidArgument(std::string(flag) + " " + s.message());
}

Result<std::vector<std::string>> PdMembersFlag(std::string_view flag, const std::string& list) {
  std::vector<std::string> members;
  for (std::size_t begin = 0;;) {
    const std::size_t comma = list.find(',', begin);
    members.push_back(list.substr(begin, comma == std::string::npos ? comma : comma - begin));
    if (members.back().empty()) {
      return Status::InvalidArgument(std::string(flag) + " " + QuoteInput(list) +
                                     " has an empty entry (host:port,host:port,...)");
    }
    RETURN_IF_ERROR(CheckAddressFlag(flag, members.back()));
    if (comma == std::string::npos) return members;
    begin = comma + 1;
  }
}

namespace {

// The first "host:port" in `message` (a name or IPv4 address, a colon, digits), or "the
// cluster".
std::string AddressIn(const std::string& message) {
  auto host_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  };
  for (std::size_t colon = message.find(':'); colon != std::string::npos;
       colon = message.find(':', colon + 1)) {
    std::size_t begin = colon;
    while (begin > 0 && host_char(message[begin - 1])) --begin;
    std::size_t end = colon + 1;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    if (begin < colon && end > colon + 1 && end - colon - 1 <= 5) {
      return message.substr(begin, end - begin);
    }
  }
  return "the cluster";
}

bool Has(const std::string& message, std::string_view part) {
  return message.find(part) != std::string::npos;
}

}  // namespace

Status Explain(const ClientFlags& f, const Status& s) {
  const std::string& m = s.message();
  const std::string certs = f.certs.empty() ? std::string(kDefaultDataDir) + "/certs" : f.certs;
  if (Has(m, "connection refused")) {
    const std::size_t at = m.find("cannot connect to ");
    const std::string address =
        AddressIn(at == std::string::npos ? m : m.substr(at + std::strlen("cannot connect to ")));
    return Status::IOError("unreachable: " + address +
                           " (is the cluster running? `rustorium status check`)");
  }
  if (Has(m, "cannot resolve ")) {
    const std::size_t at = m.find("cannot resolve ");
    return Status::IOError(m.substr(at) +
                           " (check the host name in --pd, $RUSTORIUM_PD or the "
                           "cluster's configuration)");
  }
  if (Has(m, "certificate does not name")) {
    return Status::IOError(AddressIn(m) +
                           "'s certificate does not name the host dialled: dial a host it names "
                           "(`rustorium certs create --host` sets them; 127.0.0.1 and localhost "
                           "by default)");
  }
  if (Has(m, "the peer does not speak TLS")) {
    return Status::IOError(AddressIn(m) +
                           " does not speak TLS: for a cluster configured with plain = true, add "
                           "--plain");
  }
  if (Has(m, "does not verify against our CA")) {
    return Status::IOError(AddressIn(m) + "'s certificate is not signed by " + certs +
                           "/ca.crt: give --certs the cluster's certificate directory");
  }
  if (Has(m, "refused our certificate")) {
    return Status::IOError(AddressIn(m) + " refused our client certificate from " + certs +
                           " (not signed by its CA): give --certs the cluster's certificate "
                           "directory");
  }
  if (f.plain && (Has(m, "peer closed the connection") || Has(m, "connection lost"))) {
    return Status::IOError(AddressIn(m) +
                           " closed the connection: the cluster speaks TLS; drop --plain and give "
                           "--certs DIR");
  }
  return s;
}

int FailClient(const ClientFlags& f, const Status& s) { return Fail(Explain(f, s)); }

Result<std::unique_ptr<client::Client>> MakeClient(const ClientFlags& f) {
  ASSIGN_OR_RETURN(client::ClientOptions o, ClientOptionsFrom(f));
  return client::Client::Connect(std::move(o));
}

}  // namespace rustorium::tools
