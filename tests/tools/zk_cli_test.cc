// `rustorium zk setup|prove|verify`, run as child processes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "proof/field/fr.h"
#include "proof/zk/batch_circuit.h"
#include "proof/zk/groth16.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "proof/zk/update_list.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

// One key for the suite: depth 4, batch 2.
class ZkCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    CliRun setup = Rustorium("zk setup --depth 4 --batch 2 --out " + dir_->Sub("keys"));
    ASSERT_EQ(setup.exit_code, 0) << setup.out;
    EXPECT_NE(setup.out.find("NOT a trusted-setup ceremony"), std::string::npos) << setup.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Keys() { return dir_->Sub("keys"); }
  static std::string Path(const std::string& name) { return dir_->Sub(name); }

  static inline TempDir* dir_ = nullptr;
};

TEST_F(ZkCli, ProveThenVerify) {
  WriteFile(Path("start.txt"), "# k v\n1 10\n3 30\n");
  WriteFile(Path("batch.txt"), "put 5 50\n\n# comment\ndelete 0x3\n");
  CliRun prove = Rustorium("zk prove --batch " + Path("batch.txt") + " --keys " + Keys() +
                           " --out " + Path("p1") + " --input " + Path("start.txt"));
  ASSERT_EQ(prove.exit_code, 0) << prove.out;
  const std::string vk = Keys() + "/verification_key.json";
  CliRun ok = Rustorium("zk verify --vk " + vk + " --proof " + Path("p1/proof.json") +
                        " --public " + Path("p1/public.json"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("valid"), std::string::npos);

  // The roots are the ones `rustorium proof root` computes for the trees before and after.
  auto pub = proof::zk::PublicInputsFromJson(rustorium::testing::ReadFile(Path("p1/public.json")));
  ASSERT_TRUE(pub.ok());
  WriteFile(Path("end.txt"), "1 10\n5 50\n");
  for (auto [file, index] : {std::pair{"start.txt", 0}, std::pair{"end.txt", 1}}) {
    CliRun root = Rustorium("proof root --input " + Path(file));
    ASSERT_EQ(root.exit_code, 0);
    EXPECT_EQ(*proof::Fr::Parse(root.out.substr(0, root.out.find('\n'))), (*pub)[index]) << file;
  }
  // The terminal shows them as 0x-hex (like `kv` and `proof root`); public.json stays decimal.
  EXPECT_NE(prove.out.find("old root   " + (*pub)[0].ToHex() + "\n"), std::string::npos)
      << prove.out;
  EXPECT_NE(prove.out.find("new root   " + (*pub)[1].ToHex() + "\n"), std::string::npos)
      << prove.out;
  EXPECT_NE(prove.out.find("commitment " + (*pub)[2].ToHex() + "\n"), std::string::npos)
      << prove.out;
  EXPECT_EQ(prove.out.find((*pub)[1].ToDecimal()), std::string::npos) << prove.out;
  const std::string pub_text = rustorium::testing::ReadFile(Path("p1/public.json"));
  EXPECT_EQ(pub_text.find("0x"), std::string::npos) << pub_text;
  EXPECT_NE(pub_text.find((*pub)[1].ToDecimal()), std::string::npos) << pub_text;

  // Another batch's public inputs with this proof: invalid, exit 1.
  WriteFile(Path("batch2.txt"), "put 6 60\n");
  ASSERT_EQ(Rustorium("zk prove --batch " + Path("batch2.txt") + " --keys " + Keys() + " --out " +
                      Path("p2"))
                .exit_code,
            0);
  CliRun bad = Rustorium("zk verify --vk " + vk + " --proof " + Path("p1/proof.json") +
                         " --public " + Path("p2/public.json"));
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("invalid"), std::string::npos) << bad.out;
}

// A delete of an absent key is no update: it takes no slot of the batch (K = 2 holds the two
// puts) and leaves no entry.
TEST_F(ZkCli, DeleteOfAnAbsentKeyIsSkipped) {
  WriteFile(Path("absent.txt"), "delete 7\nput 5 50\nput 6 60\n");
  CliRun prove = Rustorium("zk prove --batch " + Path("absent.txt") + " --keys " + Keys() +
                           " --out " + Path("pa"));
  ASSERT_EQ(prove.exit_code, 0) << prove.out;
  EXPECT_NE(prove.out.find("skipped delete 7"), std::string::npos) << prove.out;
}

// `zk prove` writes the explicit update list; `zk verify --updates` recomputes C from it and,
// with the input tree, replays it to check R0 and RK.
TEST_F(ZkCli, UpdateListIsCheckedAgainstTheProof) {
  WriteFile(Path("u_start.txt"), "1 10\n3 30\n");
  WriteFile(Path("u_batch.txt"), "put 5 50\ndelete 3\n");
  CliRun prove = Rustorium("zk prove --batch " + Path("u_batch.txt") + " --keys " + Keys() +
                           " --out " + Path("pu") + " --input " + Path("u_start.txt"));
  ASSERT_EQ(prove.exit_code, 0) << prove.out;
  EXPECT_NE(prove.out.find("keep it private"), std::string::npos) << prove.out;
  const std::string updates = Path("pu/updates.json");
  auto list = proof::zk::UpdateListFromJson(rustorium::testing::ReadFile(updates));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->updates.size(), 2u);
  EXPECT_EQ(list->updates[0].op, proof::zk::UpdateOp::kInsert);
  EXPECT_EQ(list->updates[1].op, proof::zk::UpdateOp::kDelete);
  EXPECT_EQ(list->updates[1].old_value, proof::Fr::FromUint64(30));

  const std::string verify = "zk verify --vk " + Keys() + "/verification_key.json --proof " +
                             Path("pu/proof.json") + " --public " + Path("pu/public.json");
  CliRun c = Rustorium(verify + " --updates " + updates);
  EXPECT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("valid: 2 updates"), std::string::npos) << c.out;
  CliRun replayed = Rustorium(verify + " --updates " + updates + " --input " + Path("u_start.txt"));
  EXPECT_EQ(replayed.exit_code, 0) << replayed.out;
  EXPECT_NE(replayed.out.find("replayed"), std::string::npos) << replayed.out;

  // Another old value for the delete: C differs.
  std::string text = rustorium::testing::ReadFile(updates);
  const std::size_t at = text.find("\"30\"");
  ASSERT_NE(at, std::string::npos) << text;
  WriteFile(Path("u_tampered.json"), text.substr(0, at) + "\"31\"" + text.substr(at + 4));
  CliRun t = Rustorium(verify + " --updates " + Path("u_tampered.json"));
  EXPECT_EQ(t.exit_code, 1) << t.out;
  EXPECT_NE(t.out.find("commitment"), std::string::npos) << t.out;
  // The list without its delete (as if the delete had been a no-op): C differs.
  WriteFile(Path("u_short.json"),
            proof::zk::UpdateListToJson(
                list->shape, std::span<const proof::zk::UpdateWitness>(list->updates.data(), 1)));
  EXPECT_EQ(Rustorium(verify + " --updates " + Path("u_short.json")).exit_code, 1);
  // Another input tree: R0 differs.
  WriteFile(Path("u_other.txt"), "1 10\n");
  CliRun r0 = Rustorium(verify + " --updates " + updates + " --input " + Path("u_other.txt"));
  EXPECT_EQ(r0.exit_code, 1) << r0.out;
  EXPECT_NE(r0.out.find("R0"), std::string::npos) << r0.out;
  // A listed no-op, --input without --updates: malformed.
  WriteFile(Path("u_noop.json"),
            "{\"levels\": 4, \"batch\": 2, \"updates\": [{\"op\": \"noop\", \"key\": \"0\", "
            "\"old_value\": \"0\", \"new_value\": \"0\"}]}");
  EXPECT_EQ(Rustorium(verify + " --updates " + Path("u_noop.json")).exit_code, 2);
  EXPECT_EQ(Rustorium(verify + " --input " + Path("u_start.txt")).exit_code, 2);
}

// A verification key with γ₂ = δ₂ (snarkjs's before any contribution) is refused, exit 2.
TEST_F(ZkCli, VerificationKeyWithGammaEqualToDeltaIsRefused) {
  WriteFile(Path("g_batch.txt"), "put 2 20\n");
  ASSERT_EQ(Rustorium("zk prove --batch " + Path("g_batch.txt") + " --keys " + Keys() + " --out " +
                      Path("pg"))
                .exit_code,
            0);
  auto vk = proof::zk::VerifyingKeyFromJson(
      rustorium::testing::ReadFile(Keys() + "/verification_key.json"));
  ASSERT_TRUE(vk.ok());
  vk->gamma2 = vk->delta2;
  WriteFile(Path("g_vk.json"), proof::zk::VerifyingKeyToJson(*vk));
  CliRun r = Rustorium("zk verify --vk " + Path("g_vk.json") + " --proof " + Path("pg/proof.json") +
                       " --public " + Path("pg/public.json"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("gamma2 equals delta2"), std::string::npos) << r.out;
}

// `zk prove` checks that the proving key is this circuit's: its A and B coefficients, and
// (for the points that hide the rest) that its own verifying key accepts the proof.
TEST_F(ZkCli, ProvingKeyOfAnotherCircuitIsRefused) {
  WriteFile(Path("k_batch.txt"), "put 2 20\n");
  auto key = proof::zk::DecodeZkey(rustorium::testing::ReadFile(Keys() + "/circuit.zkey"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto write_keys = [&](const std::string& dir, const proof::zk::ProvingKey& k) {
    std::filesystem::create_directories(Path(dir));
    std::filesystem::copy_file(Keys() + "/circuit.json", Path(dir + "/circuit.json"));
    WriteFile(Path(dir + "/circuit.zkey"), proof::zk::EncodeZkey(k));
  };
  proof::zk::ProvingKey coefficient = *key;  // same wire counts, one coefficient changed
  coefficient.coefficients[7].value += proof::Fr::One();
  write_keys("k_coef", coefficient);
  proof::zk::ProvingKey points = *key;  // same coefficients, C points swapped
  std::swap(points.c[0], points.c[1]);
  write_keys("k_points", points);
  for (const char* dir : {"k_coef", "k_points"}) {
    CliRun r = Rustorium("zk prove --batch " + Path("k_batch.txt") + " --keys " + Path(dir) +
                         " --out " + Path(std::string("po_") + dir));
    EXPECT_EQ(r.exit_code, 2) << dir << ": " << r.out;
    EXPECT_NE(r.out.find("is not a key of"), std::string::npos) << dir << ": " << r.out;
  }
}

// A real key of another circuit of the same size, which the coefficient check cannot tell
// apart: the circuit with one constraint's C side doubled (same wires, same A and B), in a
// row where this batch's witness makes C·w nonzero. Its own verifying key refuses the proof.
TEST_F(ZkCli, ProvingKeyOfAnotherCircuitOfTheSameSizeIsRefused) {
  const proof::zk::BatchShape shape{4, 2};
  proof::zk::WitnessTree tree(shape.levels);
  auto put = tree.Put(proof::Fr::FromUint64(2), proof::Fr::FromUint64(20));
  ASSERT_TRUE(put.ok());
  proof::zk::ConstraintSystem cs;
  ASSERT_TRUE(proof::zk::SynthesizeBatch(shape, proof::Fr::Zero(), std::span(&*put, 1), cs).ok());
  proof::zk::R1cs other = cs.ToR1cs();
  const std::vector<proof::Fr> w = cs.Witness();
  std::size_t row = 0;
  while (row < other.num_constraints() && other.c.RowDot(row, w).IsZero()) ++row;
  ASSERT_LT(row, other.num_constraints());
  for (uint64_t k = other.c.row_start[row]; k < other.c.row_start[row + 1]; ++k) {
    other.c.coefficients[k] += other.c.coefficients[k];
  }
  auto key = proof::zk::DevSetup(other);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_TRUE(proof::zk::CheckKeyMatchesCircuit(*key, cs.ToR1cs()).ok());
  std::filesystem::create_directories(Path("k_other"));
  std::filesystem::copy_file(Keys() + "/circuit.json", Path("k_other/circuit.json"));
  WriteFile(Path("k_other/circuit.zkey"), proof::zk::EncodeZkey(*key));
  WriteFile(Path("o_batch.txt"), "put 2 20\n");
  CliRun r = Rustorium("zk prove --batch " + Path("o_batch.txt") + " --keys " + Path("k_other") +
                       " --out " + Path("po_other"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("its own verifying key refuses the proof"), std::string::npos) << r.out;
}

TEST_F(ZkCli, MalformedInputExitsTwo) {
  WriteFile(Path("ok.txt"), "put 1 2\n");
  WriteFile(Path("badnum.txt"), "put 1 0xzz\n");
  WriteFile(Path("badop.txt"), "insert 1 2\n");
  WriteFile(Path("long.txt"), "put 1 1\nput 2 2\nput 3 3\n");
  WriteFile(Path("deep.txt"), "put 0 1\nput 16 1\n");  // parts at bit 4: depth 5 > 3
  WriteFile(Path("garbage.json"), "{not json");
  const std::string prove = "zk prove --keys " + Keys() + " --out " + Path("px") + " --batch ";
  for (const char* file : {"badnum.txt", "badop.txt", "long.txt", "deep.txt"}) {
    CliRun r = Rustorium(prove + Path(file));
    EXPECT_EQ(r.exit_code, 2) << file << ": " << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << file << ": " << r.out;
  }
  EXPECT_EQ(Rustorium(prove + Path("ok.txt") + " --input " + Path("badnum.txt")).exit_code, 2);
  EXPECT_EQ(Rustorium("zk setup --depth 1 --batch 1 --out " + Path("k1")).exit_code, 2);
  EXPECT_EQ(Rustorium("zk setup --depth x --batch 1 --out " + Path("k1")).exit_code, 2);
  const std::string vk = Keys() + "/verification_key.json";
  CliRun r = Rustorium("zk verify --vk " + vk + " --proof " + Path("garbage.json") + " --public " +
                       Path("garbage.json"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(Rustorium("zk verify --vk " + Path("garbage.json") + " --proof x --public y").exit_code,
            2);
}

}  // namespace
}  // namespace rustorium::tools
