// The CI fault profile: three seeded runs of the fault harness, each a bounded 25 seconds of
// faults. Zero linearizability violations, zero lost acknowledged
// writes, index integrity and every proof verified, or the test fails and prints the seed
// (replay it with tools/faults --seed S).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/faults/harness.h"
#include "tests/test_util.h"

namespace rustorium::faults {
namespace {

struct Profile {
  uint64_t seed;
  std::vector<std::string> nemeses;
};
void PrintTo(const Profile& p, std::ostream* out) {
  *out << "seed " << p.seed << ", " << p.nemeses.size() << " nemeses";
}

class FaultProfile : public ::testing::TestWithParam<Profile> {};

TEST_P(FaultProfile, LinearizableDurableAndIntact) {
  rustorium::testing::TempDir tmp;
  FaultOptions o;
  o.seed = GetParam().seed;
  o.nemeses = GetParam().nemeses;
  o.duration = std::chrono::seconds(25);
  o.binary = RUSTORIUM_BINARY;
  o.dir = tmp.path().string() + "/cluster";
  const FaultReport report = RunFaults(o);
  EXPECT_TRUE(report.ok) << report.Summary();
  std::printf("%s", report.Summary().c_str());
}

// Every nemesis runs in every CI run: one run draws from all of them, and two more split them
// between partitions and pauses on one side and crashes on the other, so each gets several turns.
INSTANTIATE_TEST_SUITE_P(Seeds, FaultProfile,
                         ::testing::Values(Profile{11, AllNemeses()},
                                           Profile{22, {"isolate", "pause", "delay"}},
                                           Profile{33, {"kill-leader", "kill-store", "kill-all"}}),
                         [](const ::testing::TestParamInfo<Profile>& p) {
                           return "seed" + std::to_string(p.param.seed) +
                                  (p.index == 0   ? "_all"
                                   : p.index == 1 ? "_partitions"
                                                  : "_crashes");
                         });

}  // namespace
}  // namespace rustorium::faults
