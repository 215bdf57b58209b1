// The sparse Merkle tree against @iden3/js-merkletree: the same roots after every step,
// the same proofs, and each side's proofs accepted by the other's verifier.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "proof/smt/sparse_merkle_tree.h"
#include "tests/engine_util.h"
#include "tests/interop/node_runner.h"
#include "tests/test_util.h"

namespace rustorium::proof {
namespace {

using nlohmann::json;

class SmtInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = rustorium::testing::OpenScratchEngine(dir_.Sub("db"));
    ASSERT_TRUE(engine_);
  }
  rustorium::testing::TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(SmtInterop, RootsAndProofsMatchJsMerkletree) {
  std::mt19937_64 rng(21);
  auto tree = SparseMerkleTree::Open(engine_.get(), 1);
  ASSERT_TRUE(tree.ok());
  // Keys: random ones, and families sharing their low 30..50 bits (long common paths).
  std::vector<Fr> keys;
  for (int i = 0; i < 40; ++i) keys.push_back(Fr::FromLimbsReduced({rng(), rng(), rng(), 0}));
  const uint64_t base = rng() & ((uint64_t{1} << 30) - 1);
  for (int shift : {30, 35, 41, 47, 50})
    keys.push_back(Fr::FromUint64(base | (uint64_t{1} << shift)));
  keys.push_back(Fr::FromUint64(base));

  std::ostringstream cmds;
  std::vector<Fr> roots;  // ours, after each step
  uint64_t version = 0;
  auto step = [&](std::vector<SmtUpdate> updates, const std::string& js) {
    engine::WriteBatch batch;
    auto root = tree->Apply(updates, ++version, batch);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    ASSERT_TRUE(engine_->Write(batch).ok());
    roots.push_back(*root);
    cmds << js << "\n"
         << R"({"root":true})"
         << "\n";
  };
  std::map<std::string, Fr> present;
  for (const Fr& k : keys) {
    const Fr v = Fr::FromUint64(rng());
    step({{k, v}}, json{{"add", {k.ToDecimal(), v.ToDecimal()}}}.dump());
    present[k.ToDecimal()] = v;
  }
  // Updates of existing keys, then deletes (every third key, the prefix family included).
  for (int i = 0; i < 10; ++i) {
    const Fr& k = keys[rng() % keys.size()];
    const Fr v = Fr::FromUint64(rng());
    step({{k, v}}, json{{"add", {k.ToDecimal(), v.ToDecimal()}}}.dump());
    present[k.ToDecimal()] = v;
  }
  for (std::size_t i = 0; i < keys.size(); i += 3) {
    step({{keys[i], std::nullopt}}, json{{"delete", keys[i].ToDecimal()}}.dump());
    present.erase(keys[i].ToDecimal());
  }
  // Proofs of present and absent keys.
  std::vector<Fr> probe = keys;
  for (int i = 0; i < 10; ++i) probe.push_back(Fr::FromLimbsReduced({rng(), rng(), 0, 0}));
  for (const Fr& k : probe) cmds << json{{"prove", k.ToDecimal()}}.dump() << "\n";
  // Our proofs through js-merkletree's verifier.
  const Fr root = roots.back();
  for (const Fr& k : probe) {
    auto p = tree->Prove(k);
    ASSERT_TRUE(p.ok());
    auto it = present.find(k.ToDecimal());
    const std::string value = it == present.end() ? "0" : it->second.ToDecimal();
    cmds << json{{"verify",
                  {{"root", root.ToDecimal()},
                   {"key", k.ToDecimal()},
                   {"value", value},
                   {"proof", json::parse(p->ToJson())}}}}
                .dump()
         << "\n";
  }

  auto out = rustorium::testing::RunNodeScript("smt_ref.mjs", cmds.str());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::istringstream lines(*out);
  std::string line;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    ASSERT_TRUE(std::getline(lines, line));
    ASSERT_EQ(json::parse(line).value("ok", false), true) << line;
    ASSERT_TRUE(std::getline(lines, line));
    ASSERT_EQ(json::parse(line).value("root", ""), roots[i].ToDecimal()) << "after step " << i;
  }
  for (const Fr& k : probe) {
    ASSERT_TRUE(std::getline(lines, line));
    json theirs = json::parse(line);
    ASSERT_TRUE(theirs.contains("proof")) << line;
    auto ours = tree->Prove(k);
    ASSERT_TRUE(ours.ok());
    // Their proof parses into exactly ours, and verifies with our verifier.
    auto parsed = SmtProof::FromJson(theirs["proof"].dump());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << " " << line;
    EXPECT_EQ(*parsed, *ours) << k.ToDecimal();
    auto it = present.find(k.ToDecimal());
    std::optional<Fr> value;
    if (it != present.end()) value = it->second;
    EXPECT_TRUE(VerifyProof(root, k, value, *parsed).ok());
  }
  for (const Fr& k : probe) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(json::parse(line).value("valid", false), true)
        << "js rejects our proof of " << k.ToDecimal() << ": " << line;
  }
}

}  // namespace
}  // namespace rustorium::proof
