// Groth16 over BN254 in snarkjs's shape, so that keys and proofs move between us and snarkjs
// (proof/zk/snarkjs_files.h) and snarkjs's verifier accepts our proofs.
//
// snarkjs departs from the textbook QAP in two ways, followed here exactly:
//  - The A matrix gets num_public + 1 extra rows, row num_constraints + i holding wire i
//    (the constant and each public input), which makes the public inputs' A polynomials
//    linearly independent. The domain is the smallest power of two above
//    num_constraints + num_public.
//  - H is never divided out: A, B and C = A∘B are interpolated on the domain of size n and
//    evaluated on the odd coset ω_2n·⟨ω_n⟩, where the vanishing polynomial is the constant
//    -2; the key's H points are the 2n-domain Lagrange basis at the odd points, divided by
//    δ, so Σ (a·b - c)(ω_2n^(2i+1))·H_i is [h(τ)·Z(τ)/δ]₁.
// The coefficients of A and B are kept as the key lists them (snarkjs's coefficient
// section), and the prover evaluates A·w and B·w from them, never from the R1CS.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/status.h"
#include "proof/curve/g1.h"
#include "proof/curve/g2.h"
#include "proof/field/fr.h"
#include "proof/zk/r1cs.h"

namespace rustorium::proof::zk {

struct VerifyingKey {
  G1Affine alpha1;
  G2Affine beta2, gamma2, delta2;
  std::vector<G1Affine> ic;  // num_public + 1: [(β·u_i + α·v_i + w_i)/γ]₁ for wires 0..num_public

  std::size_t num_public() const { return ic.empty() ? 0 : ic.size() - 1; }
};

// One entry of A or B: matrix 0 (A) or 1 (B), row, wire, value (standard form).
struct QapCoefficient {
  uint32_t matrix;
  uint32_t row;
  uint32_t wire;
  Fr value;
};

struct ProvingKey {
  uint32_t num_wires = 0;
  uint32_t num_public = 0;
  uint32_t domain_size = 0;  // n, a power of two
  G1Affine alpha1, beta1, delta1;
  G2Affine beta2, gamma2, delta2;
  std::vector<G1Affine> ic;                  // num_public + 1
  std::vector<QapCoefficient> coefficients;  // A and B, with A's extra public rows
  std::vector<G1Affine> a, b1;               // num_wires: [u_i(τ)]₁, [v_i(τ)]₁
  std::vector<G2Affine> b2;                  // num_wires: [v_i(τ)]₂
  std::vector<G1Affine> c;                   // private wires: [(β·u_i + α·v_i + w_i)/δ]₁
  std::vector<G1Affine> h;                   // domain_size: [L^(2n)_(2i+1)(τ)/δ]₁

  VerifyingKey verifying_key() const;
  // InvalidArgument when the sizes disagree with each other (a key from an untrusted file).
  Status CheckShape() const;
};

struct Groth16Proof {
  G1Affine a;
  G2Affine b;
  G1Affine c;
  friend bool operator==(const Groth16Proof&, const Groth16Proof&) = default;
};

// A source of uniformly random scalars (nonzero not guaranteed). The default draws from the
// operating system's CSPRNG (getrandom); tests pass seeded ones to replay.
using ScalarSource = std::function<Fr()>;
Fr SecureRandomScalar();

struct Groth16Options {
  int threads = 0;  // 0: all cores
  ScalarSource random = SecureRandomScalar;
};

// The smallest power of two above num_constraints + num_public (snarkjs's domain).
uint32_t Groth16DomainSize(const R1cs& r1cs);

// A proving key from fresh toxic waste (τ, α, β, γ, δ drawn from options.random and then
// forgotten). FOR DEVELOPMENT ONLY: whoever watches this process can forge proofs; a
// deployment imports a key from a multi-party ceremony (DecodeZkey). Silent: callers that
// face a user (rustorium zk setup) print the warning. InvalidArgument for a circuit too
// large for Fr's 2-adicity.
Result<ProvingKey> DevSetup(const R1cs& r1cs, const Groth16Options& options = {});

// OK when `key` is a key of `r1cs` as far as the key shows its circuit: the wire and public
// counts, the domain size and the A and B coefficients (snarkjs's coefficient section: A's
// and B's rows, then A's extra public rows), compared as sets, in any order. The C, H and
// IC points hide the rest of the circuit behind τ: a prover checks those by verifying its
// first proof under the key's own verifying key. InvalidArgument saying what differs.
Status CheckKeyMatchesCircuit(const ProvingKey& key, const R1cs& r1cs);

// A proof for `witness` (num_wires values in wire order). The witness is not checked
// against the circuit here (check with R1cs::CheckSatisfied): an unsatisfying witness gives
// a proof that does not verify. r and s are fresh from options.random, so proofs of the same
// witness differ (zero knowledge). InvalidArgument for a witness of the wrong length or a
// malformed key.
Result<Groth16Proof> Prove(const ProvingKey& key, std::span<const Fr> witness,
                           const Groth16Options& options = {});

// OK when `vk` can be trusted as far as its points tell; InvalidArgument (saying which) for
// a point at infinity (α, β, γ, δ or an IC point), a point off its curve or (G2) outside the
// order-r subgroup, γ₂ = ±δ₂ or β₂ = ±γ₂: snarkjs's `groth16 setup` writes γ = δ = 1 before
// any contribution, a powers of tau without a contribution has β = 1 (and snarkjs's γ is
// always 1), and under such keys the key's own points prove any public inputs.
Status CheckVerifyingKey(const VerifyingKey& vk);

// Whether e(A, B) = e(α, β)·e(Σ x_i·IC_i, γ)·e(C, δ), as one 4-pairing product. OK when the
// proof verifies; FailedPrecondition when it does not, also when A or C is off G1 or B is
// outside G2's order-r subgroup; InvalidArgument when the number of public inputs differs
// from the key's or CheckVerifyingKey refuses the key.
Status Verify(const VerifyingKey& vk, std::span<const Fr> public_inputs, const Groth16Proof& proof);

struct ProofToVerify {
  std::span<const Fr> public_inputs;
  Groth16Proof proof;
};
// Verifies many proofs under one key with one multi-pairing of N + 3 pairs: the checks are
// combined with random 128-bit weights, so a batch with any invalid proof passes with
// probability about 2^-128. OK when all verify; FailedPrecondition when some proof does not
// (then check them one by one to find which) or some proof's points fail Verify's checks;
// InvalidArgument as for Verify.
Status VerifyBatch(const VerifyingKey& vk, std::span<const ProofToVerify> proofs,
                   const ScalarSource& random = SecureRandomScalar);

}  // namespace rustorium::proof::zk
