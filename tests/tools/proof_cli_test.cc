// `rustorium hash poseidon` and `rustorium proof root|prove|verify`, run as child processes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "proof/poseidon/byte_hash.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(HashCli, PoseidonPrintsHexOfTheKnownAnswer) {
  // P(1, 2) = 7853200120776062878684798364095072458815029376092732009249414926327459813530.
  CliRun r = Rustorium("hash poseidon 1 2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Trim(r.out), "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a");
  EXPECT_EQ(Trim(Rustorium("hash poseidon 0x1 0x02").out), Trim(r.out));
  CliRun sixteen = Rustorium("hash poseidon 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
  EXPECT_EQ(sixteen.exit_code, 0);
}

TEST(HashCli, MalformedArgumentsExitTwoWithUsage) {
  const char* bad[] = {
      "hash poseidon",
      "hash poseidon 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
      "hash poseidon -1",
      "hash poseidon 0xzz",
      "hash poseidon 21888242871839275222246405745257275088548364400416034343698204186575808495617",
      "proof root",
      "proof verify --root 1 --key 1",
  };
  for (const char* args : bad) {
    CliRun r = Rustorium(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    EXPECT_NE(r.out.find("sage"), std::string::npos) << args << ": " << r.out;  // Usage/usage
  }
}

class ProofCli : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = dir_.Sub("pairs.txt");
    WriteFile(input_, "# the go-merkletree test vector\n1 2\n33 44\n\n0x4d2 9876\n");
  }
  TempDir dir_;
  std::string input_;
};

TEST_F(ProofCli, RootProveVerify) {
  CliRun root = Rustorium("proof root --input " + input_);
  ASSERT_EQ(root.exit_code, 0) << root.out;
  // 14204494359367183802864593755198662203838502594566452929175967972147978322084
  EXPECT_EQ(Trim(root.out), "0x1f67757a73a24f89b6adaa36d780ce723f8c26e24d283a4a39bdf4a444b440a4");
  const std::string r = Trim(root.out);

  CliRun prove = Rustorium("proof prove --input " + input_ + " --key 33");
  ASSERT_EQ(prove.exit_code, 0) << prove.out;
  EXPECT_NE(prove.out.find("\"existence\":true"), std::string::npos) << prove.out;
  WriteFile(dir_.Sub("p33.json"), prove.out);
  CliRun ok = Rustorium("proof verify --root " + r + " --key 33 --value 44 --proof " +
                        dir_.Sub("p33.json"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(Trim(ok.out), "valid");
  CliRun wrong = Rustorium("proof verify --root " + r + " --key 33 --value 45 --proof " +
                           dir_.Sub("p33.json"));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_EQ(wrong.out.rfind("invalid: ", 0), 0u) << wrong.out;
  CliRun absent_claim =
      Rustorium("proof verify --root " + r + " --key 33 --proof " + dir_.Sub("p33.json"));
  EXPECT_EQ(absent_claim.exit_code, 1) << absent_claim.out;

  CliRun non = Rustorium("proof prove --input " + input_ + " --key 5");
  ASSERT_EQ(non.exit_code, 0) << non.out;
  EXPECT_NE(non.out.find("\"existence\":false"), std::string::npos) << non.out;
  WriteFile(dir_.Sub("p5.json"), non.out);
  EXPECT_EQ(
      Rustorium("proof verify --root " + r + " --key 5 --proof " + dir_.Sub("p5.json")).exit_code,
      0);
  EXPECT_EQ(
      Rustorium("proof verify --root " + r + " --key 5 --value 0 --proof " + dir_.Sub("p5.json"))
          .exit_code,
      1);
  WriteFile(dir_.Sub("garbage.json"), "{\"existence\": maybe}");
  CliRun garbage =
      Rustorium("proof verify --root " + r + " --key 5 --proof " + dir_.Sub("garbage.json"));
  EXPECT_EQ(garbage.exit_code, 1) << garbage.out;
}

TEST_F(ProofCli, ByteKeysGoThroughTheSponge) {
  const std::string k = proof::HashBytes("alice").ToDecimal();
  const std::string v = proof::HashBytes("tokyo").ToDecimal();
  WriteFile(dir_.Sub("bytes.txt"), k + " " + v + "\n7 8\n");
  CliRun root = Rustorium("proof root --input " + dir_.Sub("bytes.txt"));
  ASSERT_EQ(root.exit_code, 0) << root.out;
  CliRun prove = Rustorium("proof prove --input " + dir_.Sub("bytes.txt") + " --key " + k);
  ASSERT_EQ(prove.exit_code, 0) << prove.out;
  WriteFile(dir_.Sub("p.json"), prove.out);
  const std::string common =
      "proof verify --root " + Trim(root.out) + " --proof " + dir_.Sub("p.json");
  EXPECT_EQ(Rustorium(common + " --key-bytes alice --value-bytes tokyo").exit_code, 0);
  EXPECT_EQ(Rustorium(common + " --key-bytes alice --value-bytes osaka").exit_code, 1);
  EXPECT_EQ(Rustorium(common + " --key-bytes bob --value-bytes tokyo").exit_code, 1);
  CliRun both = Rustorium(common + " --key 1 --key-bytes alice");
  EXPECT_EQ(both.exit_code, 2) << "--key and --key-bytes together: " << both.out;
}

TEST_F(ProofCli, BadInputFileExitsTwo) {
  WriteFile(dir_.Sub("bad.txt"), "1 2\n3\n");
  CliRun r = Rustorium("proof root --input " + dir_.Sub("bad.txt"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("line 2"), std::string::npos) << r.out;
  EXPECT_EQ(Rustorium("proof root --input " + dir_.Sub("missing.txt")).exit_code, 2);
}

}  // namespace
}  // namespace rustorium::tools
