// Poseidon for every width against circomlibjs on random inputs.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "proof/poseidon/byte_hash.h"
#include "proof/poseidon/poseidon.h"
#include "tests/interop/node_runner.h"

namespace rustorium::proof {
namespace {

TEST(PoseidonInterop, EveryWidthMatchesCircomlibjs) {
  std::mt19937_64 rng(11);
  std::ostringstream input;
  std::vector<std::string> ours;
  for (int n = 1; n <= kPoseidonMaxInputs; ++n) {
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<Fr> in;
      input << "[";
      for (int i = 0; i < n; ++i) {
        // Random elements, and some edge values (0, 1, r - 1).
        Fr f = Fr::FromLimbsReduced({rng(), rng(), rng(), rng()});
        if (trial == 0) f = Fr::Zero();
        if (trial == 1) f = -Fr::One();
        if (trial == 2 && i == 0) f = Fr::One();
        in.push_back(f);
        input << (i ? "," : "") << "\"" << f.ToDecimal() << "\"";
      }
      input << "]\n";
      auto h = Poseidon(in);
      ASSERT_TRUE(h.ok());
      ours.push_back(h->ToDecimal());
    }
  }
  auto theirs = rustorium::testing::RunNodeScript("poseidon_ref.mjs", input.str());
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  std::istringstream lines(*theirs);
  std::string line;
  std::size_t i = 0;
  for (; std::getline(lines, line) && i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], line) << "hash " << i << " (width " << i / 8 + 2 << ")";
  }
  EXPECT_EQ(i, ours.size()) << "circomlibjs answered fewer hashes than asked";
}

// The byte sponge as docs/proofs.md defines it, re-implemented in JavaScript.
TEST(ByteHashInterop, MatchesAnIndependentImplementation) {
  std::mt19937_64 rng(12);
  std::vector<std::string> inputs = {"",      std::string(1, '\0'), "a",
                                     "hello", std::string(31, 'x'), std::string(32, 'x')};
  for (std::size_t len : {30u, 62u, 434u, 435u, 899u, 900u, 2000u}) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    inputs.push_back(s);
  }
  std::ostringstream hex_lines;
  for (const std::string& s : inputs) {
    for (unsigned char c : s) hex_lines << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
    hex_lines << "\n";
  }
  auto theirs = rustorium::testing::RunNodeScript("byte_hash_ref.mjs", hex_lines.str());
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  std::istringstream lines(*theirs);
  std::string line;
  for (const std::string& s : inputs) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(HashBytes(s).ToDecimal(), line) << "input of " << s.size() << " bytes";
  }
}

}  // namespace
}  // namespace rustorium::proof
