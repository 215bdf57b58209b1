// Groth16: setup, prove, verify and batch verification on small circuits.
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "proof/curve/pairing.h"
#include "proof/zk/batch_circuit.h"
#include "proof/zk/gadgets.h"
#include "proof/zk/groth16.h"
#include "tests/proof/zk_test_util.h"

namespace rustorium::proof::zk {
namespace {

using testing::F;
using testing::Seeded;

// out = x³ + x·y + 5 with out and y public.
ConstraintSystem Cubic(uint64_t x, uint64_t y) {
  ConstraintSystem cs;
  const Fr out = F(x) * F(x) * F(x) + F(x) * F(y) + F(5);
  const LC pub_out = LC::Of(cs.AllocatePublic(out));
  const LC pub_y = LC::Of(cs.AllocatePublic(F(y)));
  const LC vx = LC::Of(cs.Allocate(F(x)));
  const LC x2 = cs.Multiply(vx, vx);
  const LC x3 = cs.Multiply(x2, vx);
  const LC xy = cs.Multiply(vx, pub_y);
  EnforceEqual(cs, x3 + xy + F(5), pub_out);
  return cs;
}

class Groth16Test : public ::testing::Test {
 protected:
  void SetUp() override {
    cs_ = Cubic(3, 4);
    r1cs_ = cs_.ToR1cs();
    auto key = DevSetup(r1cs_, {1, Seeded(1)});
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
    ASSERT_TRUE(key_.CheckShape().ok());
  }
  Groth16Proof ProveOk(const std::vector<Fr>& witness, uint64_t seed) {
    auto p = Prove(key_, witness, {1, Seeded(seed)});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : Groth16Proof{};
  }
  ConstraintSystem cs_;
  R1cs r1cs_;
  ProvingKey key_;
};

TEST_F(Groth16Test, ValidProofsVerifyAndDiffer) {
  const VerifyingKey vk = key_.verifying_key();
  EXPECT_EQ(key_.domain_size, 8u);  // 4 constraints + 2 public + 1 rows
  const Groth16Proof p1 = ProveOk(cs_.Witness(), 2);
  const Groth16Proof p2 = ProveOk(cs_.Witness(), 3);
  EXPECT_TRUE(Verify(vk, cs_.PublicInputs(), p1).ok());
  EXPECT_TRUE(Verify(vk, cs_.PublicInputs(), p2).ok());
  EXPECT_FALSE(p1 == p2);  // randomised by r and s
  // The default source (the OS's CSPRNG) works too.
  auto p3 = Prove(key_, cs_.Witness());
  ASSERT_TRUE(p3.ok());
  EXPECT_TRUE(Verify(vk, cs_.PublicInputs(), *p3).ok());
}

TEST_F(Groth16Test, AlteredProofsAndWrongInputsAreRejected) {
  const VerifyingKey vk = key_.verifying_key();
  const std::vector<Fr> pub = cs_.PublicInputs();
  const Groth16Proof p = ProveOk(cs_.Witness(), 2);
  const G1 g(G1Generator());
  std::vector<Groth16Proof> altered(5, p);
  altered[0].a = (G1(p.a) + g).ToAffine();
  altered[1].c = (G1(p.c) + g).ToAffine();
  altered[2].b = (G2(p.b) + G2(G2Generator())).ToAffine();
  altered[3].a = -p.a;
  std::swap(altered[4].a, altered[4].c);
  for (const Groth16Proof& bad : altered) {
    EXPECT_TRUE(Verify(vk, pub, bad).IsFailedPrecondition());
  }
  for (std::size_t i = 0; i < pub.size(); ++i) {
    std::vector<Fr> wrong = pub;
    wrong[i] += F(1);
    EXPECT_TRUE(Verify(vk, wrong, p).IsFailedPrecondition()) << i;
  }
  EXPECT_TRUE(Verify(vk, std::vector<Fr>{pub[0]}, p).IsInvalidArgument());
  // A proof of a witness that does not satisfy the circuit does not verify.
  std::vector<Fr> forged = cs_.Witness();
  forged[1] += F(1);  // claims another output
  ASSERT_FALSE(r1cs_.CheckSatisfied(forged).ok());
  const Groth16Proof pf = ProveOk(forged, 4);
  EXPECT_FALSE(Verify(vk, std::vector<Fr>{forged[1], forged[2]}, pf).ok());
}

TEST_F(Groth16Test, ProofUnderAnotherKeyIsRejected) {
  auto other = DevSetup(r1cs_, {1, Seeded(99)});
  ASSERT_TRUE(other.ok());
  const Groth16Proof p = ProveOk(cs_.Witness(), 2);
  EXPECT_TRUE(Verify(other->verifying_key(), cs_.PublicInputs(), p).IsFailedPrecondition());
  auto q = Prove(*other, cs_.Witness(), {1, Seeded(5)});
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(Verify(other->verifying_key(), cs_.PublicInputs(), *q).ok());
  EXPECT_TRUE(Verify(key_.verifying_key(), cs_.PublicInputs(), *q).IsFailedPrecondition());
}

// Σ x_i·IC_i with x_0 = 1, as the verifier computes it.
G1 PublicCombination(const VerifyingKey& vk, std::span<const Fr> inputs) {
  G1 vk_x(vk.ic[0]);
  for (std::size_t i = 0; i < inputs.size(); ++i) vk_x += G1(vk.ic[i + 1]) * inputs[i];
  return vk_x;
}

// The raw Groth16 equation, without the key and point checks that Verify adds.
bool PairingCheckHolds(const VerifyingKey& vk, std::span<const Fr> inputs, const Groth16Proof& p) {
  const std::array<PairingInput, 4> pairs = {
      PairingInput{-p.a, p.b}, PairingInput{vk.alpha1, vk.beta2},
      PairingInput{PublicCombination(vk, inputs).ToAffine(), vk.gamma2},
      PairingInput{p.c, vk.delta2}};
  return PairingProductIsOne(pairs);
}

// The audit's finding and its relatives: under a key whose γ₂ is ±δ₂ (γ₂ = δ₂ is what
// snarkjs's `groth16 setup` writes before any contribution) or ±β₂ (a powers of tau without
// a contribution has β₂ = γ₂ = the generator), a proof of any public inputs is made from the
// key's own points. Each forgery satisfies the pairing equation (checked first, so the test
// shows a real forgery), and the verifier refuses the key.
TEST_F(Groth16Test, DegenerateKeysUnderWhichAnyoneCanProveAreRefused) {
  const std::vector<Fr> anything = {F(123456), F(7)};
  struct Case {
    const char* name;
    VerifyingKey vk;
    Groth16Proof forged;
    const char* message;
  };
  std::vector<Case> cases;
  for (const Fr& sign : {Fr::One(), -Fr::One()}) {
    const bool plus = sign == Fr::One();
    VerifyingKey vk = key_.verifying_key();
    // γ₂ = ±δ₂: e(Σ x_i·IC_i, γ)·e(∓Σ x_i·IC_i, ±γ) = 1, so (α₁, β₂, ∓Σ x_i·IC_i) verifies.
    vk.delta2 = plus ? vk.gamma2 : -vk.gamma2;
    const G1 vk_x = PublicCombination(vk, anything);
    cases.push_back({plus ? "gamma2 = delta2" : "gamma2 = -delta2", vk,
                     Groth16Proof{vk.alpha1, vk.beta2, (vk_x * -sign).ToAffine()},
                     plus ? "gamma2 equals delta2" : "gamma2 equals -delta2"});
    // β₂ = ±γ₂: e(α, β)·e(Σ x_i·IC_i, ±β) = e(α ± Σ x_i·IC_i, β), so (α₁ ± Σ x_i·IC_i, β₂, 0)
    // verifies.
    vk = key_.verifying_key();
    vk.gamma2 = plus ? vk.beta2 : -vk.beta2;
    cases.push_back(
        {plus ? "beta2 = gamma2" : "beta2 = -gamma2", vk,
         Groth16Proof{(G1(vk.alpha1) + vk_x * sign).ToAffine(), vk.beta2, G1Affine::Infinity()},
         "beta2 equals gamma2"});
  }
  for (const Case& c : cases) {
    ASSERT_TRUE(PairingCheckHolds(c.vk, anything, c.forged)) << c.name;
    const Status s = Verify(c.vk, anything, c.forged);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.name << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.ToString();
    const std::array<ProofToVerify, 1> batch = {ProofToVerify{anything, c.forged}};
    EXPECT_TRUE(VerifyBatch(c.vk, batch, Seeded(3)).IsInvalidArgument()) << c.name;
  }
  EXPECT_TRUE(CheckVerifyingKey(key_.verifying_key()).ok());
}

TEST_F(Groth16Test, KeyWithAPointAtInfinityIsRefused) {
  const VerifyingKey good = key_.verifying_key();
  const Groth16Proof p = ProveOk(cs_.Witness(), 2);
  ASSERT_TRUE(Verify(good, cs_.PublicInputs(), p).ok());
  std::vector<VerifyingKey> bad(4 + good.ic.size(), good);
  bad[0].alpha1 = G1Affine::Infinity();
  bad[1].beta2 = G2Affine::Infinity();
  bad[2].gamma2 = G2Affine::Infinity();
  bad[3].delta2 = G2Affine::Infinity();
  for (std::size_t i = 0; i < good.ic.size(); ++i) bad[4 + i].ic[i] = G1Affine::Infinity();
  for (std::size_t k = 0; k < bad.size(); ++k) {
    const Status s = Verify(bad[k], cs_.PublicInputs(), p);
    EXPECT_TRUE(s.IsInvalidArgument()) << k << ": " << s.ToString();
    EXPECT_NE(s.message().find("point at infinity"), std::string::npos) << s.ToString();
  }
}

// A point of the twist E'(Fq2): y² = x³ + b' outside G2, found the way a hash to the curve
// without cofactor clearing finds one: try x = i + u for i = 1, 2, … until x³ + b' is a
// square. #E'(Fq2) = r·h with the cofactor h = 2q − r, and G2 is the subgroup of order r, so
// such a point lies in G2 with probability about 1/h; the loop checks it all the same.
// (Multiplying it by h would land in G2: tests/proof/curve_test.cc.)
G2Affine TwistPointOutsideG2() {
  for (uint64_t i = 1;; ++i) {
    const Fq2 x{Fq::FromUint64(i), Fq::One()};
    if (auto y = Sqrt(x.Square() * x + G2Curve::kB)) {
      const G2Affine p(x, *y);
      if (!IsInG2Subgroup(p)) return p;
    }
  }
}

TEST_F(Groth16Test, ProofWithBOutsideTheSubgroupIsRefused) {
  const VerifyingKey vk = key_.verifying_key();
  Groth16Proof p = ProveOk(cs_.Witness(), 2);
  p.b = TwistPointOutsideG2();
  ASSERT_TRUE(p.b.IsOnCurve());
  const Status s = Verify(vk, cs_.PublicInputs(), p);
  EXPECT_TRUE(s.IsFailedPrecondition()) << s.ToString();
  EXPECT_NE(s.message().find("subgroup"), std::string::npos) << s.ToString();
  const std::vector<Fr> pub = cs_.PublicInputs();
  const std::array<ProofToVerify, 1> batch = {ProofToVerify{pub, p}};
  const Status sb = VerifyBatch(vk, batch, Seeded(4));
  EXPECT_NE(sb.message().find("subgroup"), std::string::npos) << sb.ToString();
  // Off the curve altogether.
  Groth16Proof q = ProveOk(cs_.Witness(), 3);
  q.a = G1Affine(q.a.x(), q.a.y() + Fq::One());
  EXPECT_TRUE(Verify(vk, cs_.PublicInputs(), q).IsFailedPrecondition());
}

TEST_F(Groth16Test, KeyWithAPointOutsideItsGroupIsRefused) {
  const VerifyingKey good = key_.verifying_key();
  const Groth16Proof p = ProveOk(cs_.Witness(), 2);
  const G2Affine outside = TwistPointOutsideG2();
  const G1Affine off_curve(good.alpha1.x(), good.alpha1.y() + Fq::One());
  std::vector<VerifyingKey> bad(5, good);
  bad[0].beta2 = outside;
  bad[1].gamma2 = outside;
  bad[2].delta2 = outside;
  bad[3].alpha1 = off_curve;
  bad[4].ic[1] = off_curve;
  const char* expected[] = {
      "beta2 is not in G2's order-r subgroup", "gamma2 is not in G2's order-r subgroup",
      "delta2 is not in G2's order-r subgroup", "alpha1 is not on G1", "IC[1] is not on G1"};
  for (std::size_t k = 0; k < bad.size(); ++k) {
    const Status s = Verify(bad[k], cs_.PublicInputs(), p);
    EXPECT_TRUE(s.IsInvalidArgument()) << k << ": " << s.ToString();
    EXPECT_NE(s.message().find(expected[k]), std::string::npos) << s.ToString();
  }
}

TEST_F(Groth16Test, BatchVerificationAcceptsAllValidAndCatchesOneBad) {
  const VerifyingKey vk = key_.verifying_key();
  std::vector<ConstraintSystem> systems;
  for (uint64_t x = 1; x <= 4; ++x) systems.push_back(Cubic(x, 10 + x));
  std::vector<std::vector<Fr>> inputs;
  std::vector<Groth16Proof> proofs;
  for (auto& cs : systems) {
    inputs.push_back(cs.PublicInputs());
    proofs.push_back(ProveOk(cs.Witness(), inputs.size()));
  }
  std::vector<ProofToVerify> batch;
  for (std::size_t i = 0; i < proofs.size(); ++i) batch.push_back({inputs[i], proofs[i]});
  EXPECT_TRUE(VerifyBatch(vk, batch, Seeded(7)).ok());
  EXPECT_TRUE(VerifyBatch(vk, batch).ok());
  // Two proofs' inputs swapped: each fails alone, so the batch must fail.
  std::vector<ProofToVerify> swapped = batch;
  std::swap(swapped[1].public_inputs, swapped[2].public_inputs);
  EXPECT_TRUE(VerifyBatch(vk, swapped, Seeded(8)).IsFailedPrecondition());
  std::vector<ProofToVerify> bad = batch;
  bad[3].proof.c = (G1(bad[3].proof.c) + G1(G1Generator())).ToAffine();
  EXPECT_TRUE(VerifyBatch(vk, bad, Seeded(9)).IsFailedPrecondition());
}

TEST(Groth16Batch, UpdateBatchProofVerifies) {
  const BatchShape shape{4, 2};
  WitnessTree tree(shape.levels);
  ASSERT_TRUE(tree.Put(F(2), F(20)).ok());
  const Fr r0 = tree.root();
  std::vector<UpdateWitness> updates = {*tree.Put(F(6), F(60)), *tree.Delete(F(2))};
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch(shape, r0, updates, cs).ok());
  const R1cs r1cs = cs.ToR1cs();
  auto key = DevSetup(r1cs, {0, Seeded(11)});
  ASSERT_TRUE(key.ok());
  auto p = Prove(*key, cs.Witness(), {0, Seeded(12)});
  ASSERT_TRUE(p.ok());
  const std::vector<Fr> pub = cs.PublicInputs();
  EXPECT_TRUE(Verify(key->verifying_key(), pub, *p).ok());
  EXPECT_EQ(pub[1], tree.root());
  std::vector<Fr> wrong_root = pub;
  wrong_root[1] = r0;
  EXPECT_TRUE(Verify(key->verifying_key(), wrong_root, *p).IsFailedPrecondition());
}

}  // namespace
}  // namespace rustorium::proof::zk
