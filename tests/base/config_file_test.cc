// The one TOML reader's error shape: "FILE: section.key: reason" for unknown keys, wrong
// types and bad values; "FILE: line L, column C: reason" for a file that is not TOML.
#include "base/config_file.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace rustorium {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

class ConfigFileTest : public ::testing::Test {
 protected:
  // The root table of a file holding `text`; fails the test when it does not parse.
  ConfigTable Parse(const std::string& text) {
    WriteFile(path_, text);
    Result<ConfigTable> t = ConfigTable::Open(path_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(t).value();
  }
  // The message of an InvalidArgument; fails the test on any other status.
  static std::string Message(const Status& s) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    return s.message();
  }

  TempDir dir_;
  const std::string path_ = dir_.Sub("node.toml");
};

TEST_F(ConfigFileTest, ReadsTypedValuesAndLeavesAbsentKeysAlone) {
  ConfigTable root = Parse(
      "name = \"n1\"\n[pd]\naddress = \"127.0.0.1:2479\"\nreplicas = 3\nplain = true\n"
      "pd = [\"a:1\", \"b:2\"]\n");
  std::string name;
  ASSERT_TRUE(root.Read("name", name).ok());
  EXPECT_EQ(name, "n1");
  Result<ConfigTable> pd = root.Section("pd");
  ASSERT_TRUE(pd.ok());
  EXPECT_EQ(pd->name(), "pd");
  int replicas = 0;
  bool plain = false;
  std::vector<std::string> list;
  std::string untouched = "default";
  ASSERT_TRUE(pd->Read("replicas", replicas, 1, 7).ok());
  ASSERT_TRUE(pd->Read("plain", plain).ok());
  ASSERT_TRUE(pd->Read("pd", list).ok());
  ASSERT_TRUE(pd->Read("absent", untouched).ok());
  EXPECT_EQ(replicas, 3);
  EXPECT_TRUE(plain);
  EXPECT_EQ(list, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(untouched, "default");
  EXPECT_EQ(pd->Keys(), (std::vector<std::string>{"address", "replicas", "plain", "pd"}))
      << "the file's order";
  EXPECT_TRUE(pd->AllowOnly({"address", "replicas", "plain", "pd"}).ok());
}

TEST_F(ConfigFileTest, UnknownKeysAndSectionsNameFileSectionAndKey) {
  ConfigTable root = Parse("[pd]\ndata_dir = \"/x\"\nwhat = 1\n[extra]\nk = 1\n");
  EXPECT_EQ(Message(root.AllowOnly({"pd"})), path_ + ": extra: unknown section (known: pd)");
  ConfigTable pd = *root.Section("pd");
  EXPECT_EQ(Message(pd.AllowOnly({"data_dir", "address"})),
            path_ + ": pd.what: unknown key (known: data_dir, address)");
  ConfigTable top = Parse("key_file = \"k\"\ntypo = 2\n");
  EXPECT_EQ(Message(top.AllowOnly({"key_file"})), path_ + ": typo: unknown key (known: key_file)");
}

TEST_F(ConfigFileTest, WrongTypesSayWhatWasExpected) {
  ConfigTable root = Parse(
      "key_file = 3\n[pd]\nreplicas = \"three\"\nplain = \"yes\"\npd = [\"a:1\", 2]\n"
      "members = \"1=a:1\"\n");
  std::string s;
  EXPECT_EQ(Message(root.Read("key_file", s)),
            path_ + ": key_file: expected a string, not an integer");
  ConfigTable pd = *root.Section("pd");
  int replicas = 0;
  EXPECT_EQ(Message(pd.Read("replicas", replicas)),
            path_ + ": pd.replicas: expected an integer, not a string");
  bool plain = false;
  EXPECT_EQ(Message(pd.Read("plain", plain)),
            path_ + ": pd.plain: expected a boolean (true or false), not a string");
  std::vector<std::string> list;
  EXPECT_EQ(Message(pd.Read("pd", list)), path_ + ": pd.pd[2]: expected a string, not an integer");
  EXPECT_EQ(Message(pd.Read("members", list)),
            path_ + ": pd.members: expected an array of strings, not a string");
  EXPECT_EQ(Message(root.Section("key_file").status()),
            path_ + ": key_file: expected a table, not an integer");
}

TEST_F(ConfigFileTest, BadValuesNameTheRangeAndTheValue) {
  ConfigTable pd = *Parse("[pd]\nreplicas = 9\nheartbeat_ms = 0\nport = -1\n").Section("pd");
  int replicas = 3;
  EXPECT_EQ(Message(pd.Read("replicas", replicas, 1, 7)),
            path_ + ": pd.replicas: must be 1..7, not 9");
  EXPECT_EQ(replicas, 3) << "unchanged by a refused value";
  int64_t heartbeat = 0;
  EXPECT_EQ(Message(pd.Read<int64_t>("heartbeat_ms", heartbeat, 1)),
            path_ + ": pd.heartbeat_ms: must be >= 1, not 0");
  uint32_t port = 0;
  EXPECT_EQ(Message(pd.Read("port", port)), path_ + ": pd.port: must be 0..4294967295, not -1");
  EXPECT_EQ(Message(pd.Bad("address", "'x' is not host:port")),
            path_ + ": pd.address: 'x' is not host:port");
}

TEST_F(ConfigFileTest, RequiredKeysOfAbsentSectionsAndArraysOfTables) {
  ConfigTable root = Parse("[[authority]]\nname = \"a\"\n[[authority]]\nstake = 1\n");
  std::string data_dir;
  EXPECT_EQ(Message(root.Section("store")->ReadRequired("data_dir", data_dir)),
            path_ + ": store.data_dir: is required");
  Result<std::vector<ConfigTable>> list = root.Tables("authority");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  std::string name;
  EXPECT_TRUE((*list)[0].ReadRequired("name", name).ok());
  EXPECT_EQ(Message((*list)[1].ReadRequired("name", name)),
            path_ + ": authority[2].name: is required");
  EXPECT_TRUE(root.Tables("absent")->empty());
  EXPECT_EQ(Message(Parse("authority = 1\n").Tables("authority").status()),
            path_ + ": authority: expected an array of tables ([[authority]]), not an integer");
}

TEST_F(ConfigFileTest, NotTomlNamesTheLineAndMissingFilesSayWhy) {
  WriteFile(path_, "[pd]\nreplicas = 3\n[pd\n");
  Result<ConfigTable> bad = ConfigTable::Open(path_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad.status()).rfind(path_ + ": line 3, column ", 0), 0u)
      << bad.status().ToString();
  Result<ConfigTable> missing = ConfigTable::Open(dir_.Sub("absent.toml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(Message(missing.status()),
            dir_.Sub("absent.toml") + ": cannot read (No such file or directory)");
}

TEST_F(ConfigFileTest, LongKeysInMessagesAreCut) {
  const std::string key(8192, 'k');
  ConfigTable root = Parse("[pd]\n\"" + key + "\" = 1\n");
  const std::string message = Message(root.Section("pd")->AllowOnly({"data_dir"}));
  EXPECT_LT(message.size(), path_.size() + 120) << message;
  EXPECT_NE(message.find("(8192 bytes)"), std::string::npos) << message;
  EXPECT_EQ(Message(Parse("[pd]\n\"a b\" = 1\n").Section("pd")->AllowOnly({"x"})),
            path_ + ": pd.'a b': unknown key (known: x)");
}

}  // namespace
}  // namespace rustorium
