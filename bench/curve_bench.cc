// BN254 arithmetic measured, side by side with ffjavascript's bn128 (snarkjs's engine) in one
// run.
//
// Ours: Fr and Fq multiplication, G1 addition and doubling, the pairing and a 4-pairing
// product, G1 multi-scalar multiplication of 2^k points (--msm, default 16,18,20) on 1 and 2
// threads, and NTTs of 2^k elements (--ntt, default 16..20) on 1 and 2 threads. Then
// ffjavascript's G1 MSM on the same points and scalars (its results must equal ours) on one
// thread and on its worker pool, and its pairing, printed with the ratios.
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/fr_kernels.h"
#include "proof/curve/msm.h"
#include "proof/curve/pairing.h"
#include "proof/field/ntt.h"

#ifndef RUSTORIUM_ROOT_DIR
#error "RUSTORIUM_ROOT_DIR must name the repository root"
#endif

namespace {

using namespace rustorium::proof;  // NOLINT(google-build-using-namespace): a benchmark driver

double NowNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

volatile uint64_t g_sink;  // keeps timed results alive

// The best of five runs of `n` calls, in ns per call.
template <typename F>
double BestNs(long n, F f) {
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    const double start = NowNs();
    for (long i = 0; i < n; ++i) f();
    best = std::min(best, (NowNs() - start) / static_cast<double>(n));
  }
  return best;
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    out.push_back(std::stoi(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

std::string JsonPoint(const G1Affine& p) {
  if (p.IsInfinity()) return "null";
  return nlohmann::json::array({p.x().ToDecimal(), p.y().ToDecimal()}).dump();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"BN254 curve arithmetic against ffjavascript"};
  std::string msm_sizes = "16,18,20", ntt_sizes = "16,17,18,19,20";
  int pairings = 20;
  bool skip_js = false;
  app.add_option("--msm", msm_sizes, "log2 sizes of the G1 MSMs");
  app.add_option("--ntt", ntt_sizes, "log2 sizes of the NTTs");
  app.add_option("--pairings", pairings, "pairings to average over");
  app.add_flag("--skip-js", skip_js, "ours only");
  CLI11_PARSE(app, argc, argv);
  const std::vector<int> msm_logs = ParseList(msm_sizes), ntt_logs = ParseList(ntt_sizes);

  std::mt19937_64 rng(2026);
  auto random_fr = [&] { return Fr::FromLimbsReduced({rng(), rng(), rng(), rng() >> 2}); };

  const rustorium::bench::FrMulTimes fr_mul = rustorium::bench::TimeFrMultiplication(2'000'000);
  Fq fq_a = Fq::FromUint64(rng()).Inverse(), fq_b = Fq::FromUint64(rng());
  const double fq_mul = BestNs(2'000'000, [&] {
    fq_a = fq_a * fq_b;
    g_sink = fq_a.montgomery()[0];
  });
  G1 p(G1Generator()), q = p.Double();
  const G1Affine pa = (p * random_fr()).ToAffine();
  const double g1_add = BestNs(200'000, [&] { q = q + p; });
  const double g1_madd = BestNs(200'000, [&] { q = q + pa; });
  const double g1_dbl = BestNs(200'000, [&] { q = q.Double(); });
  g_sink = q.x().montgomery()[0];
  Fq12 e;
  const double pairing_us =
      BestNs(pairings, [&] { e = Pairing(G1Generator(), G2Generator()); }) / 1e3;
  const std::vector<PairingInput> four = {{pa, G2Generator()},
                                          {G1Generator(), G2Generator()},
                                          {-pa, G2Generator()},
                                          {-G1Generator(), G2Generator()}};
  bool one = false;
  const double pairing4_us = BestNs(pairings, [&] { one = PairingProductIsOne(four); }) / 1e3;
  if (!one) {
    std::fprintf(stderr, "the 4-pairing product is not 1\n");
    return 1;
  }
  std::printf("ours (one thread unless marked):\n");
  rustorium::bench::PrintFrMultiplication(fr_mul);
  std::printf("  Fq multiplication       %8.1f ns\n", fq_mul);
  std::printf("  G1 addition (Jacobian)  %8.1f ns\n", g1_add);
  std::printf("  G1 mixed addition       %8.1f ns\n", g1_madd);
  std::printf("  G1 doubling             %8.1f ns\n", g1_dbl);
  std::printf("  pairing                 %8.1f us\n", pairing_us);
  std::printf("  4-pairing product       %8.1f us\n", pairing4_us);

  // MSM inputs: distinct points (multiples of one random point, converted in one batch) and
  // random scalars, written for the JavaScript side in snarkjs's binary forms.
  const int max_log = *std::max_element(msm_logs.begin(), msm_logs.end());
  const std::size_t max_n = std::size_t{1} << max_log;
  std::vector<G1> jacobian;
  jacobian.reserve(max_n);
  const G1 step = p * random_fr();
  G1 cur = step;
  for (std::size_t i = 0; i < max_n; ++i) {
    jacobian.push_back(cur);
    cur += step;
  }
  const std::vector<G1Affine> points = G1::BatchToAffine(jacobian);
  jacobian = {};
  std::vector<Fr> scalars;
  scalars.reserve(max_n);
  for (std::size_t i = 0; i < max_n; ++i) scalars.push_back(random_fr());

  std::vector<std::string> our_results;
  std::printf("  %-22s %12s %12s\n", "G1 MSM", "1 thread", "2 threads");
  std::vector<std::pair<double, double>> our_msm;
  for (int log : msm_logs) {
    const std::size_t n = std::size_t{1} << log;
    const std::span<const G1Affine> ps(points.data(), n);
    const std::span<const Fr> ks(scalars.data(), n);
    double ms[2];
    G1Affine result;
    for (int threads : {1, 2}) {
      const double start = NowNs();
      auto r = MultiScalarMul(ps, ks, {.threads = threads});
      ms[threads - 1] = (NowNs() - start) / 1e6;
      result = r->ToAffine();
    }
    our_msm.push_back({ms[0], ms[1]});
    our_results.push_back(JsonPoint(result));
    std::printf("  2^%-20d %9.1f ms %9.1f ms   (window %d bits)\n", log, ms[0], ms[1],
                MsmWindowBits(n));
    // The same MSM with Jacobian buckets only (the method before affine buckets): the ratio.
    double jac_ms[2];
    for (int threads : {1, 2}) {
      const double start = NowNs();
      auto r = MultiScalarMul(ps, ks, {.threads = threads, .affine_buckets = false});
      jac_ms[threads - 1] = (NowNs() - start) / 1e6;
      if (r->ToAffine() != result) {
        std::fprintf(stderr, "Jacobian and affine buckets disagree at 2^%d\n", log);
        return 1;
      }
    }
    std::printf("  %-22s %9.1f ms %9.1f ms   (%.2fx, %.2fx slower)\n", "  Jacobian buckets",
                jac_ms[0], jac_ms[1], jac_ms[0] / ms[0], jac_ms[1] / ms[1]);
  }
  std::printf("  %-22s %12s %12s\n", "NTT (forward)", "1 thread", "2 threads");
  for (int log : ntt_logs) {
    std::vector<Fr> values(std::size_t{1} << log);
    for (Fr& v : values) v = random_fr();
    double ms[2];
    for (int threads : {1, 2}) {
      const double start = NowNs();
      if (!Ntt(values, {.threads = threads}).ok()) return 1;
      ms[threads - 1] = (NowNs() - start) / 1e6;
    }
    std::printf("  2^%-20d %9.1f ms %9.1f ms\n", log, ms[0], ms[1]);
  }
  if (skip_js) return 0;

  char path[] = "/tmp/rustorium-curve-bench-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 1;
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    for (const G1Affine& pt : points) {
      const auto b = EncodeG1Snarkjs(pt);
      out.write(reinterpret_cast<const char*>(b.data()), b.size());
    }
    for (const Fr& k : scalars) {
      const auto b = k.ToBytesLE();
      out.write(reinterpret_cast<const char*>(b.data()), b.size());
    }
  }
  const std::string cmd = "node " + std::string(RUSTORIUM_ROOT_DIR) + "/bench/js/curve_peer.mjs " +
                          RUSTORIUM_ROOT_DIR + "/tests " + path + " " + msm_sizes + " " +
                          std::to_string(pairings);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  for (std::size_t n; pipe != nullptr && (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) {
    text.append(buf, n);
  }
  const int status = pipe != nullptr ? ::pclose(pipe) : -1;
  ::unlink(path);
  auto js = nlohmann::json::parse(text, nullptr, false);
  if (status != 0 || js.is_discarded()) {
    std::fprintf(stderr, "ffjavascript failed (run tools/install-deps):\n%s\n", text.c_str());
    return 1;
  }
  std::printf("\nside by side with ffjavascript 0.2.63 (its worker pool: %d threads):\n",
              js["workers"].get<int>());
  std::printf("  %-16s %12s %12s %9s   %12s %12s %9s\n", "operation", "ours, 1 th", "js, 1 th",
              "speed-up", "ours, 2 th", "js, pool", "speed-up");
  for (std::size_t i = 0; i < msm_logs.size(); ++i) {
    const auto& row = js["msm"][std::to_string(msm_logs[i])];
    if (row["result"].dump() != our_results[i]) {
      std::fprintf(stderr, "MSM 2^%d: ffjavascript's result differs from ours\n", msm_logs[i]);
      return 1;
    }
    const double js1 = row["one_ms"].get<double>(), jsn = row["all_ms"].get<double>();
    std::printf("  G1 MSM 2^%-7d %9.1f ms %9.1f ms %8.2fx   %9.1f ms %9.1f ms %8.2fx\n",
                msm_logs[i], our_msm[i].first, js1, js1 / our_msm[i].first, our_msm[i].second, jsn,
                jsn / our_msm[i].second);
  }
  const double jsp = js["pairing_us"].get<double>(), jsp4 = js["pairing4_us"].get<double>();
  std::printf("  %-16s %9.1f us %9.1f us %8.2fx\n", "pairing", pairing_us, jsp, jsp / pairing_us);
  std::printf("  %-16s %9.1f us %9.1f us %8.2fx\n", "4-pairing check", pairing4_us, jsp4,
              jsp4 / pairing4_us);
  std::printf("  (MSM results equal ffjavascript's for every size)\n");
  return 0;
}
