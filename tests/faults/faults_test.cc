// The CI fault profile: four seeded runs of the fault harness, each a bounded 25 seconds of
// faults, and the stale-read nemesis against a deliberately broken read path. Zero linearizability
// violations, zero lost acknowledged writes, index integrity and every proof verified, or the test
// fails and prints the seed (replay it with tools/faults --seed S).
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

std::string ProfileName(const ::testing::TestParamInfo<Profile>& p) {
  static const std::vector<std::string> names = {"_all", "_partitions", "_crashes",
                                                 "_splits_merges"};
  return "seed" + std::to_string(p.param.seed) + names.at(p.index);
}

// Every nemesis runs in every CI run: one run draws from all of them, two more split them
// between partitions and pauses on one side and crashes on the other, and a fourth splits and
// merges regions while leaders are killed and stores paused, so each gets several turns.
INSTANTIATE_TEST_SUITE_P(Seeds, FaultProfile,
                         ::testing::Values(Profile{11, AllNemeses()},
                                           Profile{22, {"isolate", "pause", "delay"}},
                                           Profile{33, {"kill-leader", "kill-store", "kill-all"}},
                                           Profile{55, {"split", "merge", "kill-leader", "pause"}}),
                         ProfileName);

// The stale-read nemesis alone, with the stores' read path broken on purpose (reads answered
// without confirming leadership) and then as it is: the checker must find the stale read, and
// the real read path must pass. The nemesis is scripted, so every round provokes the read.
FaultOptions StaleReadOptions(const std::string& dir, bool unsafe_reads) {
  FaultOptions o;
  o.seed = 44;
  o.nemeses = {"stale-read"};
  o.duration = std::chrono::seconds(10);
  o.register_clients = 2;
  o.binary = RUSTORIUM_BINARY;
  o.dir = dir + "/cluster";
  o.unsafe_reads_without_quorum = unsafe_reads;
  return o;
}

TEST(StaleReadNemesis, TheCheckerCatchesReadsAnsweredWithoutAQuorum) {
  rustorium::testing::TempDir tmp;
  const FaultReport report = RunFaults(StaleReadOptions(tmp.path().string(), true));
  std::printf("%s", report.Summary().c_str());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.linearizability.find("key \"reg/stale\""), std::string::npos)
      << report.linearizability;
  EXPECT_NE(report.linearizability.find("NOT linearizable"), std::string::npos)
      << report.linearizability;
}

TEST(StaleReadNemesis, ProbedReadsPass) {
  rustorium::testing::TempDir tmp;
  const FaultReport report = RunFaults(StaleReadOptions(tmp.path().string(), false));
  std::printf("%s", report.Summary().c_str());
  EXPECT_TRUE(report.ok) << report.Summary();
}

}  // namespace
}  // namespace rustorium::faults
