// The CI fault profile: a few seeded runs of the fault harness with every nemesis, each a
// bounded 25 seconds of faults. Zero linearizability violations, zero lost acknowledged
// writes, index integrity and every proof verified, or the test fails and prints the seed
// (replay it with tools/faults --seed S).
#include <gtest/gtest.h>

#include "tests/faults/harness.h"
#include "tests/test_util.h"

namespace rustorium::faults {
namespace {

class FaultProfile : public ::testing::TestWithParam<uint64_t> {};

TEST_P(FaultProfile, LinearizableDurableAndIntact) {
  rustorium::testing::TempDir tmp;
  FaultOptions o;
  o.seed = GetParam();
  o.duration = std::chrono::seconds(25);
  o.binary = RUSTORIUM_BINARY;
  o.dir = tmp.path().string() + "/cluster";
  const FaultReport report = RunFaults(o);
  EXPECT_TRUE(report.ok) << report.Summary();
  std::printf("%s", report.Summary().c_str());
}

INSTANTIATE_TEST_SUITE_P(Seeds, FaultProfile, ::testing::Values(11, 22, 33));

}  // namespace
}  // namespace rustorium::faults
