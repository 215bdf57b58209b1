#include "region/rpc/certs.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "region/rpc/identity.h"
#include "tests/test_util.h"

namespace rustorium::rpc {
namespace {

using rustorium::testing::TempDir;

std::unique_ptr<X509, decltype(&X509_free)> LoadCert(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  X509* c = f != nullptr ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) std::fclose(f);
  return {c, X509_free};
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> LoadKey(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  EVP_PKEY* k = f != nullptr ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) std::fclose(f);
  return {k, EVP_PKEY_free};
}

// Whether `leaf` chains to `ca` for `purpose`.
bool Verifies(X509* ca, X509* leaf, int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST(ClusterCerts, NodeAndClientCertificatesChainToTheirCa) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  o.stores = 3;
  ASSERT_TRUE(CreateClusterCerts(o).ok());
  auto ca = LoadCert(o.dir + "/ca.crt");
  ASSERT_TRUE(ca);
  for (int i = 1; i <= 3; ++i) {
    const std::string base = o.dir + "/store-" + std::to_string(i);
    auto cert = LoadCert(base + ".crt");
    auto key = LoadKey(base + ".key");
    ASSERT_TRUE(cert && key) << base;
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
    EXPECT_TRUE(Verifies(ca.get(), cert.get(), X509_PURPOSE_SSL_SERVER)) << base;
    EXPECT_TRUE(Verifies(ca.get(), cert.get(), X509_PURPOSE_SSL_CLIENT)) << base;
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
    struct stat st;
    ASSERT_EQ(::stat((base + ".key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "private keys are private";
  }
  auto client = LoadCert(o.dir + "/client.crt");
  ASSERT_TRUE(client);
  EXPECT_TRUE(Verifies(ca.get(), client.get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(Verifies(ca.get(), client.get(), X509_PURPOSE_SSL_SERVER))
      << "a client certificate must not serve";
}

TEST(ClusterCerts, AnotherCaDoesNotVouchForThem) {
  TempDir dir;
  ClusterCertsOptions a, b;
  a.dir = dir.Sub("a");
  b.dir = dir.Sub("b");
  a.stores = b.stores = 1;
  ASSERT_TRUE(CreateClusterCerts(a).ok());
  ASSERT_TRUE(CreateClusterCerts(b).ok());
  auto ca_b = LoadCert(b.dir + "/ca.crt");
  auto node_a = LoadCert(a.dir + "/store-1.crt");
  EXPECT_FALSE(Verifies(ca_b.get(), node_a.get(), X509_PURPOSE_SSL_SERVER));
}

TEST(ClusterCerts, ExistingCaIsNeverOverwritten) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  ASSERT_TRUE(CreateClusterCerts(o).ok());
  const std::string before = rustorium::testing::ReadFile(o.dir + "/ca.key");
  Status again = CreateClusterCerts(o);
  EXPECT_TRUE(again.IsFailedPrecondition()) << again.ToString();
  EXPECT_EQ(rustorium::testing::ReadFile(o.dir + "/ca.key"), before);
}

TEST(ClusterCerts, BadOptionsAreRefused) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  o.stores = -1;
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  o.stores = 1;
  o.hosts = {"bad host"};
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  o.hosts = {};
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(o.dir)) << "refused options create nothing";
}

TEST(ClusterCerts, EachCertificateCarriesItsOwnIdentity) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  o.stores = 2;
  o.pd_members = 1;
  o.add_clients = {"alice"};
  ASSERT_TRUE(CreateClusterCerts(o).ok());
  struct Want {
    const char* file;
    PeerRole role;
    uint64_t id;
    const char* name;
  };
  for (const Want& w :
       {Want{"store-1", PeerRole::kStore, 1, ""}, Want{"store-2", PeerRole::kStore, 2, ""},
        Want{"pd-1", PeerRole::kPd, 1, ""}, Want{"client", PeerRole::kClient, 0, "client"},
        Want{"admin", PeerRole::kAdmin, 0, "admin"},
        Want{"client-alice", PeerRole::kClient, 0, "alice"}}) {
    Result<PeerIdentity> id = CertificateIdentity(o.dir + "/" + w.file + ".crt");
    ASSERT_TRUE(id.ok()) << w.file << ": " << id.status().ToString();
    EXPECT_EQ(id->role, w.role) << w.file;
    EXPECT_EQ(id->id, w.id) << w.file;
    EXPECT_EQ(id->name, w.name) << w.file;
    EXPECT_FALSE(id->trusted);
  }
  auto pd = LoadCert(o.dir + "/pd-1.crt");
  EXPECT_EQ(X509_check_ip_asc(pd.get(), "127.0.0.1", 0), 1) << "node certificates name hosts";
  auto alice = LoadCert(o.dir + "/client-alice.crt");
  EXPECT_FALSE(Verifies(LoadCert(o.dir + "/ca.crt").get(), alice.get(), X509_PURPOSE_SSL_SERVER));
}

TEST(ClusterCerts, AnExistingClusterGetsMoreCertificatesFromItsCa) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  o.stores = 1;
  ASSERT_TRUE(CreateClusterCerts(o).ok());
  const std::string ca_key = rustorium::testing::ReadFile(o.dir + "/ca.key");
  ClusterCertsOptions more;
  more.dir = o.dir;
  more.add_stores = {4};
  more.add_clients = {"bob"};
  more.add_admins = {"carol"};
  ASSERT_TRUE(CreateClusterCerts(more).ok());
  EXPECT_EQ(rustorium::testing::ReadFile(o.dir + "/ca.key"), ca_key);
  auto ca = LoadCert(o.dir + "/ca.crt");
  for (const char* f : {"store-4", "client-bob", "admin-carol"}) {
    auto cert = LoadCert(o.dir + "/" + f + ".crt");
    ASSERT_TRUE(cert) << f;
    EXPECT_TRUE(Verifies(ca.get(), cert.get(), X509_PURPOSE_SSL_CLIENT)) << f;
  }
  EXPECT_EQ(CertificateIdentity(o.dir + "/store-4.crt")->id, 4u);
  EXPECT_EQ(CertificateIdentity(o.dir + "/admin-carol.crt")->role, PeerRole::kAdmin);
  // Never overwritten; a refused request writes nothing at all.
  const std::string bob = rustorium::testing::ReadFile(o.dir + "/client-bob.crt");
  ClusterCertsOptions again;
  again.dir = o.dir;
  again.add_clients = {"dave", "bob"};
  EXPECT_TRUE(CreateClusterCerts(again).IsFailedPrecondition());
  EXPECT_EQ(rustorium::testing::ReadFile(o.dir + "/client-bob.crt"), bob);
  EXPECT_FALSE(std::filesystem::exists(o.dir + "/client-dave.crt"));
  again.add_clients = {"with space"};
  EXPECT_TRUE(CreateClusterCerts(again).IsInvalidArgument());
  again.add_clients = {std::string(65, 'a')};
  EXPECT_TRUE(CreateClusterCerts(again).IsInvalidArgument());
  again.add_clients = {std::string(64, 'a')};
  EXPECT_TRUE(CreateClusterCerts(again).ok());
  again.add_clients = {};
  again.add_stores = {0};
  EXPECT_TRUE(CreateClusterCerts(again).IsInvalidArgument());
}

TEST(Identity, UrisRoundTripAndMalformedOnesAreRefused) {
  EXPECT_EQ(IdentityUri(PeerRole::kStore, 3, ""), "rustorium:store:3");
  EXPECT_EQ(IdentityUri(PeerRole::kAdmin, 0, "root"), "rustorium:admin:root");
  Result<PeerIdentity> s = ParseIdentityUri("rustorium:store:3");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Is(PeerRole::kStore, 3));
  EXPECT_FALSE(s->Is(PeerRole::kStore, 2));
  EXPECT_FALSE(s->Is(PeerRole::kPd, 3));
  EXPECT_EQ(ParseIdentityUri("rustorium:client:alice")->name, "alice");
  for (const char* bad :
       {"", "rustorium:", "rustorium:store", "rustorium:store:", "rustorium:store:0",
        "rustorium:store:03", "rustorium:store:3x", "rustorium:store:-1",
        "rustorium:store:99999999999999999999", "rustorium:king:1",
        "rustorium:client:", "rustorium:client:a b", "spiffe:store:1"}) {
    EXPECT_TRUE(ParseIdentityUri(bad).status().IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(PeerIdentity::Plain().Is(PeerRole::kStore, 9)) << "plain TCP trusts every peer";
}

TEST(Identity, ValidatorNamesAreExactly64LowerCaseHex) {
  const std::string key(64, 'a');
  EXPECT_EQ(IdentityUri(PeerRole::kValidator, 0, key), "rustorium:validator:" + key);
  Result<PeerIdentity> v = ParseIdentityUri("rustorium:validator:" + key);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->role, PeerRole::kValidator);
  EXPECT_EQ(v->name, key);
  // 63, 65, upper case, a non-hex letter: not a public key.
  for (const std::string& bad : {std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'A'),
                                 std::string(63, 'a') + "g", std::string()}) {
    EXPECT_TRUE(ParseIdentityUri("rustorium:validator:" + bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(ClusterCerts, ValidatorCertificatesCarryTheirPublicKey) {
  TempDir dir;
  ClusterCertsOptions o;
  o.dir = dir.Sub("certs");
  o.stores = 0;
  o.pd_members = 0;
  const std::string key0(64, '0'), key1 = std::string(32, 'a') + std::string(32, '9');
  o.add_validators = {{"validator-0", key0}, {"validator-1", key1}};
  ASSERT_TRUE(CreateClusterCerts(o).ok()) << "validators alone make a new cluster";
  auto ca = LoadCert(o.dir + "/ca.crt");
  for (const auto& [file, key] : o.add_validators) {
    Result<PeerIdentity> id = CertificateIdentity(o.dir + "/" + file + ".crt");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(id->role, PeerRole::kValidator);
    EXPECT_EQ(id->name, key);
    auto cert = LoadCert(o.dir + "/" + file + ".crt");
    EXPECT_TRUE(Verifies(ca.get(), cert.get(), X509_PURPOSE_SSL_SERVER)) << file;
    EXPECT_TRUE(Verifies(ca.get(), cert.get(), X509_PURPOSE_SSL_CLIENT)) << file;
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  }
  EXPECT_EQ(CertificateIdentity(o.dir + "/client.crt")->role, PeerRole::kClient);
  ClusterCertsOptions bad;
  bad.dir = o.dir;
  bad.add_validators = {{"validator-2", std::string(63, 'a')}};
  EXPECT_TRUE(CreateClusterCerts(bad).IsInvalidArgument());
  bad.add_validators = {{"../escape", key0}};
  EXPECT_TRUE(CreateClusterCerts(bad).IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("escape.crt")));
}

}  // namespace
}  // namespace rustorium::rpc
