#include "tools/rustorium/bench_command.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tools/rustorium/client_flags.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/kv_load.h"

namespace rustorium::tools {

namespace {

struct BenchKvFlags {
  ClientFlags client;
  KvLoadOptions load;
  bool no_proofs = false;
};

nlohmann::json OpJson(const KvOpStats& s) {
  return {{"ops", s.ops},       {"errors", s.errors}, {"ops_per_second", s.ops_per_second},
          {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms}, {"p999_ms", s.p999_ms}};
}

}  // namespace

void RegisterBenchCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<BenchKvFlags>();
  CLI::App* bench = app.add_subcommand("bench", "Load a running cluster and measure it");
  bench->require_subcommand(1);
  CLI::App* kv = bench->add_subcommand(
      "kv", "Puts and gets from N client threads for a fixed time: ops/s and p50/p99/p999 latency");
  AddClientFlags(kv, f->client);
  kv->add_option("--threads", f->load.threads,
                 "Client threads, each with its own client and connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  kv->add_option("--seconds", f->load.seconds, "Measured time (after a 1 s warm-up)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  kv->add_option("--read-percent", f->load.read_percent, "Share of gets; the rest are puts")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  kv->add_option("--keys", f->load.keys,
                 "Key space (16-byte keys), written once before a load that reads")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000000000000}));
  kv->add_option("--value-size", f->load.value_size, "Value size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  kv->add_flag("--no-proofs", f->no_proofs,
               "Do not verify signatures and proofs (measures what they cost)");
  kv->add_flag("--json", f->client.json, "One JSON object with the figures");
  kv->callback([f, &exit_code] {
    Result<client::ClientOptions> options = ClientOptionsFrom(f->client);
    if (!options.ok()) {
      exit_code = Fail(options.status());
      return;
    }
    options->verify = !f->no_proofs;
    const KvLoadOptions& o = f->load;
    if (!f->client.json) {
      std::cout << "bench kv: " << o.threads << " threads (one client each), " << o.seconds
                << " s, " << o.read_percent << "% gets, " << o.keys << " keys of 16 B, values of "
                << o.value_size << " B, proofs " << (f->no_proofs ? "off" : "on") << std::endl;
    }
    Result<KvLoadReport> r = RunKvLoad(o, ClusterTargets(*options));
    if (!r.ok()) {
      exit_code = Fail(r.status());
      return;
    }
    if (f->client.json) {
      nlohmann::json j = {
          {"threads", o.threads},    {"seconds", r->seconds}, {"read_percent", o.read_percent},
          {"keys", o.keys},          {"key_size", 16},        {"value_size", o.value_size},
          {"proofs", !f->no_proofs}, {"put", OpJson(r->put)}, {"get", OpJson(r->get)},
          {"all", OpJson(r->all)}};
      if (!r->first_error.empty()) j["first_error"] = r->first_error;
      std::cout << j.dump() << "\n";
    } else {
      PrintKvReport(std::cout, *r);
    }
    if (r->all.ops == 0) {
      exit_code = Fail(Status::Aborted("no operation succeeded" +
                                       (r->first_error.empty() ? "" : ": " + r->first_error)));
      return;
    }
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
