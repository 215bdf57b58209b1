#include "proof/curve/fq_tower.h"

namespace rustorium::proof {

std::optional<Fq2> Sqrt(const Fq2& a) {
  // The "complex" method for q ≡ 3 (mod 4): with n = a0² + a1² (the norm) and
  // δ = (a0 ± √n)/2, x0 = √δ and x1 = a1/(2·x0) give (x0 + x1·u)² = a.
  if (a.c1.IsZero()) {
    // a is in Fq: either a0 or -a0 is a square there (-1 is not), and √-1 = u.
    if (auto r = Sqrt(a.c0)) return Fq2{*r, Fq::Zero()};
    if (auto r = Sqrt(-a.c0)) return Fq2{Fq::Zero(), *r};
    return std::nullopt;  // unreachable: one of a0, -a0 is a square
  }
  const auto alpha = Sqrt(a.c0.Square() + a.c1.Square());
  if (!alpha) return std::nullopt;  // a square has a square norm
  const Fq half = Fq::FromUint64(2).Inverse();
  std::optional<Fq> x0 = Sqrt((a.c0 + *alpha) * half);
  if (!x0) x0 = Sqrt((a.c0 - *alpha) * half);
  if (!x0 || x0->IsZero()) return std::nullopt;
  const Fq2 root{*x0, a.c1 * (x0->Double()).Inverse()};
  if (root.Square() != a) return std::nullopt;
  return root;
}

bool IsLexicographicallyLargest(const Fq2& a) {
  return a.c1.IsZero() ? IsLexicographicallyLargest(a.c0) : IsLexicographicallyLargest(a.c1);
}

}  // namespace rustorium::proof
