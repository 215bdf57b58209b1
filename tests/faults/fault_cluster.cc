#include "tests/faults/fault_cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "region/rpc/certs.h"
#include "tests/support/raft_cluster.h"
#include "tools/rustorium/child_process.h"
#include "tools/rustorium/cluster_config.h"

namespace rustorium::faults {

namespace fs = std::filesystem;

namespace {

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.good()) return Status::IOError("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return ec ? Status::IOError("cannot rename " + tmp + ": " + ec.message()) : Status::OK();
}

// `name`: the certificate's file name, "store-1" or "pd-1".
std::string Tls(const std::string& certs, const std::string& name) {
  return "[tls]\nca_file = \"" + certs + "/ca.crt\"\ncert_file = \"" + certs + "/" + name +
         ".crt\"\nkey_file = \"" + certs + "/" + name + ".key\"\n";
}

// Elections within about a second, so that a fault costs seconds rather than tens of them.
constexpr const char* kRaftTimings =
    "[raft]\ntick_ms = 50\nheartbeat_ms = 150\nelection_ms = 1000\n";

}  // namespace

Result<std::unique_ptr<FaultCluster>> FaultCluster::Create(std::string binary, std::string dir,
                                                           int stores,
                                                           bool unsafe_reads_without_quorum) {
  std::unique_ptr<FaultCluster> c(new FaultCluster());
  c->binary_ = std::move(binary);
  c->dir_ = fs::absolute(dir).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(c->dir_, ec);
  if (ec) return Status::IOError("cannot create " + c->dir_ + ": " + ec.message());
  const std::string certs = c->dir_ + "/certs";
  if (!fs::exists(certs + "/ca.key")) {
    rpc::ClusterCertsOptions co;
    co.dir = certs;
    co.stores = stores;
    co.pd_members = 1;
    RETURN_IF_ERROR(rpc::CreateClusterCerts(co));
  }
  ASSIGN_OR_RETURN(tools::NodeTls tls,
                   tools::MakeTls(certs + "/ca.crt", certs + "/client.crt", certs + "/client.key"));
  c->client_tls_ = tls.client;
  ASSIGN_OR_RETURN(tools::NodeTls admin,
                   tools::MakeTls(certs + "/ca.crt", certs + "/admin.crt", certs + "/admin.key"));
  c->admin_tls_ = admin.client;
  c->pd_address_ = "127.0.0.1:" + std::to_string(raft::testing::PickPort());
  RETURN_IF_ERROR(WriteFileAtomically(
      c->dir_ + "/pd.toml", "[pd]\ndata_dir = \"" + c->dir_ + "/pd\"\naddress = \"" +
                                c->pd_address_ + "\"\nreplicas = 3\n\n" + kRaftTimings + "\n" +
                                Tls(certs, "pd-1")));
  for (int i = 0; i < stores; ++i) {
    const std::string address = "127.0.0.1:" + std::to_string(raft::testing::PickPort());
    c->store_addresses_.push_back(address);
    RETURN_IF_ERROR(WriteFileAtomically(
        c->dir_ + "/store" + std::to_string(i + 1) + ".toml",
        "[store]\ndata_dir = \"" + c->store_data_dir(i) + "\"\naddress = \"" + address +
            "\"\npd = [\"" + c->pd_address_ +
            "\"]\nheartbeat_ms = 500\n\n[labels]\nregion = \"local\"\nzone = \"z" +
            std::to_string(i + 1) + "\"\nhost = \"store" + std::to_string(i + 1) + "\"\n\n" +
            kRaftTimings +
            (unsafe_reads_without_quorum ? "unsafe_reads_without_quorum = true\n" : "") + "\n" +
            Tls(certs, "store-" + std::to_string(i + 1))));
  }
  c->store_procs_.resize(static_cast<std::size_t>(stores));
  RETURN_IF_ERROR(c->ClearLinks());
  return c;
}

FaultCluster::~FaultCluster() {
  for (Child& s : store_procs_) Signal(s, SIGKILL, true);
  Signal(pd_, SIGKILL, true);
}

std::string FaultCluster::store_data_dir(int i) const {
  return dir_ + "/store" + std::to_string(i + 1);
}
std::string FaultCluster::store_log(int i) const {
  return dir_ + "/store" + std::to_string(i + 1) + ".log";
}
std::string FaultCluster::pd_log() const { return dir_ + "/pd.log"; }

void FaultCluster::Signal(Child& c, int signal, bool wait) {
  if (c.pid <= 0) return;
  if (c.paused && signal != SIGCONT) kill(c.pid, SIGCONT);  // a stopped process must run to exit
  kill(c.pid, signal);
  if (signal == SIGCONT) c.paused = false;
  if (signal == SIGSTOP) c.paused = true;
  if (wait) {
    waitpid(c.pid, nullptr, 0);
    c.pid = -1;
    c.paused = false;
  }
}

void FaultCluster::StartPd() {
  if (pd_.pid > 0) return;
  pd_.pid = tools::SpawnChild({binary_, "pd", "--config", dir_ + "/pd.toml"}, pd_log());
}

void FaultCluster::StartStore(int i) {
  Child& c = store_procs_[static_cast<std::size_t>(i)];
  if (c.pid > 0) return;
  const std::string n = std::to_string(i + 1);
  tools::ChildOptions o;
  o.log = store_log(i);
  o.env = {"RUSTORIUM_LINK_FAULTS=" + dir_ + "/store" + n + ".links"};
  c.pid = tools::SpawnChild({binary_, "server", "--config", dir_ + "/store" + n + ".toml"}, o);
}

void FaultCluster::StartAll() {
  StartPd();
  for (int i = 0; i < stores(); ++i) StartStore(i);
}

void FaultCluster::KillPd() { Signal(pd_, SIGKILL, true); }
void FaultCluster::KillStore(int i) {
  Signal(store_procs_[static_cast<std::size_t>(i)], SIGKILL, true);
}
void FaultCluster::PauseStore(int i) {
  Signal(store_procs_[static_cast<std::size_t>(i)], SIGSTOP, false);
}
void FaultCluster::ResumeStore(int i) {
  Signal(store_procs_[static_cast<std::size_t>(i)], SIGCONT, false);
}
bool FaultCluster::StoreRunning(int i) const {
  return store_procs_[static_cast<std::size_t>(i)].pid > 0;
}
bool FaultCluster::StorePaused(int i) const {
  return store_procs_[static_cast<std::size_t>(i)].paused;
}

bool FaultCluster::StopAll(std::string* problems) {
  bool clean = true;
  auto stop = [&](Child& c, const std::string& name) {
    if (c.pid <= 0) return;
    if (c.paused) kill(c.pid, SIGCONT);
    kill(c.pid, SIGTERM);
    int status = 0;
    waitpid(c.pid, &status, 0);
    c.pid = -1;
    c.paused = false;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      clean = false;
      *problems += name + " did not stop cleanly (wait status " + std::to_string(status) + "); ";
    }
  };
  for (int i = 0; i < stores(); ++i)
    stop(store_procs_[static_cast<std::size_t>(i)], "store " + std::to_string(i + 1));
  stop(pd_, "pd");
  return clean;
}

std::vector<std::string> FaultCluster::UnexpectedExits() {
  std::vector<std::string> out;
  auto check = [&](Child& c, const std::string& name) {
    int status = 0;
    if (c.pid > 0 && waitpid(c.pid, &status, WNOHANG) == c.pid) {
      out.push_back(name + " exited on its own (wait status " + std::to_string(status) + ")");
      c.pid = -1;
      c.paused = false;
    }
  };
  for (int i = 0; i < stores(); ++i)
    check(store_procs_[static_cast<std::size_t>(i)], "store " + std::to_string(i + 1));
  check(pd_, "pd");
  return out;
}

Status FaultCluster::SetLinks(int i, const rpc::LinkRules& rules) {
  std::string text;
  for (const auto& [address, rule] : rules) {
    if (rule.drop) text += "drop " + address + "\n";
    if (rule.delay.count() > 0)
      text += "delay " + address + " " + std::to_string(rule.delay.count()) + "\n";
  }
  return WriteFileAtomically(dir_ + "/store" + std::to_string(i + 1) + ".links", text);
}

Status FaultCluster::ClearLinks() {
  for (int i = 0; i < stores(); ++i) RETURN_IF_ERROR(SetLinks(i, {}));
  return Status::OK();
}

client::ClientOptions FaultCluster::ClientOptions() const {
  client::ClientOptions o;
  o.pd = {pd_address_};
  o.channel.tls = client_tls_;
  // Short, so that an operation caught by a fault ends (as unknown) and the history goes on.
  o.timeout = std::chrono::milliseconds(1000);
  o.deadline = std::chrono::milliseconds(4000);
  o.max_attempts = 30;
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(250);
  return o;
}

client::ClientOptions FaultCluster::AdminOptions() const {
  client::ClientOptions o = ClientOptions();
  o.channel.tls = admin_tls_;
  return o;
}

Status FaultCluster::WaitServing(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  Status last = Status::TimedOut("not tried");
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = client::Client::Connect(ClientOptions());
    if (c.ok()) {
      auto r = (*c)->Get("fault-harness/probe");
      if (r.ok() && r->root.verified) return Status::OK();
      last = r.status();
    } else {
      last = c.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::string exits;
  for (const std::string& e : UnexpectedExits()) exits += "\n  " + e;
  return Status::TimedOut("the cluster did not serve within " + std::to_string(limit.count()) +
                          " s: " + last.ToString() + exits + "\n" + LogTails(12));
}

std::string FaultCluster::LogTails(int lines) const {
  auto tail = [lines](const std::string& name, const std::string& path) {
    std::ifstream in(path);
    std::deque<std::string> kept;
    for (std::string line; std::getline(in, line);) {
      kept.push_back(std::move(line));
      if (kept.size() > static_cast<std::size_t>(lines)) kept.pop_front();
    }
    std::string out = "--- " + name + " (" + path + ")\n";
    for (const std::string& l : kept) out += "  " + l + "\n";
    return out;
  };
  std::string out = tail("pd", pd_log());
  for (int i = 0; i < stores(); ++i) out += tail("store " + std::to_string(i + 1), store_log(i));
  return out;
}

}  // namespace rustorium::faults
