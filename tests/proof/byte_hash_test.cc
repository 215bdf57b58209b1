#include "proof/poseidon/byte_hash.h"

#include <gtest/gtest.h>

#include <set>

namespace rustorium::proof {
namespace {

TEST(ByteHash, DomainIsTheAsciiTag) {
  EXPECT_EQ(ByteHashDomain().ToDecimal(), "9970767098936780887723635500086234178287153");
}

// The vectors of docs/proofs.md.
TEST(ByteHash, KnownAnswers) {
  EXPECT_EQ(HashBytes("").ToDecimal(),
            "5934596613807474503729764691388629679435900294125006191468360865783592938988");
  EXPECT_EQ(HashBytes("a").ToDecimal(),
            "21081215768745394254205571796937435104767956536469653036555687431059497404893");
  EXPECT_EQ(HashBytes("hello").ToDecimal(),
            "7642596766021234545144603759817303497744201381768927522489082385327804250051");
  std::string counting(32, '\0');
  for (int i = 0; i < 32; ++i) counting[i] = static_cast<char>(i);
  EXPECT_EQ(HashBytes(counting).ToDecimal(),
            "18389900381599490921371465758851100392350786603745265014740066826629756303550");
}

TEST(ByteHash, TrailingZerosAndBoundariesHashApart) {
  std::set<std::string> seen;
  for (std::size_t len : {0u, 1u, 2u, 30u, 31u, 32u, 433u, 434u, 435u, 899u, 900u}) {
    EXPECT_TRUE(seen.insert(HashBytes(std::string(len, '\0')).ToDecimal()).second) << len;
  }
}

}  // namespace
}  // namespace rustorium::proof
