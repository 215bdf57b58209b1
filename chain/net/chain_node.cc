#include "chain/net/chain_node.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "base/codec.h"
#include "chain/net/loop_env.h"
#include "chain/net/rpc_transport.h"
#include "chain/validator.h"
#include "region/rpc/identity.h"
#include "region/rpc/tls.h"

namespace rustorium::chain {

uint64_t UnixMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string MakeSampleTransaction(uint64_t unix_us, uint64_t nonce, size_t size) {
  std::string tx(kSampleMagic);
  PutFixed64BE(tx, unix_us);
  PutFixed64BE(tx, nonce);
  tx.resize(std::max(size, tx.size()), 's');
  return tx;
}

namespace {

constexpr uint64_t kDefaultLatencyWindowMs = 10'000;

// Who may submit transactions and read the status under TLS.
constexpr rpc::RoleSet kClientRoles =
    rpc::PeerRole::kClient | rpc::PeerRole::kAdmin | rpc::PeerRole::kValidator;

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << contents;
    if (!out) return Status::IOError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("cannot rename " + tmp);
  return Status::OK();
}

// Latency samples (commit time, latency), the newest kept; on the loop thread.
class LatencyLog {
 public:
  void Add(uint64_t at_ms, uint64_t latency_ms) {
    if (samples_.size() == kMaxSamples) samples_.pop_front();
    samples_.emplace_back(at_ms, latency_ms);
  }
  // "NAME_ms_p50: X\nNAME_ms_p99: Y\nNAME_samples: N\n" over the samples at or after `since_ms`.
  std::string Describe(const std::string& name, uint64_t since_ms) const {
    std::vector<uint64_t> values;
    for (const auto& [at, latency] : samples_) {
      if (at >= since_ms) values.push_back(latency);
    }
    std::ostringstream out;
    out << name << "_samples: " << values.size() << "\n";
    if (values.empty()) return out.str();
    std::sort(values.begin(), values.end());
    auto at = [&](double q) {
      return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
    };
    out << name << "_ms_p50: " << at(0.50) << "\n" << name << "_ms_p99: " << at(0.99) << "\n";
    return out.str();
  }

 private:
  static constexpr size_t kMaxSamples = 1'000'000;
  std::deque<std::pair<uint64_t, uint64_t>> samples_;
};

struct Latencies {
  LatencyLog end_to_end, consensus;
  std::map<uint64_t, uint64_t> proposed_ms;  // our headers' rounds → when proposed
};

// Keeps the committed sequence and the count of committed transactions in files next to the
// engine. A process crash loses nothing written (the OS holds it); the sequence is replayed
// from the engine after the last index recorded here.
class FileExecutor : public Executor {
 public:
  static Result<std::unique_ptr<FileExecutor>> Open(const std::string& dir, const PublicKey& self,
                                                    Latencies* latencies) {
    auto e = std::make_unique<FileExecutor>();
    e->self_ = self;
    e->latencies_ = latencies;
    e->progress_path_ = dir + "/executed";
    e->log_path_ = dir + "/output.log";
    if (auto text = ReadSmallFile(e->progress_path_); text.ok()) {
      std::istringstream in(*text);
      if (!(in >> e->last_index_ >> e->transactions_))
        return Status::Corruption(e->progress_path_ + " is malformed");
    }
    e->log_.open(e->log_path_, std::ios::app);
    if (!e->log_) return Status::IOError("cannot open " + e->log_path_);
    return e;
  }
  uint64_t LastExecutedIndex() const override { return last_index_; }
  void Execute(const ConsensusOutput& output) override {
    const uint64_t now_us = UnixMicros(), now_ms = now_us / 1000;
    for (const std::string& tx : output.transactions) {
      if (tx.size() < 16 || std::string_view(tx).substr(0, 8) != kSampleMagic) continue;
      const uint64_t sent = GetFixed64BE(std::string_view(tx).substr(8, 8));
      if (sent <= now_us) latencies_->end_to_end.Add(now_ms, (now_us - sent) / 1000);
    }
    for (const Certificate& c : output.certificates) {
      if (c.origin() != self_) continue;
      auto& proposed = latencies_->proposed_ms;
      if (auto it = proposed.find(c.round()); it != proposed.end() && it->second <= now_ms) {
        latencies_->consensus.Add(now_ms, now_ms - it->second);
      }
      proposed.erase(proposed.begin(), proposed.upper_bound(c.round()));
    }
    last_index_ = output.index;
    transactions_ += output.transactions.size();
    log_ << output.index << ' ' << output.anchor_round << ' '
         << ShortHex(output.certificates.back().ComputeDigest()) << ' '
         << output.certificates.size() << ' ' << output.transactions.size() << '\n';
    log_.flush();
    WriteAtomically(progress_path_,
                    std::to_string(last_index_) + " " + std::to_string(transactions_) + "\n")
        .IgnoreError();  // the next output writes it again; a restart replays from the engine
  }
  uint64_t transactions() const { return transactions_; }

 private:
  PublicKey self_{};
  Latencies* latencies_ = nullptr;
  std::string progress_path_, log_path_;
  std::ofstream log_;
  uint64_t last_index_ = 0;
  uint64_t transactions_ = 0;
};

}  // namespace

struct ChainNode::Rep {
  NodeConfig config;
  std::unique_ptr<Committee> committee;
  std::unique_ptr<KeyPair> key;
  std::unique_ptr<rpc::EventLoop> loop;
  std::unique_ptr<rpc::RpcServer> primary_server;
  std::vector<std::unique_ptr<rpc::RpcServer>> worker_servers;
  std::unique_ptr<LoopEnv> env;
  std::unique_ptr<RpcTransport> transport;
  Latencies latencies;
  std::unique_ptr<FileExecutor> executor;
  std::unique_ptr<Validator> validator;

  std::string Status(uint64_t since_ms) const {
    const ValidatorStats s = validator->stats();
    uint64_t dropped = s.primary.dropped_messages, transactions = 0;
    uint64_t refused_identity = s.primary.refused_identity, orphans = 0, over_quota = 0;
    for (const WorkerStats& w : s.workers) {
      dropped += w.dropped_messages;
      transactions += w.transactions;
      refused_identity += w.refused_identity;
      orphans += w.orphan_batches_collected;
      over_quota += w.refused_unnamed_quota;
    }
    std::ostringstream out;
    out << "name: " << EncodeHex(AsBytes(key->public_key())) << "\nround: " << s.primary.round
        << "\nlast_committed_round: " << s.last_committed_round
        << "\nconsensus_index: " << s.consensus_index << "\ncommitted: " << executor->transactions()
        << "\nsubmitted: " << transactions << "\nrejected_headers: " << s.primary.rejected_headers
        << "\nrejected_certificates: " << s.primary.rejected_certificates
        << "\ndropped_messages: " << dropped << "\nrefused_identity: " << refused_identity
        << "\norphan_batches_collected: " << orphans << "\nrefused_unnamed_quota: " << over_quota
        << "\n"
        << latencies.end_to_end.Describe("end_to_end_latency", since_ms)
        << latencies.consensus.Describe("consensus_latency", since_ms);
    return out.str();
  }
};

Result<std::unique_ptr<ChainNode>> ChainNode::Start(const NodeConfig& config) {
  auto rep = std::make_unique<Rep>();
  rep->config = config;
  ASSIGN_OR_RETURN(std::string seed, ReadSmallFile(config.key_file));
  while (!seed.empty() && (seed.back() == '\n' || seed.back() == '\r')) seed.pop_back();
  ASSIGN_OR_RETURN(KeyPair key, KeyPair::FromSeedHex(seed));
  rep->key = std::make_unique<KeyPair>(key);
  ASSIGN_OR_RETURN(Committee committee, LoadCommittee(config.committee_file));
  rep->committee = std::make_unique<Committee>(std::move(committee));
  const Authority* self = rep->committee->Find(rep->key->public_key());
  if (self == nullptr)
    return Status::InvalidArgument("the key in " + config.key_file + " is not in the committee");

  rpc::ChannelOptions channel_options;
  std::shared_ptr<rpc::TlsContext> server_tls;
  if (!config.plain) {
    if (config.tls_ca_file.empty() || config.tls_cert_file.empty() || config.tls_key_file.empty())
      return Status::InvalidArgument(
          "validator TLS needs ca_file, cert_file and key_file (or [tls] plain = true for plain "
          "TCP)");
    // Our certificate must name our key: peers bind what we send to the name it carries.
    ASSIGN_OR_RETURN(rpc::PeerIdentity own, rpc::CertificateIdentity(config.tls_cert_file));
    const std::string own_hex = EncodeHex(AsBytes(rep->key->public_key()));
    if (own.role != rpc::PeerRole::kValidator || own.name != own_hex) {
      return Status::InvalidArgument(config.tls_cert_file + " carries the identity of " +
                                     own.ToString() + ", not of validator " + own_hex);
    }
    rpc::TlsOptions tls{config.tls_ca_file, config.tls_cert_file, config.tls_key_file, true};
    ASSIGN_OR_RETURN(server_tls, rpc::TlsContext::CreateServer(tls));
    ASSIGN_OR_RETURN(channel_options.tls, rpc::TlsContext::CreateClient(tls));
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  ASSIGN_OR_RETURN(rep->executor,
                   FileExecutor::Open(config.data_dir, rep->key->public_key(), &rep->latencies));

  rep->loop = std::make_unique<rpc::EventLoop>();
  Rep* r = rep.get();
  Status started;
  r->loop->RunSync([&] {
    auto make_server = [&](const std::string& address,
                           uint32_t worker_id) -> Result<std::unique_ptr<rpc::RpcServer>> {
      ASSIGN_OR_RETURN(rpc::HostPort hp, rpc::ParseAddress(address));
      rpc::ServerOptions options;
      options.host = hp.host;
      options.port = hp.port;
      options.tls = server_tls;
      auto server = std::make_unique<rpc::RpcServer>(*r->loop, options);
      ServeValidator(*server, worker_id, [r] { return r->validator.get(); });
      server->Handle(
          kSubmitMethod,
          [r, worker_id](const rpc::Envelope& e, rpc::RpcServer::Responder respond) {
            if (!r->validator) return respond(Status::FailedPrecondition("starting"));
            const Status s = r->validator->SubmitTransaction(worker_id, e.payload());
            if (!s.ok()) return respond(s);
            respond(std::string());
          },
          kClientRoles);
      server->Handle(
          kStatusMethod,
          [r](const rpc::Envelope& e, rpc::RpcServer::Responder respond) {
            if (!r->validator) return respond(Status::FailedPrecondition("starting"));
            uint64_t since_ms = UnixMicros() / 1000 - kDefaultLatencyWindowMs;
            if (!e.payload().empty()) {
              const std::string& p = e.payload();
              if (p.rfind("since_ms=", 0) != 0 || p.size() == 9 || p.size() > 29 ||
                  p.find_first_not_of("0123456789", 9) != std::string::npos) {
                return respond(
                    Status::InvalidArgument("status takes no payload or since_ms=<unix ms>"));
              }
              since_ms = std::stoull(p.substr(9));
            }
            respond(r->Status(since_ms));
          },
          kClientRoles);
      RETURN_IF_ERROR(server->Start());
      return server;
    };
    auto primary = make_server(self->primary_address, 0);
    if (!primary.ok()) {
      started = primary.status();
      return;
    }
    r->primary_server = std::move(primary).value();
    for (uint32_t id = 0; id < self->worker_addresses.size(); ++id) {
      auto worker = make_server(self->worker_addresses[id], id);
      if (!worker.ok()) {
        started = worker.status();
        return;
      }
      r->worker_servers.push_back(std::move(worker).value());
    }
    r->env = std::make_unique<LoopEnv>(*r->loop);
    r->transport = std::make_unique<RpcTransport>(*r->loop, *r->committee, channel_options,
                                                  AnswersTo([r] { return r->validator.get(); }));
    ValidatorOptions options;
    options.parameters = config.parameters;
    options.data_dir = config.data_dir + "/engine";
    options.on_proposed = [r](const Header& h) {
      r->latencies.proposed_ms[h.round] = UnixMicros() / 1000;
    };
    auto validator = Validator::Open(*r->committee, *r->key, options, r->env.get(),
                                     r->transport.get(), r->executor.get());
    if (!validator.ok()) {
      started = validator.status();
      return;
    }
    r->validator = std::move(validator).value();
  });
  std::unique_ptr<ChainNode> node(new ChainNode(std::move(rep)));
  if (!started.ok()) return started;  // the destructor stops what did start
  return node;
}

ChainNode::ChainNode(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

ChainNode::~ChainNode() {
  if (!rep_ || !rep_->loop) return;
  Rep* r = rep_.get();
  r->loop->RunSync([r] {
    r->validator.reset();
    r->transport.reset();
    r->env.reset();
    r->worker_servers.clear();
    r->primary_server.reset();
  });
}

std::string ChainNode::StatusText() {
  std::string text;
  rep_->loop->RunSync([&] {
    text = rep_->validator ? rep_->Status(UnixMicros() / 1000 - kDefaultLatencyWindowMs)
                           : "starting\n";
  });
  return text;
}

}  // namespace rustorium::chain
