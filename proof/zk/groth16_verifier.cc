// Verify and VerifyBatch: the Groth16 pairing check, alone or for many proofs at once.
#include <array>
#include <string>

#include "proof/curve/msm.h"
#include "proof/curve/pairing.h"
#include "proof/zk/groth16.h"

namespace rustorium::proof::zk {
namespace {

// Σ x_i·IC_i with x_0 = 1.
Result<G1> PublicCombination(const VerifyingKey& vk, std::span<const Fr> public_inputs) {
  if (public_inputs.size() != vk.num_public()) {
    return Status::InvalidArgument("expected " + std::to_string(vk.num_public()) +
                                   " public inputs, got " + std::to_string(public_inputs.size()));
  }
  std::vector<Fr> scalars = {Fr::One()};
  scalars.insert(scalars.end(), public_inputs.begin(), public_inputs.end());
  return MultiScalarMul(vk.ic, scalars, MsmOptions{1, 0});
}

// A random nonzero weight below 2^128.
Fr Weight(const ScalarSource& random) {
  for (;;) {
    Limbs x = random().ToCanonical();
    x[2] = x[3] = 0;
    if ((x[0] | x[1]) != 0) return *Fr::FromCanonical(x);
  }
}

// FailedPrecondition when a proof's points are not where a valid proof's are: A and C on
// G1 (whose cofactor is 1), B on the twist and in its order-r subgroup (r·B = 0).
Status CheckProofPoints(const Groth16Proof& proof) {
  if (!proof.a.IsOnCurve() || !proof.c.IsOnCurve()) {
    return Status::FailedPrecondition("the proof's A or C is not on G1");
  }
  if (!proof.b.IsOnCurve() || !IsInG2Subgroup(proof.b)) {
    return Status::FailedPrecondition("the proof's B is not in G2's order-r subgroup");
  }
  return Status::OK();
}

Status BadKey(const std::string& why) {
  return Status::InvalidArgument("verification key refused: " + why);
}

}  // namespace

Status CheckVerifyingKey(const VerifyingKey& vk) {
  if (vk.ic.empty()) return BadKey("no IC points");
  const std::array<std::pair<const G2Affine*, const char*>, 3> g2 = {
      std::pair{&vk.beta2, "beta2"}, std::pair{&vk.gamma2, "gamma2"},
      std::pair{&vk.delta2, "delta2"}};
  if (vk.alpha1.IsInfinity()) return BadKey("alpha1 is the point at infinity");
  if (!vk.alpha1.IsOnCurve()) return BadKey("alpha1 is not on G1");
  for (const auto& [p, name] : g2) {
    if (p->IsInfinity()) return BadKey(std::string(name) + " is the point at infinity");
    if (!p->IsOnCurve() || !IsInG2Subgroup(*p)) {
      return BadKey(std::string(name) + " is not in G2's order-r subgroup");
    }
  }
  for (std::size_t i = 0; i < vk.ic.size(); ++i) {
    if (vk.ic[i].IsInfinity())
      return BadKey("IC[" + std::to_string(i) + "] is the point at infinity");
    if (!vk.ic[i].IsOnCurve()) return BadKey("IC[" + std::to_string(i) + "] is not on G1");
  }
  // Each of these lets anyone satisfy the pairing check from the key's own points:
  // γ = ±δ with (α₁, β₂, ∓Σ x_i·IC_i), and β = ±γ with (α₁ ± Σ x_i·IC_i, β₂, 0).
  if (vk.gamma2 == vk.delta2) {
    return BadKey(
        "gamma2 equals delta2 (a snarkjs key before any contribution): anyone can prove "
        "anything under it");
  }
  if (vk.gamma2 == -vk.delta2) {
    return BadKey("gamma2 equals -delta2: anyone can prove anything under it");
  }
  if (vk.beta2 == vk.gamma2 || vk.beta2 == -vk.gamma2) {
    return BadKey(
        "beta2 equals gamma2 or its negation (a powers-of-tau file without any contribution "
        "has beta2 = gamma2 = the generator): anyone can prove anything under it");
  }
  return Status::OK();
}

Status Verify(const VerifyingKey& vk, std::span<const Fr> public_inputs,
              const Groth16Proof& proof) {
  RETURN_IF_ERROR(CheckVerifyingKey(vk));
  ASSIGN_OR_RETURN(G1 vk_x, PublicCombination(vk, public_inputs));
  RETURN_IF_ERROR(CheckProofPoints(proof));
  const std::array<PairingInput, 4> pairs = {
      PairingInput{-proof.a, proof.b}, PairingInput{vk.alpha1, vk.beta2},
      PairingInput{vk_x.ToAffine(), vk.gamma2}, PairingInput{proof.c, vk.delta2}};
  if (!PairingProductIsOne(pairs)) {
    return Status::FailedPrecondition("the Groth16 pairing check fails");
  }
  return Status::OK();
}

Status VerifyBatch(const VerifyingKey& vk, std::span<const ProofToVerify> proofs,
                   const ScalarSource& random) {
  RETURN_IF_ERROR(CheckVerifyingKey(vk));
  std::vector<PairingInput> pairs;
  std::vector<G1> scaled_a;
  Fr weight_sum;
  G1 vk_x_sum, c_sum;
  for (const ProofToVerify& p : proofs) {
    ASSIGN_OR_RETURN(G1 vk_x, PublicCombination(vk, p.public_inputs));
    RETURN_IF_ERROR(CheckProofPoints(p.proof));
    const Fr rho = Weight(random);
    weight_sum += rho;
    vk_x_sum += vk_x * rho;
    c_sum += G1(p.proof.c) * rho;
    scaled_a.push_back(-(G1(p.proof.a) * rho));
  }
  const std::vector<G1Affine> a = G1::BatchToAffine(scaled_a);
  for (std::size_t i = 0; i < proofs.size(); ++i) pairs.push_back({a[i], proofs[i].proof.b});
  pairs.push_back({(G1(vk.alpha1) * weight_sum).ToAffine(), vk.beta2});
  pairs.push_back({vk_x_sum.ToAffine(), vk.gamma2});
  pairs.push_back({c_sum.ToAffine(), vk.delta2});
  if (!PairingProductIsOne(pairs)) {
    return Status::FailedPrecondition("the batched Groth16 pairing check fails");
  }
  return Status::OK();
}

}  // namespace rustorium::proof::zk
