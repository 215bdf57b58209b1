// The authenticated index measured, side by side with the JavaScript references
// (circomlibjs's Poseidon, @iden3/js-merkletree) in one run.
//
// Ours: Fr multiplication (both kernels), Poseidon t = 3 and t = 5 on one core; a tree of --keys
// keys (default 10^6) in a real engine, hashing large batches over the tree's default threads
// (SmtOptions::hash_threads, the CPU's cores): bulk build, inserts one by one and in batches of
// --batch-sizes (default 1, 100 and 10,000), proof generation and
// verification, proof size. Then the same operations on a tree of --js-keys keys (default
// 10^4) through ours and through the references, printed per operation with the ratio.
#include <stdlib.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/fr_kernels.h"
#include "engine/engine.h"
#include "proof/field/fr.h"
#include "proof/poseidon/poseidon.h"
#include "proof/smt/sparse_merkle_tree.h"

namespace fs = std::filesystem;
using rustorium::proof::Fr;
using rustorium::proof::SmtUpdate;
using rustorium::proof::SparseMerkleTree;

#ifndef RUSTORIUM_ROOT_DIR
#error "RUSTORIUM_ROOT_DIR must name the repository root"
#endif

namespace {

double NowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Die(const rustorium::Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

double PoseidonUs(int width, long n) {
  std::vector<Fr> x;
  for (int i = 1; i < width; ++i) x.push_back(Fr::FromUint64(i));
  const double start = NowUs();
  for (long i = 0; i < n; ++i) x[0] = *rustorium::proof::Poseidon(x);  // chained: no shortcut
  const double us = (NowUs() - start) / n;
  if (x[0].IsZero()) std::printf("(unlikely zero)\n");
  return us;
}

struct TreeFigures {
  double bulk_s = 0;
  double inserts_one_per_s = 0;
  std::vector<std::pair<long, double>> inserts_in_batches;  // batch size, inserts per second
  double prove_us = 0;
  double verify_us = 0;
  double proof_bytes = 0;
};

class Bench {
 public:
  explicit Bench(const std::string& dir) : dir_(dir) {
    fs::remove_all(dir_);
    rustorium::engine::StorageOptions o;
    o.path = dir_;
    o.sync_mode = rustorium::engine::SyncMode::kNone;
    auto e = rustorium::engine::Engine::Open(o);
    if (!e.ok()) Die(e.status(), "open");
    engine_ = std::move(*e);
    auto t = SparseMerkleTree::Open(engine_.get(), 1);
    if (!t.ok()) Die(t.status(), "tree");
    tree_ = std::make_unique<SparseMerkleTree>(std::move(*t));
  }
  ~Bench() {
    tree_.reset();
    engine_.reset();
    fs::remove_all(dir_);
  }

  Fr Commit(const std::vector<SmtUpdate>& updates) {
    rustorium::engine::WriteBatch batch;
    auto root = tree_->Apply(updates, ++version_, batch);
    if (!root.ok()) Die(root.status(), "apply");
    rustorium::Status s = engine_->Write(batch);
    if (!s.ok()) Die(s, "write");
    return *root;
  }

  // bulk: keys put in one Apply (0 = none); then `one` single inserts, and `batch_inserts` keys
  // in batches of each of `batch_sizes` (each batch one Apply: one tree version, one engine write).
  TreeFigures Run(long bulk, long one, const std::vector<long>& batch_sizes, long batch_inserts,
                  std::mt19937_64& rng, bool one_first) {
    TreeFigures f;
    auto fresh = [&] {
      return SmtUpdate{Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 4}),
                       Fr::FromUint64(rng())};
    };
    if (bulk > 0) {
      std::vector<SmtUpdate> all;
      for (long i = 0; i < bulk; ++i) all.push_back(fresh());
      const double start = NowUs();
      Commit(all);
      f.bulk_s = (NowUs() - start) / 1e6;
      keys_.insert(keys_.end(), all.begin(), all.end());
    }
    auto singles = [&] {
      const double start = NowUs();
      for (long i = 0; i < one; ++i) {
        SmtUpdate u = fresh();
        Commit({u});
        keys_.push_back(u);
      }
      f.inserts_one_per_s = one / ((NowUs() - start) / 1e6);
    };
    if (one_first) singles();
    for (long size : batch_sizes) {
      const long batches = std::max<long>(1, batch_inserts / size);
      const double start = NowUs();
      for (long b = 0; b < batches; ++b) {
        std::vector<SmtUpdate> batch;
        for (long i = 0; i < size; ++i) batch.push_back(fresh());
        Commit(batch);
        keys_.insert(keys_.end(), batch.begin(), batch.end());
      }
      f.inserts_in_batches.emplace_back(size, batches * size / ((NowUs() - start) / 1e6));
    }
    if (!one_first) singles();

    const Fr root = *tree_->Root();
    const long probes = std::min<long>(1000, static_cast<long>(keys_.size()));
    std::vector<rustorium::proof::SmtProof> proofs;
    double start = NowUs();
    for (long i = 0; i < probes; ++i) {
      auto p = tree_->Prove(keys_[i * (keys_.size() / probes)].key);
      if (!p.ok()) Die(p.status(), "prove");
      proofs.push_back(std::move(*p));
    }
    f.prove_us = (NowUs() - start) / probes;
    start = NowUs();
    for (long i = 0; i < probes; ++i) {
      const SmtUpdate& u = keys_[i * (keys_.size() / probes)];
      rustorium::Status s = rustorium::proof::VerifyProof(root, u.key, u.value, proofs[i]);
      if (!s.ok()) Die(s, "verify");
    }
    f.verify_us = (NowUs() - start) / probes;
    double bytes = 0;
    for (const auto& p : proofs) bytes += p.EncodeBinary().size();
    f.proof_bytes = bytes / probes;
    return f;
  }

 private:
  std::string dir_;
  std::unique_ptr<rustorium::engine::Engine> engine_;
  std::unique_ptr<SparseMerkleTree> tree_;
  std::vector<SmtUpdate> keys_;
  uint64_t version_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  long keys = 1000000, js_keys = 10000, hashes = 200000, js_hashes = 20000, singles = 10000;
  std::vector<long> batch_sizes = {1, 100, 10000};
  long batch_inserts = 20000;
  std::string dir = "/tmp/rustorium-proof-bench";
  bool skip_js = false;
  CLI::App app{"Authenticated-index benchmark against circomlibjs and js-merkletree"};
  app.add_option("--keys", keys, "Keys of the large tree")->capture_default_str();
  app.add_option("--js-keys", js_keys, "Keys of the tree compared with js-merkletree")
      ->capture_default_str();
  app.add_option("--hashes", hashes, "Poseidon calls timed (ours)")->capture_default_str();
  app.add_option("--js-hashes", js_hashes, "Poseidon calls timed (circomlibjs)")
      ->capture_default_str();
  app.add_option("--singles", singles, "Single inserts into the large tree")->capture_default_str();
  app.add_option("--batch-sizes", batch_sizes,
                 "Sizes of the batches of inserts into the large tree (comma-separated)")
      ->delimiter(',')
      ->check(CLI::Range(1L, 10000000L))
      ->capture_default_str();
  app.add_option("--batch-inserts", batch_inserts, "Keys inserted in batches of each size")
      ->check(CLI::Range(1L, 100000000L))
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied)")->capture_default_str();
  app.add_flag("--skip-js", skip_js, "Only our figures");
  CLI11_PARSE(app, argc, argv);

  std::mt19937_64 rng(77);
  const rustorium::bench::FrMulTimes fr_mul = rustorium::bench::TimeFrMultiplication(2'000'000);
  const double t3 = PoseidonUs(3, hashes), t5 = PoseidonUs(5, hashes);
  std::printf(
      "proof benchmark (hashes and field on one core; the tree's large batches on %d threads; "
      "engine sync none)\n\n",
      rustorium::proof::SmtOptions::DefaultHashThreads());
  rustorium::bench::PrintFrMultiplication(fr_mul);  // RUSTORIUM_FIELD_PORTABLE=1: portable
  std::printf("Poseidon t=3: %.2f us/hash (%.0f hashes/s); t=5: %.2f us/hash (%.0f hashes/s)\n", t3,
              1e6 / t3, t5, 1e6 / t5);

  TreeFigures big;
  {
    Bench b(dir + "/large");
    big = b.Run(keys, singles, batch_sizes, batch_inserts, rng, /*one_first=*/true);
  }
  std::printf("\ntree of %ld keys (max_levels 64):\n", keys);
  std::printf("  bulk build          %.1f s (%.0f keys/s)\n", big.bulk_s, keys / big.bulk_s);
  std::printf("  inserts one by one  %.0f /s (%ld inserts, each its own version and batch)\n",
              big.inserts_one_per_s, singles);
  for (const auto& [size, per_s] : big.inserts_in_batches) {
    std::printf("  inserts in batches  %.0f /s (batches of %ld, %ld keys)\n", per_s, size,
                std::max<long>(1, batch_inserts / size) * size);
  }
  std::printf("  proof generation    %.1f us\n", big.prove_us);
  std::printf("  proof verification  %.1f us\n", big.verify_us);
  std::printf("  proof size          %.0f bytes (binary form, average)\n", big.proof_bytes);

  TreeFigures small;
  {
    Bench b(dir + "/small");
    small = b.Run(0, js_keys, {}, 0, rng, /*one_first=*/true);
  }
  if (skip_js) return 0;
  const std::string cmd = "node " + std::string(RUSTORIUM_ROOT_DIR) + "/bench/js/proof_peer.mjs " +
                          RUSTORIUM_ROOT_DIR + "/tests " + std::to_string(js_keys) + " " +
                          std::to_string(js_hashes);
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (std::size_t n; p != nullptr && (n = std::fread(buf, 1, sizeof(buf), p)) > 0;)
    out.append(buf, n);
  const int status = p != nullptr ? ::pclose(p) : -1;
  auto js = nlohmann::json::parse(out, nullptr, false);
  if (status != 0 || js.is_discarded()) {
    std::fprintf(stderr, "the JavaScript references failed (run tools/install-deps):\n%s\n",
                 out.c_str());
    return 1;
  }
  std::printf("\nside by side on a %ld-key tree (ours in the engine, js-merkletree in memory):\n",
              js_keys);
  std::printf("  %-22s %14s %14s %10s\n", "operation", "rustorium", "JavaScript", "speed-up");
  auto row = [](const char* name, double ours, double theirs, const char* unit,
                bool higher_better) {
    std::printf("  %-22s %11.2f %-3s %10.2f %-3s %9.1fx\n", name, ours, unit, theirs, unit,
                higher_better ? ours / theirs : theirs / ours);
  };
  row("Poseidon t=3", t3, js["poseidon_t3_us"].get<double>(), "us", false);
  row("Poseidon t=5", t5, js["poseidon_t5_us"].get<double>(), "us", false);
  row("insert (one by one)", small.inserts_one_per_s, js["inserts_per_second"].get<double>(), "/s",
      true);
  row("proof generation", small.prove_us, js["prove_us"].get<double>(), "us", false);
  row("proof verification", small.verify_us, js["verify_us"].get<double>(), "us", false);
  std::printf("  %-22s %11.0f B   %10.0f B\n", "proof size", small.proof_bytes,
              js["proof_bytes"].get<double>());
  if (js["valid"].get<int>() != js["probes"].get<int>()) {
    std::fprintf(stderr, "js-merkletree rejected some of its own proofs\n");
    return 1;
  }
  return 0;
}
