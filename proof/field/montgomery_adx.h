// The x86-64 Montgomery kernels of field_detail::Montgomery (proof/field/prime_field.h), in
// inline assembly with BMI2's mulx and ADX's adcx/adox: two carry chains (CF and OF), so that
// the low and high halves of a row's products are added without waiting on one flag. Included
// by prime_field.h where RUSTORIUM_FIELD_ADX is set; called only where UseAdx() says the CPU
// has BMI2 and ADX.
//
// Registers: the 512-bit kernels name their eight limbs as outputs of one asm block and keep
// the constants (p, kInv, a zero word) in memory, so that they fit in the registers left with a
// frame pointer and the sanitizers (at most 12 of them).
#pragma once

#include <cstdint>

#include "proof/field/prime_field.h"

namespace rustorium::proof::field_detail {

// The zero that adcx/adox take as a memory operand to add a lone carry.
inline constexpr uint64_t kZeroWord = 0;

// Per round i, in one block of inline assembly: t += a·b[i] into five limbs, then t += m·p
// with m = t0·kInv, and t shifted down a limb. The bound that lets the portable loop go
// without a fifth limb (p < 2^254) keeps every intermediate below 2^320, so neither chain
// carries out of t4. (All four rounds in one block, the registers turning instead of the
// shift, measured no faster.)
template <typename P>
inline Limbs Montgomery<P>::MontMulAdx(const Limbs& a, const Limbs& b) {
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int i = 0; i < 4; ++i) {
    uint64_t t4 = 0, lo, hi, zero, rdx = b[i];
    asm("xorl %k[zero], %k[zero]\n\t"  // zero = 0; CF = OF = 0
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[t0]\n\t"
        "adcxq %[hi], %[t1]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[t1]\n\t"
        "adcxq %[hi], %[t2]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[t2]\n\t"
        "adcxq %[hi], %[t3]\n\t"
        "mulxq 24(%[a]), %[lo], %[t4]\n\t"
        "adoxq %[lo], %[t3]\n\t"
        "adcxq %[zero], %[t4]\n\t"
        "adoxq %[zero], %[t4]\n\t"
        // m = t0 * kInv mod 2^64, then t += m * p; t0 becomes zero.
        "movq %[t0], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[hi], %k[hi]\n\t"  // CF = OF = 0
        "mulxq 0(%[p]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq 8(%[p]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq 16(%[p]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq 24(%[p]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "adcxq %[zero], %[t4]"
        : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [t4] "+&r"(t4),
          [lo] "=&r"(lo), [hi] "=&r"(hi), [zero] "=&r"(zero), "+&d"(rdx)
        : [a] "r"(a.data()), [p] "r"(kM.data()), [inv] "rm"(kInv),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(a.data())),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(kM.data()))
        : "cc");
    t0 = t1;
    t1 = t2;
    t2 = t3;
    t3 = t4;
  }
  return ReduceOnce(t0, t1, t2, t3);
}

// The 512-bit product, row by row: row i adds a·b[i] at limb i, low halves on OF, high halves
// on CF.
template <typename P>
inline Wide Montgomery<P>::MulWideAdx(const Limbs& a, const Limbs& b) {
  uint64_t r0, r1, r2, r3, r4, r5, r6, r7, lo, hi;
  asm(
      // r[0..4] += a·b[0]
      "movq 0(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[r0], %[r1]\n\t"
      "mulxq 8(%[a]), %[lo], %[r2]\n\t"
      "adcxq %[lo], %[r1]\n\t"
      "mulxq 16(%[a]), %[lo], %[r3]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "mulxq 24(%[a]), %[lo], %[r4]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "adcxq %[zero], %[r4]\n\t"
      // r[1..5] += a·b[1]
      "movq 8(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 24(%[a]), %[lo], %[r5]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[zero], %[r5]\n\t"
      "adoxq %[zero], %[r5]\n\t"
      // r[2..6] += a·b[2]
      "movq 16(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r5]\n\t"
      "mulxq 24(%[a]), %[lo], %[r6]\n\t"
      "adoxq %[lo], %[r5]\n\t"
      "adcxq %[zero], %[r6]\n\t"
      "adoxq %[zero], %[r6]\n\t"
      // r[3..7] += a·b[3]
      "movq 24(%[b]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r5]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r5]\n\t"
      "adcxq %[hi], %[r6]\n\t"
      "mulxq 24(%[a]), %[lo], %[r7]\n\t"
      "adoxq %[lo], %[r6]\n\t"
      "adcxq %[zero], %[r7]\n\t"
      "adoxq %[zero], %[r7]"
      : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4),
        [r5] "=&r"(r5), [r6] "=&r"(r6), [r7] "=&r"(r7), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [a] "r"(a.data()), [b] "r"(b.data()), [zero] "m"(kZeroWord),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(a.data())),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(b.data()))
      : "rdx", "cc");
  return {r0, r1, r2, r3, r4, r5, r6, r7};
}

// The 512-bit square: ten products instead of sixteen.
template <typename P>
inline Wide Montgomery<P>::SquareWideAdx(const Limbs& a) {
  uint64_t r0, r1, r2, r3, r4, r5, r6, r7, lo, hi;
  asm(
      // The products a_i·a_j for i < j into r1..r6 (CF and OF chains; both end clear).
      "movq 0(%[a]), %%rdx\n\t"
      "xorl %k[lo], %k[lo]\n\t"
      "mulxq 8(%[a]), %[r1], %[r2]\n\t"
      "mulxq 16(%[a]), %[lo], %[r3]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "mulxq 24(%[a]), %[lo], %[r4]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "movq 8(%[a]), %%rdx\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 24(%[a]), %[lo], %[r5]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[zero], %[r5]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq 24(%[a]), %[lo], %[r6]\n\t"
      "adoxq %[lo], %[r5]\n\t"
      "adoxq %[zero], %[r6]\n\t"
      // Doubled (adcx) and the squares a_i² added (adox).
      "movq 0(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[r0], %[hi]\n\t"
      "adcxq %[r1], %[r1]\n\t"
      "adoxq %[hi], %[r1]\n\t"
      "movq 8(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[hi]\n\t"
      "adcxq %[r2], %[r2]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[r3], %[r3]\n\t"
      "adoxq %[hi], %[r3]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[hi]\n\t"
      "adcxq %[r4], %[r4]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[r5], %[r5]\n\t"
      "adoxq %[hi], %[r5]\n\t"
      "movq 24(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[r7]\n\t"
      "adcxq %[r6], %[r6]\n\t"
      "adoxq %[lo], %[r6]\n\t"
      "adcxq %[zero], %[r7]\n\t"
      "adoxq %[zero], %[r7]"
      : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4),
        [r5] "=&r"(r5), [r6] "=&r"(r6), [r7] "=&r"(r7), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [a] "r"(a.data()), [zero] "m"(kZeroWord),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(a.data()))
      : "rdx", "cc");
  return {r0, r1, r2, r3, r4, r5, r6, r7};
}

// REDC of t < p·2^256 as ReduceWide describes: the low half reduced in four rounds that turn
// four registers, then added to the high half.
template <typename P>
inline Limbs Montgomery<P>::ReduceWideAdx(const Wide& t) {
  uint64_t r0 = t[0], r1 = t[1], r2 = t[2], r3 = t[3], r4 = t[4], r5 = t[5], r6 = t[6], r7 = t[7],
           lo, hi;
  asm(
      // u = r0..r3; four rounds of u += m·p with m = u0·kInv, u >>= 64 (the registers turn)
      "movq %[r0], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[hi], %k[hi]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r0]\n\t"
      "adoxq %[hi], %[r1]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r1]\n\t"
      "adoxq %[hi], %[r2]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "adoxq %[hi], %[r3]\n\t"
      "mulxq %[p3], %[lo], %[r0]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "adcxq %[zero], %[r0]\n\t"
      "adoxq %[zero], %[r0]\n\t"
      "movq %[r1], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[hi], %k[hi]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r1]\n\t"
      "adoxq %[hi], %[r2]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "adoxq %[hi], %[r3]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "adoxq %[hi], %[r0]\n\t"
      "mulxq %[p3], %[lo], %[r1]\n\t"
      "adcxq %[lo], %[r0]\n\t"
      "adcxq %[zero], %[r1]\n\t"
      "adoxq %[zero], %[r1]\n\t"
      "movq %[r2], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[hi], %k[hi]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "adoxq %[hi], %[r3]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "adoxq %[hi], %[r0]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r0]\n\t"
      "adoxq %[hi], %[r1]\n\t"
      "mulxq %[p3], %[lo], %[r2]\n\t"
      "adcxq %[lo], %[r1]\n\t"
      "adcxq %[zero], %[r2]\n\t"
      "adoxq %[zero], %[r2]\n\t"
      "movq %[r3], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[hi], %k[hi]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r3]\n\t"
      "adoxq %[hi], %[r0]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r0]\n\t"
      "adoxq %[hi], %[r1]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adcxq %[lo], %[r1]\n\t"
      "adoxq %[hi], %[r2]\n\t"
      "mulxq %[p3], %[lo], %[r3]\n\t"
      "adcxq %[lo], %[r2]\n\t"
      "adcxq %[zero], %[r3]\n\t"
      "adoxq %[zero], %[r3]\n\t"
      // r4..r7 += u
      "addq %[r0], %[r4]\n\t"
      "adcq %[r1], %[r5]\n\t"
      "adcq %[r2], %[r6]\n\t"
      "adcq %[r3], %[r7]"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [r4] "+&r"(r4),
        [r5] "+&r"(r5), [r6] "+&r"(r6), [r7] "+&r"(r7), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [p0] "m"(kM[0]), [p1] "m"(kM[1]), [p2] "m"(kM[2]), [p3] "m"(kM[3]), [inv] "m"(kInv),
        [zero] "m"(kZeroWord)
      : "rdx", "cc");
  return ReduceOnce(r4, r5, r6, r7);
}

}  // namespace rustorium::proof::field_detail
