// Groth16 against snarkjs 0.7: snarkjs verifies our proofs and proves with our zkeys; we
// import snarkjs's zkey of our circuit and verify snarkjs's proofs of our witness.
#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>

#include "proof/poseidon/poseidon.h"
#include "proof/zk/batch_circuit.h"
#include "proof/zk/gadgets.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "tests/interop/node_runner.h"
#include "tests/test_util.h"

namespace rustorium::proof::zk {
namespace {

using nlohmann::json;

Fr F(uint64_t v) { return Fr::FromUint64(v); }

// Runs one snarkjs_ref.mjs command and returns its answer.
json Snarkjs(const json& command) {
  auto out = rustorium::testing::RunNodeScript("snarkjs_ref.mjs", command.dump());
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return json{{"error", out.status().ToString()}};
  json answer = json::parse(*out, nullptr, false);
  EXPECT_FALSE(answer.contains("error")) << answer.dump();
  return answer;
}

void Write(const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(WriteWholeFile(path, bytes).ok()) << path;
}

// A file snarkjs wrote; "" (and a failure) when it is missing, so a run without node
// fails instead of crashing on the missing file.
std::string Read(const std::string& path) {
  Result<std::string> bytes = ReadWholeFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

bool SnarkjsVerifies(const std::string& dir, const std::string& vk, const std::string& proof,
                     const std::string& pub) {
  const json answer = Snarkjs(
      {{"verify",
        {{"vk", dir + "/" + vk}, {"proof", dir + "/" + proof}, {"public", dir + "/" + pub}}}});
  return answer.value("valid", false);
}

TEST(ZkInterop, SnarkjsVerifiesOurBatchProofAndProvesWithOurZkey) {
  rustorium::testing::TempDir dir;
  const std::string d = dir.path();
  WitnessTree tree(3);
  ASSERT_TRUE(tree.Put(F(1), F(10)).ok());
  const Fr r0 = tree.root();
  std::vector<UpdateWitness> updates = {*tree.Put(F(3), F(30))};
  ConstraintSystem cs;
  ASSERT_TRUE(SynthesizeBatch({3, 1}, r0, updates, cs).ok());
  const R1cs r1cs = cs.ToR1cs();
  auto key = DevSetup(r1cs);
  ASSERT_TRUE(key.ok());
  auto proof = Prove(*key, cs.Witness());
  ASSERT_TRUE(proof.ok());
  const std::vector<Fr> pub = cs.PublicInputs();
  Write(d + "/verification_key.json", VerifyingKeyToJson(key->verifying_key()));
  Write(d + "/proof.json", ProofToJson(*proof));
  Write(d + "/public.json", PublicInputsToJson(pub));
  EXPECT_TRUE(SnarkjsVerifies(d, "verification_key.json", "proof.json", "public.json"));
  std::vector<Fr> wrong = pub;
  wrong[2] += F(1);
  Write(d + "/wrong.json", PublicInputsToJson(wrong));
  EXPECT_FALSE(SnarkjsVerifies(d, "verification_key.json", "proof.json", "wrong.json"));

  // snarkjs proves from our .zkey and .wtns; we verify its proof.
  Write(d + "/circuit.zkey", EncodeZkey(*key));
  Write(d + "/witness.wtns", EncodeWtns(cs.Witness()));
  Snarkjs({{"prove", {{"zkey", d + "/circuit.zkey"}, {"wtns", d + "/witness.wtns"}, {"dir", d}}}});
  auto their_proof = ProofFromJson(Read(d + "/proof.json"));
  auto their_pub = PublicInputsFromJson(Read(d + "/public.json"));
  ASSERT_TRUE(their_proof.ok()) << their_proof.status().ToString();
  ASSERT_TRUE(their_pub.ok());
  EXPECT_EQ(*their_pub, pub);
  EXPECT_TRUE(Verify(key->verifying_key(), *their_pub, *their_proof).ok());
}

TEST(ZkInterop, WeVerifySnarkjsProofsOfOurCircuitUnderASnarkjsZkey) {
  rustorium::testing::TempDir dir;
  const std::string d = dir.path();
  // A Poseidon preimage: public h = Poseidon(a, b), 242 constraints (a 2^8 domain).
  ConstraintSystem cs;
  const Fr h = Poseidon2(F(123), F(456));
  const LC pub_h = LC::Of(cs.AllocatePublic(h));
  const std::array<LC, 2> in = {LC::Of(cs.Allocate(F(123))), LC::Of(cs.Allocate(F(456)))};
  EnforceEqual(cs, PoseidonHash(cs, in), pub_h);
  const R1cs r1cs = cs.ToR1cs();
  ASSERT_LT(r1cs.num_constraints() + r1cs.num_public, 256u);
  Write(d + "/circuit.r1cs", EncodeR1cs(r1cs));
  Write(d + "/witness.wtns", EncodeWtns(cs.Witness()));
  Snarkjs({{"setup", {{"r1cs", d + "/circuit.r1cs"}, {"power", 8}, {"dir", d}}}});
  Snarkjs({{"prove", {{"zkey", d + "/circuit.zkey"}, {"wtns", d + "/witness.wtns"}, {"dir", d}}}});

  auto vk = VerifyingKeyFromJson(Read(d + "/verification_key.json"));
  auto their_proof = ProofFromJson(Read(d + "/proof.json"));
  auto their_pub = PublicInputsFromJson(Read(d + "/public.json"));
  ASSERT_TRUE(vk.ok()) << vk.status().ToString();
  ASSERT_TRUE(their_proof.ok() && their_pub.ok());
  ASSERT_EQ(their_pub->size(), 1u);
  EXPECT_EQ((*their_pub)[0], h);
  EXPECT_TRUE(Verify(*vk, *their_pub, *their_proof).ok());
  EXPECT_TRUE(Verify(*vk, std::vector<Fr>{h + F(1)}, *their_proof).IsFailedPrecondition());

  // Our prover with the imported snarkjs zkey (a ceremony's key): snarkjs and we accept.
  auto key = DecodeZkey(Read(d + "/circuit.zkey"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->verifying_key().ic, vk->ic);
  auto ours = Prove(*key, cs.Witness());
  ASSERT_TRUE(ours.ok());
  EXPECT_TRUE(Verify(*vk, cs.PublicInputs(), *ours).ok());
  Write(d + "/our_proof.json", ProofToJson(*ours));
  EXPECT_TRUE(SnarkjsVerifies(d, "verification_key.json", "our_proof.json", "public.json"));
}

}  // namespace
}  // namespace rustorium::proof::zk
