// The `rustorium engine` offline tool, run as a real child process.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "region/rpc/identity.h"
#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"
#include "tools/rustorium/byte_format.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/storage_config.h"

namespace rustorium::tools {
namespace {

using rustorium::testing::TempDir;
using rustorium::testing::WriteFile;

TEST(EngineCli, PutGetScanDeleteStats) {
  TempDir dir;
  const std::string d = " --data-dir " + dir.Sub("db");
  for (const char* kv : {"apple red", "banana yellow", "cherry dark-red", "date brown"}) {
    CliRun put = Rustorium(std::string("engine put ") + kv + d);
    ASSERT_EQ(put.exit_code, 0) << put.out;
  }
  CliRun get = Rustorium("engine get banana" + d);
  EXPECT_EQ(get.exit_code, 0) << get.out;
  EXPECT_EQ(get.out, "yellow\n");

  CliRun scan = Rustorium("engine scan --start b --end d" + d);
  EXPECT_EQ(scan.exit_code, 0) << scan.out;
  EXPECT_NE(scan.out.find("banana\tyellow\ncherry\tdark-red\n"), std::string::npos) << scan.out;
  EXPECT_EQ(scan.out.find("apple"), std::string::npos) << scan.out;
  EXPECT_EQ(scan.out.find("date"), std::string::npos) << "end is exclusive: " << scan.out;

  CliRun reverse = Rustorium("engine scan --reverse --limit 2" + d);
  EXPECT_EQ(reverse.exit_code, 0);
  EXPECT_NE(reverse.out.find("date\tbrown\ncherry\tdark-red\n"), std::string::npos) << reverse.out;
  EXPECT_EQ(reverse.out.find("banana"), std::string::npos) << reverse.out;

  ASSERT_EQ(Rustorium("engine delete banana" + d).exit_code, 0);
  CliRun missing = Rustorium("engine get banana" + d);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("not found"), std::string::npos) << missing.out;

  CliRun stats = Rustorium("engine stats" + d);
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("keys.default\t"), std::string::npos) << stats.out;
  // Exact counts, not RocksDB's estimate (which counts an overwrite as a second key).
  ASSERT_EQ(Rustorium("engine put counted v1" + d).exit_code, 0);
  ASSERT_EQ(Rustorium("engine put counted v2" + d).exit_code, 0);
  ASSERT_EQ(Rustorium("engine put --cf raft r1 v" + d).exit_code, 0);
  const CliRun before = Rustorium("engine stats" + d);
  const auto count = [](const std::string& out, const std::string& name) {
    const std::size_t at = out.find("\n" + name + "\t");
    return at == std::string::npos ? -1 : std::stol(out.substr(at + name.size() + 2));
  };
  const long default_keys = count(before.out, "keys.default");
  ASSERT_GE(default_keys, 1) << before.out;
  EXPECT_EQ(count(before.out, "keys.raft"), 1) << before.out;
  ASSERT_EQ(Rustorium("engine put counted v3" + d).exit_code, 0);
  EXPECT_EQ(count(Rustorium("engine stats" + d).out, "keys.default"), default_keys)
      << "an overwrite adds no key";
  EXPECT_NE(stats.out.find("compression_ratio\t"), std::string::npos) << stats.out;
}

TEST(EngineCli, HexKeysAndFamilies) {
  TempDir dir;
  const std::string d = " --data-dir " + dir.Sub("db");
  ASSERT_EQ(Rustorium("engine put --hex --cf raft 00ff 0a0b" + d).exit_code, 0);
  CliRun get = Rustorium("engine get --hex --cf raft 00ff" + d);
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "0a0b\n");
  CliRun plain_scan = Rustorium("engine scan --cf raft" + d);
  EXPECT_NE(plain_scan.out.find("\\x00\\xff\t\\x0a\\x0b"), std::string::npos) << plain_scan.out;
  EXPECT_EQ(Rustorium("engine get --hex 00ff" + d).exit_code, 1) << "other family is empty";
  CliRun bad_cf = Rustorium("engine get --cf nope k" + d);
  EXPECT_EQ(bad_cf.exit_code, 2) << "malformed input";
  EXPECT_NE(bad_cf.out.find("unknown column family"), std::string::npos) << bad_cf.out;
  CliRun bad_hex = Rustorium("engine put --hex zz 00" + d);
  EXPECT_EQ(bad_hex.exit_code, 2) << "malformed input";
  EXPECT_NE(bad_hex.out.find("hex"), std::string::npos) << bad_hex.out;
}

TEST(EngineCli, ReadingAMissingStoreCreatesNothing) {
  TempDir dir;
  CliRun get = Rustorium("engine get k --data-dir " + dir.Sub("absent"));
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_NE(get.out.find("no store"), std::string::npos) << get.out;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent")));
  // A put with bad arguments is refused before a store is created.
  EXPECT_EQ(Rustorium("engine put --hex zz 00 --data-dir " + dir.Sub("absent")).exit_code, 2);
  EXPECT_EQ(Rustorium("engine put k v --cf nope --data-dir " + dir.Sub("absent")).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent")));
}

TEST(EngineCli, EncryptedStoreNeedsItsKey) {
  TempDir dir;
  WriteFile(dir.Sub("key"), std::string(64, '1') + "\n");
  WriteFile(dir.Sub("other"), std::string(64, '2') + "\n");
  const std::string d = " --data-dir " + dir.Sub("db");
  ASSERT_EQ(
      Rustorium("engine put secret value --encryption-key-file " + dir.Sub("key") + d).exit_code,
      0);
  CliRun ok = Rustorium("engine get secret --encryption-key-file " + dir.Sub("key") + d);
  EXPECT_EQ(ok.out, "value\n");
  CliRun wrong = Rustorium("engine get secret --encryption-key-file " + dir.Sub("other") + d);
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("wrong encryption key"), std::string::npos) << wrong.out;
  CliRun none = Rustorium("engine get secret" + d);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("is encrypted"), std::string::npos) << none.out;
}

TEST(EngineCli, UsageErrorsExitTwo) {
  EXPECT_EQ(Rustorium("").exit_code, 2);
  EXPECT_EQ(Rustorium("engine").exit_code, 2);
  EXPECT_EQ(Rustorium("engine put onlykey").exit_code, 2);
  EXPECT_EQ(Rustorium("engine frobnicate").exit_code, 2);
}

TEST(CliExitCodes, StatusCodesMapToOnePolicy) {
  EXPECT_EQ(ExitCode(Status::OK()), kExitOk);
  EXPECT_EQ(ExitCode(Status::InvalidArgument("bad flag")), kExitMalformed);
  for (const Status& s :
       {Status::NotFound("x"), Status::Corruption("x"), Status::IOError("x"),
        Status::NotSupported("x"), Status::FailedPrecondition("x"), Status::Busy("x"),
        Status::TimedOut("x"), Status::Aborted("x"), Status::Internal("x")}) {
    EXPECT_EQ(ExitCode(s), kExitFailure) << s.ToString();
  }
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitMalformed, 2);
}

// What the CLI prints in the text form it takes back (docs/cli.md, "Keys and values").
TEST(EngineCli, PrintedKeysAreTakenBack) {
  TempDir dir;
  const std::string d = " --data-dir " + dir.Sub("db");
  ASSERT_EQ(Rustorium("engine put 'a\\x00b' 'v\\\\1'" + d).exit_code, 0);
  CliRun scan = Rustorium("engine scan" + d);
  EXPECT_NE(scan.out.find("a\\x00b\tv\\\\1\n"), std::string::npos) << scan.out;
  CliRun get = Rustorium("engine get 'a\\x00b'" + d);
  EXPECT_EQ(get.exit_code, 0) << get.out;
  EXPECT_NE(get.out.find("v\\\\1"), std::string::npos) << get.out;
  EXPECT_EQ(Rustorium("engine get --hex 610062" + d).exit_code, 0);
  CliRun bad = Rustorium("engine get 'a\\qb'" + d);
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("write a literal backslash as"), std::string::npos) << bad.out;
}

// The habits of other command lines: --version, help, unknown commands, '-' values.
TEST(CliHabits, VersionHelpUnknownCommandsAndDashValues) {
  CliRun version = Rustorium("--version");
  EXPECT_EQ(version.exit_code, 0) << version.out;
  EXPECT_EQ(version.out.rfind("rustorium 0.", 0), 0u) << version.out;
  EXPECT_NE(version.out.find("(commit "), std::string::npos) << version.out;

  CliRun help = Rustorium("help");
  EXPECT_EQ(help.exit_code, 0) << help.out;
  EXPECT_NE(help.out.find("playground"), std::string::npos) << help.out;
  CliRun put_help = Rustorium("help kv put");
  EXPECT_EQ(put_help.exit_code, 0) << put_help.out;
  EXPECT_NE(put_help.out.find("--value-file"), std::string::npos) << put_help.out;

  CliRun unknown = Rustorium("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("unknown command 'frobnicate'"), std::string::npos) << unknown.out;
  EXPECT_NE(unknown.out.find("  kv "), std::string::npos) << "lists the commands: " << unknown.out;
  CliRun nested = Rustorium("kv frob");
  EXPECT_EQ(nested.exit_code, 2) << nested.out;
  EXPECT_NE(nested.out.find("unknown command 'frob'; the commands of kv"), std::string::npos)
      << nested.out;
  EXPECT_NE(nested.out.find("  scan "), std::string::npos) << nested.out;
  EXPECT_EQ(Rustorium("help nope").exit_code, 2);

  CliRun dash = Rustorium("kv put k -oops --plain --pd 127.0.0.1:1");
  EXPECT_EQ(dash.exit_code, 2) << dash.out;
  EXPECT_NE(dash.out.find("goes after `--`"), std::string::npos) << dash.out;
}

// Keys and values refused before anything is sent: an empty key for a read as for a write, a
// malformed escape, a value file over max_value_size (limit - 1 and limit pass the door and
// fail later only for want of a cluster).
TEST(KvCli, BadKeysAndValuesAreRefusedAtTheDoor) {
  TempDir dir;
  const std::string nowhere = " --plain --pd 127.0.0.1:1";
  CliRun empty = Rustorium("kv get ''" + nowhere);
  EXPECT_EQ(empty.exit_code, 2) << empty.out;
  EXPECT_NE(empty.out.find("empty key"), std::string::npos) << empty.out;
  EXPECT_EQ(Rustorium("kv put '' v" + nowhere).exit_code, 2);
  EXPECT_EQ(Rustorium("kv get 'a\\' " + nowhere).exit_code, 2);
  EXPECT_EQ(Rustorium("kv get --hex 6" + nowhere).exit_code, 2);
  EXPECT_EQ(Rustorium("kv put k" + nowhere).exit_code, 2) << "no value";
  EXPECT_EQ(Rustorium("kv put k v --value-file /dev/null" + nowhere).exit_code, 2) << "both";
  EXPECT_EQ(Rustorium("kv put k --value-file " + dir.Sub("absent") + nowhere).exit_code, 2);
  constexpr std::size_t kLimit = 8 * 1024 * 1024;
  for (std::size_t size : {kLimit - 1, kLimit, kLimit + 1}) {
    WriteFile(dir.Sub("v"), std::string(size, 'v'));
    CliRun r = Rustorium("kv put k --value-file " + dir.Sub("v") + nowhere);
    if (size > kLimit) {
      EXPECT_EQ(r.exit_code, 2) << r.out;
      EXPECT_NE(r.out.find("more than max_value_size 8388608"), std::string::npos) << r.out;
    } else {
      EXPECT_EQ(r.exit_code, 1) << size << ": " << r.out;
      EXPECT_NE(r.out.find("unreachable: 127.0.0.1:1"), std::string::npos) << r.out;
    }
  }
}

// `rustorium ARGS`, timed: its result and the seconds it took.
std::pair<CliRun, double> Timed(const std::string& args) {
  const auto start = std::chrono::steady_clock::now();
  CliRun r = Rustorium(args);
  return {r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

// --timeout DURATION is every client command's retry budget: malformed or absurd values exit 2;
// against an address where nothing listens, the client gives up after about DURATION (the
// default gives up after 8 attempts, 2.26 s of backoff); against a server that accepts and never
// answers, each attempt waits at most DURATION (the default waits 3 s per attempt).
TEST(KvCli, TimeoutFlagBoundsTheRetryBudget) {
  const std::string nowhere = " --plain --pd 127.0.0.1:1";
  for (const char* bad : {"0s", "0", "5", "5x", "-1s", "5ms", "2h", "1.5s", "99999999999s", "''"}) {
    for (const std::string cmd : {"kv get k", "status check", "bench kv --seconds 1"}) {
      CliRun r = Rustorium(cmd + nowhere + " --timeout " + bad);
      EXPECT_EQ(r.exit_code, 2) << cmd << " --timeout " << bad << ": " << r.out;
      EXPECT_NE(r.out.find("--timeout"), std::string::npos) << bad << ": " << r.out;
    }
  }
  EXPECT_NE(Rustorium("kv get k --timeout 5" + nowhere).out.find("give a unit"), std::string::npos);
  EXPECT_NE(Rustorium("kv get k --timeout 0s" + nowhere).out.find("out of range: 10ms to 1h"),
            std::string::npos);
  EXPECT_NE(Rustorium("kv get k --timeout 1.5s" + nowhere).out.find("a whole number"),
            std::string::npos);

  auto [by_default, default_s] = Timed("kv get k" + nowhere);
  EXPECT_EQ(by_default.exit_code, 1) << by_default.out;
  EXPECT_GE(default_s, 2.2) << by_default.out;
  auto [short_run, short_s] = Timed("kv get k --timeout 500ms" + nowhere);
  EXPECT_EQ(short_run.exit_code, 1) << short_run.out;
  EXPECT_NE(short_run.out.find("unreachable: 127.0.0.1:1"), std::string::npos) << short_run.out;
  EXPECT_LT(short_s, 1.8) << "default " << default_s << " s";
  auto [long_run, long_s] = Timed("kv put k v --timeout 4s" + nowhere);
  EXPECT_EQ(long_run.exit_code, 1) << long_run.out;
  EXPECT_GE(long_s, 3.9) << "the budget outlasts the default's 8 attempts";
  EXPECT_LT(long_s, 8.0);

  // A PD that accepts connections (the kernel's backlog) and never answers.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string silent = " --plain --pd 127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto [one, one_s] = Timed("kv get k --timeout 1s" + silent);
  EXPECT_EQ(one.exit_code, 1) << one.out;
  EXPECT_GE(one_s, 0.9) << one.out;
  EXPECT_LT(one_s, 2.5) << one.out << " (the default waits 3 s for one attempt)";
  auto [check, check_s] = Timed("status check --timeout 1s" + silent);
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_LT(check_s, 2.5) << check.out;
  ::close(fd);
}

// One policy across the commands: malformed input exits 2, a failure exits 1.
TEST(CliExitCodes, MalformedInputExitsTwoAndFailuresExitOne) {
  TempDir dir;
  const std::string d = " --data-dir " + dir.Sub("db");
  ASSERT_EQ(Rustorium("engine put k v" + d).exit_code, 0);
  WriteFile(dir.Sub("bad.toml"), "[storage]\nsync_mode = 3\n");
  WriteFile(dir.Sub("store.toml"),
            "[store]\ndata_dir = \"" + dir.Sub("s") + "\"\ncolour = 1\n[tls]\nplain = true\n");
  struct Case {
    std::string args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      // malformed input: flags, arguments, config files
      {"engine get k --cf nope" + d, 2},
      {"engine get --hex 0" + d, 2},
      {"engine put k v --sync-mode sometimes" + d, 2},
      {"engine stats --config " + dir.Sub("bad.toml") + d, 2},
      {"engine scan --limit many" + d, 2},
      {"server --config " + dir.Sub("store.toml"), 2},
      {"pd --config " + dir.Sub("absent.toml"), 2},
      {"kv get k --plain --pd nowhere", 2},
      {"chain submit --tx t --node nowhere", 2},
      {"--log-level loud engine stats" + d, 2},
      {"proof root --input " + dir.Sub("absent.txt"), 2},
      // failures: not there, unreachable
      {"engine get absent" + d, 1},
      {"engine stats --data-dir " + dir.Sub("no-store"), 1},
      {"chain status --plain --node 127.0.0.1:1", 1},
      {"kv get k --plain --pd 127.0.0.1:1", 1},
  };
  for (const Case& c : cases) {
    CliRun r = Rustorium(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.out;
  }
  CliRun config = Rustorium("engine stats --config " + dir.Sub("bad.toml") + d);
  EXPECT_NE(config.out.find(dir.Sub("bad.toml") +
                            ": storage.sync_mode: expected a string, not an integer"),
            std::string::npos)
      << config.out;
  CliRun store = Rustorium("server --config " + dir.Sub("store.toml"));
  EXPECT_NE(store.out.find(dir.Sub("store.toml") + ": store.colour: unknown key"),
            std::string::npos)
      << store.out;
}

// An input echoed in an error is cut to a readable length and names its size.
TEST(CliMessages, AnEightKibInputIsEchoedShortWithItsLength) {
  TempDir dir;
  const std::string d = " --data-dir " + dir.Sub("db");
  ASSERT_EQ(Rustorium("engine put k v" + d).exit_code, 0);
  const std::string key(8192, 'a');
  struct Case {
    std::string args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {"engine get " + key + d, 1},  // not found
      {"engine get --hex " + std::string(8192, 'z') + d, 2},
      {"engine get k --cf " + key + d, 2},
      {"engine put k v --sync-mode " + key + d, 2},
      {"kv get k --plain --pd " + key, 2},
      {"engine scan --limit " + key + d, 2},  // CLI11's own message
      {"--log-level " + key + " engine stats" + d, 2},
  };
  for (const Case& c : cases) {
    const std::string what = c.args.substr(0, 40) + "...";
    CliRun r = Rustorium(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << what << "\n" << r.out.substr(0, 400);
    const std::string first = r.out.substr(0, r.out.find('\n'));
    EXPECT_LT(first.size(), 160u) << what << "\n" << first.substr(0, 400);
    EXPECT_NE(first.find("(8192 bytes)"), std::string::npos) << what << "\n"
                                                             << first.substr(0, 400);
    EXPECT_EQ(r.out.find(std::string(64, 'a')), std::string::npos) << what;
    EXPECT_EQ(r.out.find(std::string(64, 'z')), std::string::npos) << what;
  }
}

TEST(CertsCli, CreateWritesACaAndNodeCertificates) {
  TempDir dir;
  const std::string out = dir.Sub("certs");
  CliRun create = Rustorium("certs create --dir " + out + " --stores 2");
  EXPECT_EQ(create.exit_code, 0) << create.out;
  for (const char* f : {"ca.crt", "ca.key", "store-1.crt", "store-1.key", "store-2.crt",
                        "store-2.key", "pd-1.crt", "client.crt", "client.key"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/store-3.crt"));
  CliRun again = Rustorium("certs create --dir " + out);
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("already holds"), std::string::npos) << again.out;
  EXPECT_EQ(Rustorium("certs create --dir " + dir.Sub("other") + " --stores -1").exit_code, 2);
  EXPECT_EQ(Rustorium("certs create").exit_code, 2);
  // One certificate per user, added to the existing cluster with its CA.
  CliRun alice = Rustorium("certs create --dir " + out + " --client alice --admin root --store 4");
  EXPECT_EQ(alice.exit_code, 0) << alice.out;
  for (const char* f : {"client-alice.crt", "client-alice.key", "admin-root.crt", "store-4.crt"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  CliRun twice = Rustorium("certs create --dir " + out + " --client alice");
  EXPECT_EQ(twice.exit_code, 1) << twice.out;
  EXPECT_NE(twice.out.find("client-alice"), std::string::npos) << twice.out;
  EXPECT_EQ(Rustorium("certs create --dir " + out + " --client 'no spaces'").exit_code, 2);
}

// `--validator NAME=PUBKEYHEX` makes a chain validator's certificate that carries
// rustorium:validator:<hex> (read back with the identity reader the validators use); the key
// is exactly 64 hex digits (63 and 65 are refused, nothing written), upper case is lowered.
TEST(CertsCli, ValidatorCertificatesCarryThePublicKey) {
  TempDir dir;
  const std::string out = dir.Sub("certs");
  CliRun keygen = Rustorium("chain keygen --out " + dir.Sub("v0.key"));
  ASSERT_EQ(keygen.exit_code, 0) << keygen.out;
  const std::string key = keygen.out.substr(0, keygen.out.find('\n'));
  ASSERT_EQ(key.size(), 64u) << keygen.out;
  auto identity_of = [&](const std::string& file) -> std::string {
    auto id = rpc::CertificateIdentity(out + "/" + file + ".crt");
    if (!id.ok()) return id.status().ToString();
    if (id->role != rpc::PeerRole::kValidator) return "role " + id->ToString();
    return id->name;
  };

  CliRun create = Rustorium("certs create --dir " + out +
                            " --stores 0 --pd-members 0 --validator validator-0=" + key);
  ASSERT_EQ(create.exit_code, 0) << create.out;
  EXPECT_NE(create.out.find("validator-0"), std::string::npos) << create.out;
  EXPECT_EQ(identity_of("validator-0"), key);
  EXPECT_TRUE(std::filesystem::exists(out + "/validator-0.key"));
  EXPECT_FALSE(std::filesystem::exists(out + "/store-1.crt"));

  // Added to the existing CA; upper-case hex is the same key.
  std::string upper = std::string(63, 'A') + "0";
  CliRun more = Rustorium("certs create --dir " + out + " --validator validator-1=" + upper);
  ASSERT_EQ(more.exit_code, 0) << more.out;
  EXPECT_EQ(identity_of("validator-1"), std::string(63, 'a') + "0");

  // 63, 64 and 65 characters: only 64 makes a certificate.
  for (const size_t length : {63u, 64u, 65u}) {
    const std::string file = "validator-len" + std::to_string(length);
    CliRun r = Rustorium("certs create --dir " + out + " --validator " + file + "=" +
                         std::string(length, '7'));
    if (length == 64) {
      EXPECT_EQ(r.exit_code, 0) << r.out;
      EXPECT_EQ(identity_of(file), std::string(64, '7'));
      continue;
    }
    EXPECT_EQ(r.exit_code, 2) << length << ": " << r.out;
    EXPECT_NE(r.out.find("must be 64 hex digits"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not " + std::to_string(length) + " characters"), std::string::npos)
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(out + "/" + file + ".crt")) << length;
  }
  // 64 characters that are not all hex, no '=', no name: malformed, nothing written.
  for (const std::string& bad : std::vector<std::string>{
           "validator-x=" + std::string(63, 'a') + "g", "validator-x", "=" + key}) {
    CliRun r = Rustorium("certs create --dir " + out + " --validator '" + bad + "'");
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--validator '" + bad + "'"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/validator-x.crt"));
  // A second certificate under an existing file name is refused, the file kept.
  CliRun twice =
      Rustorium("certs create --dir " + out + " --validator validator-0=" + std::string(64, '1'));
  EXPECT_EQ(twice.exit_code, 1) << twice.out;
  EXPECT_EQ(identity_of("validator-0"), key);
}

TEST(StorageConfig, ReadsStorageSection) {
  TempDir dir;
  WriteFile(dir.Sub("store.toml"),
            "[storage]\npath = \"/srv/x\"\nsync_mode = \"async\"\nsync_interval_ms = 250\n"
            "compression = false\nencryption = true\nencryption_key_file = \"/k\"\n"
            "max_key_size = 100\n");
  engine::StorageOptions o;
  Status s = LoadStorageConfig(dir.Sub("store.toml"), o);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.path, "/srv/x");
  EXPECT_EQ(o.sync_mode, engine::SyncMode::kAsync);
  EXPECT_EQ(o.sync_interval.count(), 250);
  EXPECT_FALSE(o.compression);
  EXPECT_TRUE(o.encryption);
  EXPECT_EQ(o.encryption_key_file, "/k");
  EXPECT_EQ(o.max_key_size, 100u);
  EXPECT_EQ(o.max_value_size, engine::StorageOptions{}.max_value_size);
}

TEST(StorageConfig, RefusesBadFiles) {
  TempDir dir;
  engine::StorageOptions o;
  WriteFile(dir.Sub("a.toml"), "[storage]\nsync_mode = \"sometimes\"\n");
  EXPECT_TRUE(LoadStorageConfig(dir.Sub("a.toml"), o).IsInvalidArgument());
  WriteFile(dir.Sub("b.toml"), "[storage]\ncompresion = true\n");
  Status typo = LoadStorageConfig(dir.Sub("b.toml"), o);
  EXPECT_TRUE(typo.IsInvalidArgument());
  EXPECT_EQ(
      typo.message().rfind(dir.Sub("b.toml") + ": storage.compresion: unknown key (known: ", 0), 0u)
      << typo.ToString();
  Status mode = LoadStorageConfig(dir.Sub("a.toml"), o);
  EXPECT_EQ(
      mode.message(),
      dir.Sub("a.toml") + ": storage.sync_mode: must be none, async or full, not 'sometimes'");
  WriteFile(dir.Sub("c.toml"), "[storage\n");
  EXPECT_TRUE(LoadStorageConfig(dir.Sub("c.toml"), o).IsInvalidArgument());
  WriteFile(dir.Sub("d.toml"), "[storage]\nmax_key_size = \"big\"\n");
  EXPECT_EQ(LoadStorageConfig(dir.Sub("d.toml"), o).message(),
            dir.Sub("d.toml") + ": storage.max_key_size: expected an integer, not a string");
  WriteFile(dir.Sub("e.toml"), "[storage]\nblock_cache_size = 0\n");
  EXPECT_EQ(LoadStorageConfig(dir.Sub("e.toml"), o).message(),
            dir.Sub("e.toml") + ": storage.block_cache_size: must be >= 1, not 0");
  EXPECT_TRUE(LoadStorageConfig(dir.Sub("missing.toml"), o).IsInvalidArgument());
}

TEST(ByteFormat, EscapeAndHex) {
  EXPECT_EQ(EscapeBytes(std::string("a\\b\x00\xff", 5)), "a\\\\b\\x00\\xff");
  EXPECT_EQ(ToHex(std::string("\x00\xab", 2)), "00ab");
  EXPECT_EQ(*FromHex("00AB"), std::string("\x00\xab", 2));
  EXPECT_TRUE(FromHex("abc").status().IsInvalidArgument());
  EXPECT_TRUE(FromHex("zz").status().IsInvalidArgument());
  EXPECT_EQ(*ParseBytesArg("KEY", "a\\x00", false), std::string("a\0", 2));
  EXPECT_EQ(*ParseBytesArg("KEY", "6100", true), std::string("a\0", 2));
  Status bad = ParseBytesArg("KEY", "a\\q", false).status();
  EXPECT_TRUE(bad.IsInvalidArgument());
  EXPECT_EQ(bad.message().rfind("KEY", 0), 0u) << bad.message();
}

// JSON carries valid UTF-8 as a string (encoded once, by JSON) and anything else as hex.
TEST(ByteFormat, JsonHoldsUtf8AsStringsAndOtherBytesAsHex) {
  nlohmann::json j;
  SetJsonBytes(j, "key", "caf\xc3\xa9\x01", false);
  EXPECT_EQ(j.dump(), "{\"key\":\"caf\xc3\xa9\\u0001\"}");
  nlohmann::json k;
  SetJsonBytes(k, "key", std::string("\xff\x00", 2), false);
  EXPECT_EQ(k.dump(), "{\"key_hex\":\"ff00\"}");
  nlohmann::json h;
  SetJsonBytes(h, "value", "abc", true);
  EXPECT_EQ(h.dump(), "{\"value_hex\":\"616263\"}");
}

}  // namespace
}  // namespace rustorium::tools
