// Prove: snarkjs's groth16_prove in C++ (see groth16.h for the shape).
#include <sys/random.h>

#include <string>

#include "proof/curve/msm.h"
#include "proof/field/ntt.h"
#include "proof/zk/groth16.h"
#include "proof/zk/parallel.h"

namespace rustorium::proof::zk {

Fr SecureRandomScalar() {
  // Rejection sampling of 254-bit draws: uniform below r, no modular bias.
  for (;;) {
    Limbs x{};
    std::size_t got = 0;
    auto* bytes = reinterpret_cast<uint8_t*>(x.data());
    while (got < sizeof(x)) {
      const ssize_t n = getrandom(bytes + got, sizeof(x) - got, 0);
      if (n > 0) got += static_cast<std::size_t>(n);
    }
    x[3] &= (uint64_t{1} << 62) - 1;
    auto f = Fr::FromCanonical(x);
    if (f.ok()) return *f;
  }
}

Result<Groth16Proof> Prove(const ProvingKey& key, std::span<const Fr> witness,
                           const Groth16Options& options) {
  RETURN_IF_ERROR(key.CheckShape());
  if (witness.size() != key.num_wires) {
    return Status::InvalidArgument("witness has " + std::to_string(witness.size()) +
                                   " values, the key " + std::to_string(key.num_wires) + " wires");
  }
  const std::size_t n = key.domain_size;
  int log_n = 0;
  while ((std::size_t{1} << log_n) < n) ++log_n;
  if (log_n + 1 > kFrTwoAdicity) return Status::InvalidArgument("proving key: domain too large");

  // A·w and B·w on the domain, C = A∘B (snarkjs never reads C's matrix).
  std::vector<Fr> a(n), b(n), c(n);
  for (const QapCoefficient& q : key.coefficients) {
    (q.matrix == 0 ? a : b)[q.row] += q.value * witness[q.wire];
  }
  for (std::size_t i = 0; i < n; ++i) c[i] = a[i] * b[i];

  // To the odd coset ω_2n·⟨ω_n⟩.
  const NttOptions ntt{options.threads};
  const Fr shift = RootOfUnity(log_n + 1);
  for (std::vector<Fr>* values : {&a, &b, &c}) {
    RETURN_IF_ERROR(InverseNtt(*values, ntt));
    RETURN_IF_ERROR(CosetNtt(*values, shift, ntt));
  }
  ParallelFor(n, options.threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) a[i] = a[i] * b[i] - c[i];
  });
  const std::vector<Fr>& abc = a;

  const MsmOptions msm{options.threads, 0};
  // A, B₁ and B₂ take the same scalars (the witness): one digit decomposition for the three.
  ASSIGN_OR_RETURN(MsmDigits digits, MsmDigits::Recode(witness, msm));
  ASSIGN_OR_RETURN(G1 msm_a, MultiScalarMul(key.a, digits, msm));
  ASSIGN_OR_RETURN(G1 msm_b1, MultiScalarMul(key.b1, digits, msm));
  ASSIGN_OR_RETURN(G2 msm_b2, MultiScalarMul(key.b2, digits, msm));
  ASSIGN_OR_RETURN(G1 msm_c, MultiScalarMul(key.c, witness.subspan(key.num_public + 1), msm));
  ASSIGN_OR_RETURN(G1 msm_h, MultiScalarMul(key.h, abc, msm));

  const Fr r = options.random();
  const Fr s = options.random();
  const G1 delta1(key.delta1);
  const G1 pi_a = msm_a + key.alpha1 + delta1 * r;
  const G2 pi_b = msm_b2 + key.beta2 + G2(key.delta2) * s;
  const G1 b1 = msm_b1 + key.beta1 + delta1 * s;
  const G1 pi_c = msm_c + msm_h + pi_a * s + b1 * r - delta1 * (r * s);
  return Groth16Proof{pi_a.ToAffine(), pi_b.ToAffine(), pi_c.ToAffine()};
}

}  // namespace rustorium::proof::zk
