// validator.toml and committee.toml: read through base/config_file.h, so every mistake reads
// "FILE: section.key: reason", and unknown keys are refused at every level.
#include "chain/net/node_config.h"

#include <gtest/gtest.h>

#include "base/codec.h"
#include "chain/narwhal/crypto.h"
#include "tests/test_util.h"

namespace rustorium::chain {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

TEST(NodeConfig, ReadsValidatorTomlWithPathsBesideIt) {
  TempDir dir;
  const std::string path = dir.Sub("validator.toml");
  WriteFile(path,
            "key_file = \"v.key\"\ncommittee = \"committee.toml\"\ndata_dir = \"/abs/v\"\n"
            "[tls]\nca_file = \"ca.crt\"\ncert_file = \"n.crt\"\nkey_file = \"n.key\"\n"
            "[parameters]\nbatch_size = 1000\ngc_depth = 7\n");
  Result<NodeConfig> c = LoadNodeConfig(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->key_file, dir.Sub("v.key"));
  EXPECT_EQ(c->committee_file, dir.Sub("committee.toml"));
  EXPECT_EQ(c->data_dir, "/abs/v");
  EXPECT_EQ(c->tls_ca_file, dir.Sub("ca.crt"));
  EXPECT_EQ(c->parameters.batch_size, 1000u);
  EXPECT_EQ(c->parameters.gc_depth, 7u);
  EXPECT_EQ(c->parameters.retry_delay_ms, NarwhalParameters{}.retry_delay_ms);
  EXPECT_FALSE(c->plain);
  EXPECT_EQ(c->parameters.orphan_batch_age_ms, 60'000u) << "the documented default";
}

TEST(NodeConfig, PlainTcpOnlyWhenTheFileSaysSo) {
  TempDir dir;
  const std::string path = dir.Sub("validator.toml");
  WriteFile(path,
            "key_file = \"v.key\"\ncommittee = \"c.toml\"\ndata_dir = \"v\"\n[tls]\nplain = true\n"
            "[parameters]\norphan_batch_age_ms = 1\n");
  Result<NodeConfig> c = LoadNodeConfig(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->plain);
  EXPECT_TRUE(c->tls_ca_file.empty());
  EXPECT_EQ(c->parameters.orphan_batch_age_ms, 1u);
  for (size_t bytes : {74600u, 74601u}) {  // the least (one full batch), and one more
    WriteFile(path,
              "key_file = \"v.key\"\ncommittee = \"c.toml\"\ndata_dir = \"v\"\n[tls]\nplain = "
              "true\n[parameters]\nbatch_size = 1000\nmax_unnamed_batch_bytes = " +
                  std::to_string(bytes) + "\n");
    c = LoadNodeConfig(path);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->parameters.max_unnamed_batch_bytes, bytes);
  }
}

TEST(NodeConfig, ValidatorTomlErrorsNameTheFileSectionAndKey) {
  TempDir dir;
  const std::string path = dir.Sub("validator.toml");
  const std::string files = "key_file = \"v.key\"\ncommittee = \"c.toml\"\ndata_dir = \"v\"\n";
  const std::string base = files + "[tls]\nplain = true\n";
  struct Case {
    std::string text;
    std::string message;  // after "PATH: "
  };
  const std::vector<Case> cases = {
      {files + "colour = 1\n[tls]\nplain = true\n",
       "colour: unknown key (known: key_file, committee, data_dir, tls, parameters)"},
      // Neither TLS files nor plain = true; plain = false alone; both.
      {files, "tls: is missing: give ca_file, cert_file and key_file, or plain = true"},
      {files + "[tls]\nplain = false\n", "tls.ca_file: is required"},
      {base + "ca_file = \"a\"\n", "tls.ca_file: is not used with plain = true"},
      {files + "[tls]\nplain = \"yes\"\n",
       "tls.plain: expected a boolean (true or false), not a string"},
      {base + "[parameters]\norphan_batch_age_ms = 0\n",
       "parameters.orphan_batch_age_ms: must be >= 1, not 0"},
      {"committee = \"c.toml\"\ndata_dir = \"v\"\n", "key_file: is required"},
      {"key_file = 7\ncommittee = \"c.toml\"\ndata_dir = \"v\"\n",
       "key_file: expected a string, not an integer"},
      {base + "[parameters]\ngc_depth = 0\n", "parameters.gc_depth: must be >= 1, not 0"},
      {base + "[parameters]\nbatch_size = -1\n", "parameters.batch_size: must be >= 0, not -1"},
      {base + "[parameters]\nbatch_sise = 10\n",
       "parameters.batch_sise: unknown key (known: batch_size, max_batch_delay_ms, header_size, "
       "max_header_delay_ms, gc_depth, retry_delay_ms, orphan_batch_age_ms, "
       "max_unnamed_batch_bytes)"},
      // One full batch is the least (64 + 1000 + 65536 + 8 * 1000 for batch_size 1000); one
      // byte less is refused.
      {base + "[parameters]\nbatch_size = 1000\nmax_unnamed_batch_bytes = 74599\n",
       "parameters.max_unnamed_batch_bytes: must hold one full batch of batch_size 1000, 74600 "
       "bytes, not 74599"},
      {files + "[tls]\nca_file = \"a\"\ncert_file = \"b\"\nkey_file = \"c\"\nextra = 1\n",
       "tls.extra: unknown key (known: ca_file, cert_file, key_file, plain)"},
      {files + "[tls]\nca_file = \"a\"\n", "tls.cert_file: is required"},
      {files + "tls = 1\n", "tls: expected a table, not an integer"},
  };
  for (const Case& c : cases) {
    WriteFile(path, c.text);
    Result<NodeConfig> config = LoadNodeConfig(path);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_TRUE(config.status().IsInvalidArgument()) << c.text;
    EXPECT_EQ(config.status().message(), path + ": " + c.message) << c.text;
  }
  WriteFile(path, "key_file = \n");
  Result<NodeConfig> not_toml = LoadNodeConfig(path);
  ASSERT_FALSE(not_toml.ok());
  EXPECT_EQ(not_toml.status().message().rfind(path + ": line 1, column ", 0), 0u)
      << not_toml.status().ToString();
}

TEST(NodeConfig, CommitteeTomlRoundTripsAndItsErrorsNameTheEntry) {
  TempDir dir;
  const std::string path = dir.Sub("committee.toml");
  std::vector<Authority> authorities;
  for (int i = 0; i < 4; ++i) {
    Authority a;
    a.name = KeyPair::Generate().public_key();
    a.primary_address = "127.0.0.1:" + std::to_string(21000 + i);
    a.worker_addresses = {"127.0.0.1:" + std::to_string(21100 + i)};
    authorities.push_back(a);
  }
  Result<Committee> committee = Committee::Create(authorities);
  ASSERT_TRUE(committee.ok());
  const std::string text = CommitteeToToml(*committee);
  WriteFile(path, text);
  Result<Committee> read = LoadCommittee(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), 4u);

  const std::string name = EncodeHex(AsBytes(authorities[0].name));
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "authority: no [[authority]] entries"},
      {text + "[[authority]]\nname = \"zz\"\nprimary = \"127.0.0.1:1\"\nworkers = [\"a:1\"]\n",
       "authority[5].name: 'zz' is not 64 hex characters"},
      {"[[authority]]\nname = \"" + name + "\"\nprimary = \"127.0.0.1:1\"\n",
       "authority[1].workers: is required"},
      {"[[authority]]\nname = \"" + name + "\"\nprimary = \"127.0.0.1:1\"\nworkers = []\n",
       "authority[1].workers: must name at least one address"},
      {"[[authority]]\nname = \"" + name +
           "\"\nprimary = \"127.0.0.1:1\"\nworkers = [\"a:1\"]\nweight = 2\n",
       "authority[1].weight: unknown key (known: name, stake, primary, workers)"},
      {"[[authority]]\nname = \"" + name + "\"\nprimary = \"127.0.0.1:1\"\nworkers = [1]\n",
       "authority[1].workers[1]: expected a string, not an integer"},
      {"validators = 4\n", "validators: unknown key (known: authority)"},
  };
  for (const Case& c : cases) {
    WriteFile(path, c.text);
    Result<Committee> bad = LoadCommittee(path);
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_TRUE(bad.status().IsInvalidArgument()) << c.text;
    EXPECT_EQ(bad.status().message(), path + ": " + c.message) << c.text;
  }
}

}  // namespace
}  // namespace rustorium::chain
