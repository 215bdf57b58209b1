#include "tools/rustorium/chain_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/codec.h"
#include "chain/net/chain_node.h"
#include "chain/net/node_config.h"
#include "region/rpc/certs.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"
#include "region/rpc/identity.h"
#include "region/rpc/tls.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/instance_lock.h"
#include "tools/rustorium/stop_signals.h"

namespace rustorium::tools {
namespace {

namespace fs = std::filesystem;
using chain::KeyPair;

// The local committee's default addresses: validator i's primary on 21000 + i and its worker on
// 21100 + i, so that `submit` and `status` find validator 0 without flags.
constexpr int kPrimaryBasePort = 21000;
constexpr int kWorkerPortOffset = 100;
const std::string kDefaultPrimary = "127.0.0.1:21000";
const std::string kDefaultWorker = "127.0.0.1:21100";
constexpr char kDefaultChainDir[] = "./rustorium-data/chain";
// Where `chain local` keeps its CA and certificates, under its directory.
constexpr char kCertsSubdir[] = "certs";

Status WriteKey(const std::string& path, const KeyPair& key) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << key.SeedHex() << "\n";
    if (!out) return Status::IOError("cannot write " + path);
  }
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError("cannot chmod " + path);
  return Status::OK();
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out ? Status::OK() : Status::IOError("cannot write " + path);
}

// Generates keys, the committee and one validator.toml per validator into `dir`; unless
// `plain`, a CA in dir/certs with a certificate per validator (its public key as identity)
// and a client certificate, and validator.toml files that use them (mutual TLS).
Status CreateLocalCommittee(const std::string& dir, int validators, int base_port, bool plain) {
  std::vector<chain::Authority> authorities;
  rpc::ClusterCertsOptions certs;
  certs.dir = dir + "/" + kCertsSubdir;
  certs.stores = 0;
  certs.pd_members = 0;
  for (int i = 0; i < validators; ++i) {
    const std::string name = "validator-" + std::to_string(i);
    const KeyPair key = KeyPair::Generate();
    RETURN_IF_ERROR(WriteKey(dir + "/" + name + ".key", key));
    chain::Authority a;
    a.name = key.public_key();
    a.primary_address = "127.0.0.1:" + std::to_string(base_port + i);
    a.worker_addresses = {"127.0.0.1:" + std::to_string(base_port + kWorkerPortOffset + i)};
    authorities.push_back(a);
    certs.add_validators.emplace_back(name, EncodeHex(chain::AsBytes(key.public_key())));
    std::string toml = "key_file = \"" + name + ".key\"\ncommittee = \"committee.toml\"\n" +
                       "data_dir = \"" + name + "\"\n";
    if (plain) {
      toml += "[tls]\nplain = true  # plain TCP: every peer is trusted\n";
    } else {
      const std::string at = std::string(kCertsSubdir) + "/";
      toml += "[tls]\nca_file = \"" + at + "ca.crt\"\ncert_file = \"" + at + name +
              ".crt\"\nkey_file = \"" + at + name + ".key\"\n";
    }
    RETURN_IF_ERROR(WriteText(dir + "/" + name + ".toml", toml));
  }
  if (!plain) RETURN_IF_ERROR(rpc::CreateClusterCerts(certs));
  ASSIGN_OR_RETURN(chain::Committee committee, chain::Committee::Create(authorities));
  return WriteText(dir + "/committee.toml", chain::CommitteeToToml(committee));
}

// How `submit` and `status` reach a validator.
struct ChainClientFlags {
  std::string node;
  std::string certs = std::string(kDefaultChainDir) + "/" + kCertsSubdir;
  std::string user;  // non-empty: client-USER.crt instead of client.crt
  bool plain = false;
};

void AddChainClientFlags(CLI::App* cmd, ChainClientFlags& f) {
  cmd->add_option("--certs", f.certs,
                  "directory with ca.crt and client.crt/.key (default: that of `chain local`)");
  cmd->add_option("--user", f.user, "use client-USER.crt from --certs");
  cmd->add_flag("--plain", f.plain, "plain TCP, for a committee configured with plain = true");
}

Result<rpc::ChannelOptions> ChannelOptionsFrom(const ChainClientFlags& f) {
  rpc::ChannelOptions options;
  if (f.plain) return options;
  if (!f.user.empty()) RETURN_IF_ERROR(rpc::CheckUserName(f.user));
  const std::string stem = f.certs + "/" + (f.user.empty() ? "client" : "client-" + f.user);
  for (const std::string& file : {f.certs + "/ca.crt", stem + ".crt", stem + ".key"}) {
    if (!fs::exists(file)) {
      return Status::InvalidArgument(
          "no " + file +
          ": validators speak TLS; run `rustorium chain local` first (it makes the "
          "certificates), give --certs DIR, or --plain for a committee with plain = true");
    }
  }
  ASSIGN_OR_RETURN(options.tls, rpc::TlsContext::CreateClient(rpc::TlsOptions{
                                    f.certs + "/ca.crt", stem + ".crt", stem + ".key", false}));
  return options;
}

Result<std::string> Call(const ChainClientFlags& flags, const std::string& method,
                         std::string payload) {
  RETURN_IF_ERROR(CheckAddressFlag("--node", flags.node));
  ASSIGN_OR_RETURN(rpc::HostPort hp, rpc::ParseAddress(flags.node));
  ASSIGN_OR_RETURN(rpc::ChannelOptions options, ChannelOptionsFrom(flags));
  rpc::EventLoop loop;
  Result<std::string> answer = Status::Internal("no answer");
  {
    auto channel = std::make_unique<rpc::RpcChannel>(loop, hp.host, hp.port, options);
    answer = channel->CallSync(method, std::move(payload), std::chrono::seconds(5));
    loop.RunSync([&] { channel.reset(); });
  }
  return answer;
}

void RegisterKeygen(CLI::App& chain, int& exit_code) {
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = chain.add_subcommand(
      "keygen", "Write a new validator key (ed25519 seed, hex) and print its public key");
  cmd->add_option("--out", *out, "key file to create")->required();
  cmd->callback([out, &exit_code] {
    if (fs::exists(*out)) {
      exit_code = Fail(Status::InvalidArgument(*out + " exists; refusing to overwrite a key"));
      return;
    }
    const KeyPair key = KeyPair::Generate();
    if (Status s = WriteKey(*out, key); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    std::cout << EncodeHex(chain::AsBytes(key.public_key())) << std::endl;
    exit_code = kExitOk;
  });
}

void RegisterNode(CLI::App& chain, int& exit_code) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd =
      chain.add_subcommand("node", "Run a validator (primary and workers) until SIGINT or SIGTERM");
  cmd->add_option("--config", *config, "validator.toml (docs/operations.md)")->required();
  cmd->callback([config, &exit_code] {
    auto c = chain::LoadNodeConfig(*config);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    BlockStopSignals();
    auto node = chain::ChainNode::Start(*c);
    if (!node.ok()) {
      exit_code = Fail(node.status());
      return;
    }
    std::cout << "validator running\n" << (*node)->StatusText() << std::flush;
    WaitForStop();
    node->reset();
    std::cout << "validator stopped" << std::endl;
    exit_code = kExitOk;
  });
}

void RegisterLocal(CLI::App& chain, int& exit_code) {
  auto validators = std::make_shared<int>(4);
  auto dir = std::make_shared<std::string>(kDefaultChainDir);
  auto base_port = std::make_shared<int>(kPrimaryBasePort);
  auto plain = std::make_shared<bool>(false);
  CLI::App* cmd =
      chain.add_subcommand("local", "Run a local committee on loopback until Ctrl-C or SIGTERM");
  cmd->add_option("--validators", *validators,
                  "committee size (keys and files are made on first use)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--dir", *dir, "directory of keys, committee, configs, data and logs");
  cmd->add_option(
         "--base-port", *base_port,
         "validator i's primary listens on base + i, its worker on base + 100 + i (used when the "
         "committee is first made)")
      ->check(CLI::Range(1024, 65000));
  cmd->add_flag("--plain", *plain,
                "plain TCP between validators and clients, every peer trusted (used when the "
                "committee is first made; the default is mutual TLS with certificates made in "
                "DIR/certs)");
  cmd->callback([validators, dir, base_port, plain, &exit_code] {
    std::error_code ec;
    fs::create_directories(*dir, ec);
    if (ec) {
      exit_code = Fail(Status::IOError("cannot create " + *dir + ": " + ec.message()));
      return;
    }
    // Before anything is made or started: this directory is ours.
    auto lock = InstanceLock::Acquire(*dir);
    if (!lock.ok()) {
      exit_code = Fail(lock.status());
      return;
    }
    const std::string committee = *dir + "/committee.toml";
    if (!fs::exists(committee)) {
      if (Status s = CreateLocalCommittee(*dir, *validators, *base_port, *plain); !s.ok()) {
        exit_code = Fail(s);
        return;
      }
    } else if (auto existing = chain::LoadCommittee(committee); !existing.ok()) {
      exit_code = Fail(existing.status());
      return;
    } else if (static_cast<int>(existing->size()) != *validators) {
      exit_code = Fail(Status::InvalidArgument(
          *dir + " holds a committee of " + std::to_string(existing->size()) +
          " validators; use that --validators or another --dir"));
      return;
    }
    // Every validator's config is read here first: a mistake (a config with neither [tls]
    // nor plain = true, say) stops `local` with its message rather than a child.
    bool tls = true;  // every validator's config says [tls] files
    for (int i = 0; i < *validators; ++i) {
      auto c = chain::LoadNodeConfig(*dir + "/validator-" + std::to_string(i) + ".toml");
      if (!c.ok()) {
        exit_code = Fail(c.status());
        return;
      }
      tls = tls && !c->plain;
    }
    // Every primary and worker address must be free before a validator starts.
    auto members = chain::LoadCommittee(committee);
    if (!members.ok()) {
      exit_code = Fail(members.status());
      return;
    }
    std::vector<std::string> addresses;
    for (const chain::Authority& a : members->authorities()) {
      addresses.push_back(a.primary_address);
      for (const std::string& w : a.worker_addresses) addresses.push_back(w);
    }
    if (Status s = CheckPortsFree(addresses); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    BlockStopSignals();
    const std::string self = SelfPath();
    ChildGroup children;
    for (int i = 0; i < *validators; ++i) {
      const std::string name = "validator-" + std::to_string(i);
      ChildOptions options;
      options.log = *dir + "/" + name + ".log";
      options.stop_with_parent = true;
      options.own_process_group = true;
      Result<pid_t> pid =
          children.Start("validator " + std::to_string(i),
                         {self, "chain", "node", "--config", *dir + "/" + name + ".toml"}, options);
      if (!pid.ok()) {
        children.StopAll();
        exit_code = Fail(pid.status());
        return;
      }
      std::cout << name << ": pid " << *pid << ", log " << options.log << std::endl;
    }
    auto report_killed = [](const std::vector<std::string>& killed) {
      for (const std::string& name : killed)
        std::cerr << "warning: " << name << " did not stop within "
                  << ChildGroup::kStopGrace.count() << " ms of SIGTERM; killed\n";
    };
    // Running once every primary and worker accepts connections; meanwhile a validator that
    // exits, or Ctrl-C, ends it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    size_t answering = 0;  // addresses[0..answering) answered
    int stop_signal = 0;
    while (answering < addresses.size() && stop_signal == 0) {
      if (auto exited = children.ReapExited()) {
        std::cerr << "error: " << *exited << "\nerror: the committee did not start; stopping the "
                  << "other validators (logs in " << *dir << ")" << std::endl;
        report_killed(children.StopAll());
        exit_code = kExitFailure;
        return;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "error: " << addresses[answering]
                  << " does not accept connections 30 s after the start; see the logs in " << *dir
                  << "\n";
        report_killed(children.StopAll());
        exit_code = kExitFailure;
        return;
      }
      while (answering < addresses.size() && PortAnswers(addresses[answering], 100)) ++answering;
      if (answering < addresses.size())
        stop_signal = WaitForStopFor(std::chrono::milliseconds(100));
    }
    if (stop_signal == 0) {
      std::cout << "addresses (primary, workers) in " << committee << "\n";
      std::cout << "committee of " << *validators << " running in " << *dir << " over "
                << (tls ? "mutual TLS (certificates in " + *dir + "/" + kCertsSubdir + ")"
                        : std::string("plain TCP (for some or all validators)"))
                << "; rustorium chain submit --tx DATA, rustorium chain status"
                << (tls ? "" : " (with --plain)") << "; Ctrl-C stops it" << std::endl;
    }
    while (stop_signal == 0) {
      if (auto exited = children.ReapExited()) {
        std::cerr << "error: " << *exited << "\nerror: stopping the committee" << std::endl;
        report_killed(children.StopAll());
        exit_code = kExitFailure;
        return;
      }
      stop_signal = WaitForStopFor(std::chrono::milliseconds(200));
    }
    std::cout << "stopping..." << std::endl;
    report_killed(children.StopAll());
    std::cout << "committee stopped" << std::endl;
    exit_code = kExitOk;
  });
}

void RegisterSubmit(CLI::App& chain, int& exit_code) {
  auto tx = std::make_shared<std::string>();
  auto flags = std::make_shared<ChainClientFlags>();
  flags->node = kDefaultWorker;
  CLI::App* cmd =
      chain.add_subcommand("submit", "Send a transaction to a worker; exit 0 once it is accepted");
  cmd->add_option("--tx", *tx, "the transaction's bytes")->required();
  cmd->add_option("--node", flags->node,
                  "a worker's address (default: validator 0 of `chain local`)");
  AddChainClientFlags(cmd, *flags);
  cmd->callback([tx, flags, &exit_code] {
    auto answer = Call(*flags, chain::kSubmitMethod, *tx);
    if (!answer.ok()) {
      exit_code = Fail(answer.status());
      return;
    }
    std::cout << "accepted" << std::endl;
    exit_code = kExitOk;
  });
}

// The `key: value` lines of a validator's status as one JSON object: the same keys, unsigned
// integers as numbers, anything else (the name) as a string.
Result<nlohmann::ordered_json> StatusJson(const std::string& text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || colon == 0) {
      return Status::Corruption("the validator's status has a line that is not 'key: value': " +
                                line.substr(0, 80));
    }
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    const bool number = !value.empty() && value.size() <= 19 &&
                        value.find_first_not_of("0123456789") == std::string::npos;
    if (number) {
      j[key] = std::stoull(value);
    } else {
      j[key] = value;
    }
  }
  return j;
}

void RegisterStatus(CLI::App& chain, int& exit_code) {
  auto flags = std::make_shared<ChainClientFlags>();
  auto json = std::make_shared<bool>(false);
  flags->node = kDefaultPrimary;
  CLI::App* cmd = chain.add_subcommand(
      "status", "Print a validator's round, last committed round and committed count");
  cmd->add_option("--node", flags->node,
                  "a primary's address (default: validator 0 of `chain local`)");
  cmd->add_flag("--json", *json, "One JSON object on one line (docs/cli.md)");
  AddChainClientFlags(cmd, *flags);
  cmd->callback([flags, json, &exit_code] {
    auto answer = Call(*flags, chain::kStatusMethod, "");
    if (!answer.ok()) {
      exit_code = Fail(answer.status());
      return;
    }
    if (*json) {
      auto j = StatusJson(*answer);
      if (!j.ok()) {
        exit_code = Fail(j.status());
        return;
      }
      std::cout << j->dump() << std::endl;
      exit_code = kExitOk;
      return;
    }
    std::cout << *answer << std::flush;
    exit_code = kExitOk;
  });
}

}  // namespace

void RegisterChainCommands(CLI::App& app, int& exit_code) {
  CLI::App* chain = app.add_subcommand("chain", "Validators of the Narwhal + Bullshark chain");
  chain->require_subcommand(1);
  RegisterKeygen(*chain, exit_code);
  RegisterNode(*chain, exit_code);
  RegisterLocal(*chain, exit_code);
  RegisterSubmit(*chain, exit_code);
  RegisterStatus(*chain, exit_code);
}

}  // namespace rustorium::tools
