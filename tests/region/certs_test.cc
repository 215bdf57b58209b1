#include "region/rpc/certs.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

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
  o.nodes = 3;
  ASSERT_TRUE(CreateClusterCerts(o).ok());
  auto ca = LoadCert(o.dir + "/ca.crt");
  ASSERT_TRUE(ca);
  for (int i = 1; i <= 3; ++i) {
    const std::string base = o.dir + "/node-" + std::to_string(i);
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
  a.nodes = b.nodes = 1;
  ASSERT_TRUE(CreateClusterCerts(a).ok());
  ASSERT_TRUE(CreateClusterCerts(b).ok());
  auto ca_b = LoadCert(b.dir + "/ca.crt");
  auto node_a = LoadCert(a.dir + "/node-1.crt");
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
  o.nodes = 0;
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  o.nodes = 1;
  o.hosts = {"bad host"};
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  o.hosts = {};
  EXPECT_TRUE(CreateClusterCerts(o).IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(o.dir)) << "refused options create nothing";
}

}  // namespace
}  // namespace rustorium::rpc
