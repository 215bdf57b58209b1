// Fr's Montgomery multiplication and squaring timed with each kernel
// (proof/field/prime_field.h), for the benchmarks that print them (curve_bench, proof_bench):
// the kernel MontMul chose for this CPU, the portable one and, where the CPU has BMI2 and ADX,
// the mulx/adx one.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "proof/field/fr.h"

namespace rustorium::bench {

struct FrMulTimes {
  double chosen_ns = 0;           // MontMul, as everyone calls it
  double portable_ns = 0;         // MontMulPortable
  double adx_ns = 0;              // MontMulAdx; 0 where the CPU lacks it
  double square_chosen_ns = 0;    // MontSquare
  double square_portable_ns = 0;  // MontSquarePortable
  double square_adx_ns = 0;       // MontSquareAdx; 0 where the CPU lacks it
};

// Best of five dependent chains of `n` multiplications (x = x·y) or squarings (x = x²) per
// kernel, in ns per operation.
inline FrMulTimes TimeFrMultiplication(long n) {
  using Mont = proof::field_detail::Montgomery<proof::FrParams>;
  proof::Limbs x = proof::Fr::FromUint64(3).Inverse().montgomery();
  const proof::Limbs y = proof::Fr::FromUint64(7).Inverse().montgomery();
  auto best_ns = [&](proof::Limbs (*mul)(const proof::Limbs&, const proof::Limbs&)) {
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      for (long i = 0; i < n; ++i) x = mul(x, y);
      const std::chrono::duration<double, std::nano> took =
          std::chrono::steady_clock::now() - start;
      best = std::min(best, took.count() / static_cast<double>(n));
    }
    return best;
  };
  FrMulTimes t;
  t.chosen_ns =
      best_ns([](const proof::Limbs& a, const proof::Limbs& b) { return Mont::MontMul(a, b); });
  t.portable_ns = best_ns(&Mont::MontMulPortable);
  t.square_chosen_ns =
      best_ns([](const proof::Limbs& a, const proof::Limbs&) { return Mont::MontSquare(a); });
  t.square_portable_ns = best_ns(
      [](const proof::Limbs& a, const proof::Limbs&) { return Mont::MontSquarePortable(a); });
#if RUSTORIUM_FIELD_ADX
  if (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx")) {
    t.adx_ns = best_ns(&Mont::MontMulAdx);
    t.square_adx_ns =
        best_ns([](const proof::Limbs& a, const proof::Limbs&) { return Mont::MontSquareAdx(a); });
  }
#endif
  if (x[0] == 0 && x[1] == 0) std::printf("(unlikely zero)\n");  // keeps the chains alive
  return t;
}

// Six lines: for multiplication, then squaring, the chosen kernel's time, then each kernel's.
inline void PrintFrMultiplication(const FrMulTimes& t) {
  auto three = [](const char* what, double chosen, double portable, double adx) {
    std::printf("  Fr %-21s%8.1f ns\n", what, chosen);
    std::printf("    portable kernel       %8.1f ns\n", portable);
    if (adx > 0) {
      std::printf("    mulx/adx kernel       %8.1f ns (portable / mulx: %.2fx)\n", adx,
                  portable / adx);
    } else {
      std::printf("    mulx/adx kernel       not on this CPU\n");
    }
  };
  three("multiplication", t.chosen_ns, t.portable_ns, t.adx_ns);
  three("squaring", t.square_chosen_ns, t.square_portable_ns, t.square_adx_ns);
}

}  // namespace rustorium::bench
