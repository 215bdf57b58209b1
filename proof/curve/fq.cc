#include "proof/curve/fq.h"

#include "proof/field/prime_field_impl.h"

namespace rustorium::proof {

template class PrimeField<FqParams>;

namespace {

constexpr Limbs kOne = {1, 0, 0, 0};
// (q+1)/4 and (q-1)/2 as integers.
constexpr Limbs kSqrtExponent = field_detail::ShiftRight(field_detail::Add(Fq::kModulus, kOne), 2);
constexpr Limbs kHalf = field_detail::ShiftRight(field_detail::Sub(Fq::kModulus, kOne), 1);

}  // namespace

std::optional<Fq> Sqrt(const Fq& a) {
  const Fq root = a.Pow(kSqrtExponent);
  if (root.Square() != a) return std::nullopt;
  return root;
}

bool IsSquare(const Fq& a) {
  // Euler's criterion: a^((q-1)/2) is 1 for nonzero squares, -1 otherwise.
  return a.IsZero() || a.Pow(kHalf) == Fq::One();
}

bool IsLexicographicallyLargest(const Fq& a) {
  const Limbs v = a.ToCanonical();
  return !field_detail::GreaterOrEqual(kHalf, v);  // v > (q-1)/2
}

}  // namespace rustorium::proof
