#include "proof/zk/gadgets.h"

#include <cassert>

#include "proof/poseidon/poseidon.h"

namespace rustorium::proof::zk {
namespace {

bool BitOf(const Limbs& v, int i) { return (v[i / 64] >> (i % 64)) & 1; }

// x^5, the Poseidon S-box: x² , x⁴, x⁵ (three constraints), or a constant for a constant.
LC Sbox(ConstraintSystem& cs, const LC& x) {
  if (x.IsConstant()) return LC::Constant(x.ConstantTerm().Pow(5));
  const LC x2 = cs.Multiply(x, x);
  const LC x4 = cs.Multiply(x2, x2);
  return cs.Multiply(x4, x);
}

}  // namespace

void EnforceEqual(ConstraintSystem& cs, const LC& x, const LC& y) {
  cs.Enforce(x - y, LC::Constant(Fr::One()), LC());
}

void EnforceZeroWhen(ConstraintSystem& cs, const LC& cond, const LC& x) {
  cs.Enforce(cond, x, LC());
}

void EnforceNonzeroWhen(ConstraintSystem& cs, const LC& cond, const LC& x) {
  const Fr value = cs.Evaluate(x);
  const LC inverse = LC::Of(cs.Allocate(value.Inverse()));
  const LC product = cs.Multiply(x, inverse);  // 1 exactly when x is nonzero
  cs.Enforce(cond, product - Fr::One(), LC());
}

LC AllocateBit(ConstraintSystem& cs, bool value) {
  const LC b = LC::Of(cs.Allocate(value ? Fr::One() : Fr::Zero()));
  cs.Enforce(b, b - Fr::One(), LC());
  return b;
}

namespace {

// n bits of x (n <= 254), least significant first, with Σ 2^i·bit_i = x enforced.
std::vector<LC> SummedBits(ConstraintSystem& cs, const LC& x, int n) {
  const Limbs v = cs.Evaluate(x).ToCanonical();
  std::vector<LC> bits;
  bits.reserve(n);
  LC sum;
  Fr power = Fr::One();
  for (int i = 0; i < n; ++i) {
    bits.push_back(AllocateBit(cs, BitOf(v, i)));
    sum += bits.back() * power;
    power = power.Double();
  }
  EnforceEqual(cs, sum, x);
  return bits;
}

}  // namespace

std::vector<LC> ToBits(ConstraintSystem& cs, const LC& x, int n) {
  assert(n >= 1 && n <= 253);
  return SummedBits(cs, x, n);
}

std::vector<LC> ToBitsStrict(ConstraintSystem& cs, const LC& x) {
  constexpr int kBits = 254;
  const std::vector<LC> bits = SummedBits(cs, x, kBits);
  // The bits, read as an integer, must not exceed r - 1. Scanning from the top, `equal`
  // says the bits so far match r - 1's; the bits exceed r - 1 exactly when at some position
  // where r - 1 has a 0 the bits still matched above and have a 1 here. At such a position
  // equal_above·bit = equal_above - equal_here, so the sum of those differences is the
  // "greater" flag, linear in the chain.
  const Limbs r_minus_1 = field_detail::Sub(Fr::kModulus, Limbs{1, 0, 0, 0});
  LC equal = LC::Constant(Fr::One());
  LC greater;
  for (int i = kBits - 1; i >= 0; --i) {
    const bool c = BitOf(r_minus_1, i);
    const LC next = cs.Multiply(equal, c ? bits[i] : LC::Constant(Fr::One()) - bits[i]);
    if (!c) greater += equal - next;
    equal = next;
  }
  EnforceEqual(cs, greater, LC());
  return bits;
}

std::pair<LC, LC> Switch(ConstraintSystem& cs, const LC& sel, const LC& l, const LC& r) {
  const LC delta = cs.Multiply(sel, r - l);
  return {l + delta, r - delta};
}

LC Select(ConstraintSystem& cs, const LC& sel, const LC& if_one, const LC& if_zero) {
  return if_zero + cs.Multiply(sel, if_one - if_zero);
}

LC PoseidonHash(ConstraintSystem& cs, std::span<const LC> inputs) {
  assert(!inputs.empty() && inputs.size() <= static_cast<std::size_t>(kPoseidonMaxInputs));
  const PoseidonParams& p = PoseidonParamsFor(static_cast<int>(inputs.size()) + 1);
  const int t = p.t;
  std::vector<LC> state(t);
  for (int i = 1; i < t; ++i) state[i] = inputs[i - 1];
  const int rounds = p.rounds_full + p.rounds_partial;
  const int half_full = p.rounds_full / 2;
  std::vector<LC> next(t);
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < t; ++i) state[i] = state[i] + p.round_constants[round * t + i];
    const bool full = round < half_full || round >= half_full + p.rounds_partial;
    for (int i = 0; i < (full ? t : 1); ++i) state[i] = Sbox(cs, state[i]);
    // The last round's linear layer is needed for state[0] only (the output).
    const int rows = round == rounds - 1 ? 1 : t;
    for (int i = 0; i < rows; ++i) {
      LC sum;
      for (int j = 0; j < t; ++j) sum = sum.Combine(state[j], p.mds[i * t + j]);
      next[i] = std::move(sum);
    }
    for (int i = 0; i < rows; ++i) state[i] = std::move(next[i]);
  }
  return state[0];
}

}  // namespace rustorium::proof::zk
