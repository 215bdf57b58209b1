// Groth16 proofs of index update batches, side by side with snarkjs in one run.
//
// For each batch size K (--batches, default 1,8,32) at --levels tree levels (default 64):
// the circuit's size (constraints per update), a development setup, our prover (best of
// --runs, on --threads threads), our verifier (mean of --verify-runs), and snarkjs's groth16
// prove on the same .zkey and .wtns (its own worker pool), printed with the ratio. snarkjs's
// proof is checked with our verifier, ours with snarkjs's inputs.
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "proof/zk/batch_circuit.h"
#include "proof/zk/groth16.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"

#ifndef RUSTORIUM_ROOT_DIR
#error "RUSTORIUM_ROOT_DIR must name the repository root"
#endif

namespace {

using rustorium::Result;
using namespace rustorium::proof;      // NOLINT(google-build-using-namespace): a benchmark driver
using namespace rustorium::proof::zk;  // NOLINT(google-build-using-namespace)

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t comma = s.find(',', pos);
    out.push_back(std::stoi(s.substr(pos, comma - pos)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// snarkjs's prove time (ms) on the files, or a negative number when Node fails.
double SnarkjsProve(const std::string& zkey, const std::string& wtns, int runs,
                    const VerifyingKey& vk) {
  const std::string cmd = "node " + std::string(RUSTORIUM_ROOT_DIR) + "/bench/js/zk_peer.mjs " +
                          std::string(RUSTORIUM_ROOT_DIR) + "/tests " + zkey + " " + wtns + " " +
                          std::to_string(runs);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  if (::pclose(pipe) != 0) return -1;
  const auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.contains("prove_ms")) return -1;
  auto proof = ProofFromJson(j["proof"].dump());
  auto pub = PublicInputsFromJson(j["public"].dump());
  if (!proof.ok() || !pub.ok() || !Verify(vk, *pub, *proof).ok()) {
    std::fprintf(stderr, "snarkjs's proof does not verify with our verifier\n");
    return -1;
  }
  return j["prove_ms"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Groth16 proofs of tree update batches against snarkjs"};
  int levels = 64, threads = 2, runs = 2, verify_runs = 50, js_runs = 1;
  std::string batches = "1,8,32";
  bool skip_js = false;
  app.add_option("--levels", levels, "tree levels (iden3 maxLevels)");
  app.add_option("--batches", batches, "batch sizes K");
  app.add_option("--threads", threads, "prover threads");
  app.add_option("--runs", runs, "our prover: best of");
  app.add_option("--js-runs", js_runs, "snarkjs: best of");
  app.add_option("--verify-runs", verify_runs, "verifier: mean of");
  app.add_flag("--skip-js", skip_js, "ours only");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/rustorium-zk-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  std::mt19937_64 rng(2026);
  auto random_fr = [&] { return Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 3}); };

  std::printf("levels %d, prover threads %d\n", levels, threads);
  std::printf("%5s %11s %10s %9s %10s %10s %11s %7s %9s\n", "K", "constraints", "per update",
              "setup s", "prove ms", "verify ms", "snarkjs ms", "ratio", "zkey MB");
  for (int k : ParseList(batches)) {
    // A tree of random keys (1000, fewer in shallow trees, where random keys would collide
    // past the depth limit), then K updates: inserts, updates of present keys, deletes.
    WitnessTree tree(levels);
    std::vector<Fr> present;
    const int initial = std::min(1000, 1 << std::min(20, levels / 3));
    for (int i = 0; i < initial; ++i) {
      present.push_back(random_fr());
      if (!tree.Put(present.back(), random_fr()).ok()) {
        std::fprintf(stderr, "random keys collide past %d levels; use more levels\n", levels);
        return 1;
      }
    }
    const Fr r0 = tree.root();
    std::vector<UpdateWitness> updates;
    for (int j = 0; j < k; ++j) {
      Result<UpdateWitness> w = j % 3 == 0 ? tree.Put(random_fr(), random_fr())
                                : j % 3 == 1
                                    ? tree.Put(present[rng() % present.size()], random_fr())
                                    : tree.Delete(present[rng() % present.size()]);
      if (!w.ok()) {
        std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
        return 1;
      }
      updates.push_back(*w);
    }
    ConstraintSystem cs;
    if (!SynthesizeBatch({levels, k}, r0, updates, cs).ok()) return 1;
    const R1cs r1cs = cs.ToR1cs();
    const std::vector<Fr> witness = cs.Witness();
    if (!r1cs.CheckSatisfied(witness).ok()) {
      std::fprintf(stderr, "witness does not satisfy the circuit\n");
      return 1;
    }
    double t = NowMs();
    Result<ProvingKey> key = DevSetup(r1cs, {threads, SecureRandomScalar});
    const double setup_s = (NowMs() - t) / 1e3;
    if (!key.ok()) return 1;
    const VerifyingKey vk = key->verifying_key();

    double prove_ms = 1e300;
    Groth16Proof proof;
    for (int i = 0; i < runs; ++i) {
      t = NowMs();
      Result<Groth16Proof> p = Prove(*key, witness, {threads, SecureRandomScalar});
      prove_ms = std::min(prove_ms, NowMs() - t);
      if (!p.ok()) return 1;
      proof = *p;
    }
    const std::vector<Fr> pub = cs.PublicInputs();
    t = NowMs();
    for (int i = 0; i < verify_runs; ++i) {
      if (!Verify(vk, pub, proof).ok()) {
        std::fprintf(stderr, "our proof does not verify\n");
        return 1;
      }
    }
    const double verify_ms = (NowMs() - t) / verify_runs;

    const std::string zkey = dir + "/k" + std::to_string(k) + ".zkey";
    const std::string wtns = dir + "/k" + std::to_string(k) + ".wtns";
    const std::string zkey_bytes = EncodeZkey(*key);
    if (!WriteWholeFile(zkey, zkey_bytes).ok() || !WriteWholeFile(wtns, EncodeWtns(witness)).ok()) {
      return 1;
    }
    double js_ms = -1;
    if (!skip_js) js_ms = SnarkjsProve(zkey, wtns, js_runs, vk);
    std::filesystem::remove(zkey);
    std::filesystem::remove(wtns);
    std::printf("%5d %11zu %10zu %9.1f %10.1f %10.2f %11.1f %7.2f %9.1f\n", k,
                r1cs.num_constraints(), r1cs.num_constraints() / k, setup_s, prove_ms, verify_ms,
                js_ms, js_ms > 0 ? js_ms / prove_ms : 0.0, zkey_bytes.size() / 1e6);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
