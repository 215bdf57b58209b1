// `rustorium zk setup|prove|verify`, run as child processes.
#include <gtest/gtest.h>

#include <string>

#include "proof/field/fr.h"
#include "proof/zk/snarkjs_json.h"
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
