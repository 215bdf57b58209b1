#include "chain/narwhal/dag_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustorium::chain {
namespace {

TEST(DagKeys, NoTwoKindsOverlap) {
  PublicKey author{};
  author.fill(0xab);
  Digest digest{};
  digest.fill(0xcd);
  const std::vector<std::string> kinds = {
      dag_keys::BatchKey(digest),        dag_keys::CertificateKey(5, author),
      dag_keys::VoteKey(author),         dag_keys::OutputKey(9),
      std::string(dag_keys::kHeaderKey), std::string(dag_keys::kStateKey)};
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    for (std::size_t j = 0; j < kinds.size(); ++j) {
      if (i != j) EXPECT_NE(kinds[i][0], kinds[j][0]) << i << " and " << j;
    }
  }
}

TEST(DagKeys, CertificatesSortByRoundThenAuthor) {
  PublicKey low{}, high{};
  high.fill(0xff);
  EXPECT_LT(dag_keys::CertificateKey(5, high), dag_keys::CertificateKey(6, low));
  EXPECT_LT(dag_keys::CertificateKey(6, low), dag_keys::CertificateKey(6, high));
  EXPECT_LT(dag_keys::OutputKey(255), dag_keys::OutputKey(256));
}

}  // namespace
}  // namespace rustorium::chain
