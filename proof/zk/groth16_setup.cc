// DevSetup: a Groth16 proving key in snarkjs's layout from fresh randomness.
#include <algorithm>
#include <string>
#include <tuple>

#include "proof/field/ntt.h"
#include "proof/zk/groth16.h"
#include "proof/zk/parallel.h"

namespace rustorium::proof::zk {
namespace {

// k·g for a fixed g and many k: a table of j·2^(8i)·g (i < 32, j < 256), so each product is
// at most 32 mixed additions.
template <typename C>
class FixedBase {
 public:
  explicit FixedBase(const AffinePoint<C>& g) {
    std::vector<JacobianPoint<C>> all(32 * 256);
    JacobianPoint<C> base(g);
    for (int i = 0; i < 32; ++i) {
      for (int j = 1; j < 256; ++j) all[i * 256 + j] = all[i * 256 + j - 1] + base;
      base = all[i * 256 + 255] + base;
    }
    table_ = JacobianPoint<C>::BatchToAffine(all);
  }

  JacobianPoint<C> Mul(const Fr& k) const {
    const Limbs limbs = k.ToCanonical();
    JacobianPoint<C> acc;
    for (int i = 0; i < 32; ++i) {
      const unsigned byte = (limbs[i / 8] >> (8 * (i % 8))) & 0xff;
      if (byte != 0) acc += table_[i * 256 + byte];
    }
    return acc;
  }

  // scalars[i]·g for all i, in affine form.
  std::vector<AffinePoint<C>> MulAll(std::span<const Fr> scalars, int threads) const {
    std::vector<JacobianPoint<C>> out(scalars.size());
    ParallelFor(scalars.size(), threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) out[i] = Mul(scalars[i]);
    });
    return JacobianPoint<C>::BatchToAffine(out);
  }

 private:
  std::vector<AffinePoint<C>> table_;
};

// In place: x_i ← 1/x_i (Montgomery's trick); every x_i must be nonzero.
void BatchInvert(std::vector<Fr>& x) {
  std::vector<Fr> prefix(x.size());
  Fr acc = Fr::One();
  for (std::size_t i = 0; i < x.size(); ++i) {
    prefix[i] = acc;
    acc *= x[i];
  }
  Fr inv = acc.Inverse();
  for (std::size_t i = x.size(); i-- > 0;) {
    const Fr xi = x[i];
    x[i] = inv * prefix[i];
    inv *= xi;
  }
}

// The Lagrange basis of the size-`size` domain ⟨ω⟩ at τ, at the indices first, first + step,
// ...: L_k(τ) = (τ^size - 1)/size · ω^k/(τ - ω^k).
std::vector<Fr> LagrangeAt(const Fr& tau, int log_size, uint64_t first, uint64_t step,
                           std::size_t count) {
  const uint64_t size = uint64_t{1} << log_size;
  const Fr omega = RootOfUnity(log_size);
  const Fr factor = (tau.Pow(size) - Fr::One()) * Fr::FromUint64(size).Inverse();
  std::vector<Fr> points(count), denominators(count);
  Fr point = omega.Pow(first);
  const Fr stride = omega.Pow(step);
  for (std::size_t i = 0; i < count; ++i) {
    points[i] = point;
    denominators[i] = tau - point;
    point *= stride;
  }
  BatchInvert(denominators);
  for (std::size_t i = 0; i < count; ++i) points[i] = factor * points[i] * denominators[i];
  return points;
}

Fr NonzeroScalar(const ScalarSource& random) {
  for (;;) {
    const Fr x = random();
    if (!x.IsZero()) return x;
  }
}

}  // namespace

uint32_t Groth16DomainSize(const R1cs& r1cs) {
  const uint64_t rows = r1cs.num_constraints() + r1cs.num_public;
  uint64_t n = 1;
  while (n <= rows) n <<= 1;
  return static_cast<uint32_t>(n);
}

Result<ProvingKey> DevSetup(const R1cs& r1cs, const Groth16Options& options) {
  const uint64_t n = Groth16DomainSize(r1cs);
  int log_n = 0;
  while ((uint64_t{1} << log_n) < n) ++log_n;
  if (log_n + 1 > kFrTwoAdicity)
    return Status::InvalidArgument("circuit too large for Fr's roots of unity");
  Fr tau;
  do {
    tau = NonzeroScalar(options.random);
  } while (tau.Pow(2 * n) == Fr::One());  // τ must lie outside the 2n-th roots of unity
  const Fr alpha = NonzeroScalar(options.random), beta = NonzeroScalar(options.random);
  const Fr gamma = NonzeroScalar(options.random), delta = NonzeroScalar(options.random);
  const Fr gamma_inv = gamma.Inverse(), delta_inv = delta.Inverse();

  ProvingKey key;
  key.num_wires = r1cs.num_wires;
  key.num_public = r1cs.num_public;
  key.domain_size = static_cast<uint32_t>(n);

  // u, v, w: the wires' A, B, C polynomials at τ; the coefficient list in snarkjs's order
  // (per row: A's terms, then B's; then the extra rows).
  const std::vector<Fr> lagrange = LagrangeAt(tau, log_n, 0, 1, n);
  std::vector<Fr> u(r1cs.num_wires), v(r1cs.num_wires), w(r1cs.num_wires);
  for (std::size_t row = 0; row < r1cs.num_constraints(); ++row) {
    const std::array<const SparseMatrix*, 3> matrices = {&r1cs.a, &r1cs.b, &r1cs.c};
    std::array<std::vector<Fr>*, 3> targets = {&u, &v, &w};
    for (uint32_t m = 0; m < 3; ++m) {
      const SparseMatrix& mat = *matrices[m];
      for (uint64_t k = mat.row_start[row]; k < mat.row_start[row + 1]; ++k) {
        if (mat.wires[k] >= r1cs.num_wires)
          return Status::InvalidArgument("R1CS names a wire out of range");
        (*targets[m])[mat.wires[k]] += mat.coefficients[k] * lagrange[row];
        if (m < 2) {
          key.coefficients.push_back(
              {m, static_cast<uint32_t>(row), mat.wires[k], mat.coefficients[k]});
        }
      }
    }
  }
  for (uint32_t i = 0; i <= r1cs.num_public; ++i) {
    const uint32_t row = static_cast<uint32_t>(r1cs.num_constraints()) + i;
    u[i] += lagrange[row];
    key.coefficients.push_back({0, row, i, Fr::One()});
  }

  const FixedBase<G1Curve> g1(G1Generator());
  const FixedBase<G2Curve> g2(G2Generator());
  auto g1_of = [&](const Fr& x) { return g1.Mul(x).ToAffine(); };
  auto g2_of = [&](const Fr& x) { return g2.Mul(x).ToAffine(); };
  key.alpha1 = g1_of(alpha);
  key.beta1 = g1_of(beta);
  key.delta1 = g1_of(delta);
  key.beta2 = g2_of(beta);
  key.gamma2 = g2_of(gamma);
  key.delta2 = g2_of(delta);

  std::vector<Fr> ic_scalars, c_scalars;
  for (uint32_t i = 0; i < r1cs.num_wires; ++i) {
    const Fr combined = beta * u[i] + alpha * v[i] + w[i];
    if (i <= r1cs.num_public) {
      ic_scalars.push_back(combined * gamma_inv);
    } else {
      c_scalars.push_back(combined * delta_inv);
    }
  }
  key.ic = g1.MulAll(ic_scalars, options.threads);
  key.c = g1.MulAll(c_scalars, options.threads);
  key.a = g1.MulAll(u, options.threads);
  key.b1 = g1.MulAll(v, options.threads);
  key.b2 = g2.MulAll(v, options.threads);
  std::vector<Fr> h = LagrangeAt(tau, log_n + 1, 1, 2, n);
  for (Fr& x : h) x *= delta_inv;
  key.h = g1.MulAll(h, options.threads);
  return key;
}

Status CheckKeyMatchesCircuit(const ProvingKey& key, const R1cs& r1cs) {
  auto differ = [](const std::string& what) {
    return Status::InvalidArgument("the proving key is not this circuit's: " + what + " differ");
  };
  if (key.num_wires != r1cs.num_wires || key.num_public != r1cs.num_public) {
    return differ("the wire counts");
  }
  if (key.domain_size != Groth16DomainSize(r1cs)) return differ("the domain sizes");
  std::vector<QapCoefficient> expected;
  for (uint32_t m = 0; m < 2; ++m) {
    const SparseMatrix& mat = m == 0 ? r1cs.a : r1cs.b;
    for (std::size_t row = 0; row < r1cs.num_constraints(); ++row) {
      for (uint64_t k = mat.row_start[row]; k < mat.row_start[row + 1]; ++k) {
        expected.push_back({m, static_cast<uint32_t>(row), mat.wires[k], mat.coefficients[k]});
      }
    }
  }
  for (uint32_t i = 0; i <= r1cs.num_public; ++i) {
    expected.push_back({0, static_cast<uint32_t>(r1cs.num_constraints()) + i, i, Fr::One()});
  }
  if (expected.size() != key.coefficients.size()) return differ("the coefficient counts");
  std::vector<QapCoefficient> actual = key.coefficients;
  auto by_place = [](const QapCoefficient& x, const QapCoefficient& y) {
    return std::tie(x.matrix, x.row, x.wire) < std::tie(y.matrix, y.row, y.wire);
  };
  std::sort(expected.begin(), expected.end(), by_place);
  std::sort(actual.begin(), actual.end(), by_place);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const QapCoefficient& e = expected[i];
    const QapCoefficient& a = actual[i];
    if (e.matrix != a.matrix || e.row != a.row || e.wire != a.wire || e.value != a.value) {
      return differ(std::string("the coefficients of ") + (e.matrix == 0 ? "A" : "B") + " at row " +
                    std::to_string(e.row));
    }
  }
  return Status::OK();
}

VerifyingKey ProvingKey::verifying_key() const {
  return VerifyingKey{alpha1, beta2, gamma2, delta2, ic};
}

Status ProvingKey::CheckShape() const {
  if (domain_size == 0 || (domain_size & (domain_size - 1)) != 0) {
    return Status::InvalidArgument("proving key: domain size is not a power of two");
  }
  if (num_wires <= num_public || ic.size() != num_public + 1u || a.size() != num_wires ||
      b1.size() != num_wires || b2.size() != num_wires || c.size() != num_wires - num_public - 1u ||
      h.size() != domain_size) {
    return Status::InvalidArgument("proving key: section sizes disagree");
  }
  for (const QapCoefficient& q : coefficients) {
    if (q.matrix > 1 || q.row >= domain_size || q.wire >= num_wires) {
      return Status::InvalidArgument("proving key: coefficient out of range");
    }
  }
  return Status::OK();
}

}  // namespace rustorium::proof::zk
