// FaultCluster: a real cluster for the fault harness. PD and the stores run as child processes
// of the `rustorium` binary on loopback, with mutual TLS and short Raft timings (elections in
// about a second), so that faults can be injected from outside: SIGKILL, SIGSTOP / SIGCONT,
// whole-cluster restarts, and link rules (drop, delay) each store reads from a file
// (RUSTORIUM_LINK_FAULTS, region/rpc/link_filter.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "region/client.h"
#include "region/rpc/link_filter.h"

namespace rustorium::faults {

class FaultCluster {
 public:
  // Writes certificates and configurations into `dir` (reused when they are there already);
  // picks free loopback ports. `unsafe_reads_without_quorum`: the stores' test switch that
  // breaks linearizable reads (MultiRaftOptions).
  static Result<std::unique_ptr<FaultCluster>> Create(std::string binary, std::string dir,
                                                      int stores = 3,
                                                      bool unsafe_reads_without_quorum = false);
  // Kills whatever still runs.
  ~FaultCluster();

  int stores() const { return static_cast<int>(store_addresses_.size()); }
  const std::string& pd_address() const { return pd_address_; }
  const std::string& store_address(int i) const {
    return store_addresses_[static_cast<std::size_t>(i)];
  }
  std::string store_data_dir(int i) const;
  std::string store_log(int i) const;
  std::string pd_log() const;

  // Process control (store index 0..stores()-1). Start* are no-ops for running processes.
  void StartPd();
  void StartStore(int i);
  void StartAll();
  void KillPd();            // SIGKILL
  void KillStore(int i);    // SIGKILL
  void PauseStore(int i);   // SIGSTOP
  void ResumeStore(int i);  // SIGCONT
  bool StoreRunning(int i) const;
  bool StorePaused(int i) const;
  // SIGTERM to everything, waiting; false if a process did not exit with status 0.
  bool StopAll(std::string* problems);
  // Processes that exited without being told to (crashes), described; reaps them.
  std::vector<std::string> UnexpectedExits();

  // Link rules of store i (what it sends to each address), applied within ~50 ms.
  Status SetLinks(int i, const rpc::LinkRules& rules);
  Status ClearLinks();

  client::ClientOptions ClientOptions() const;
  // The same with the operator's certificate (admin.crt): for `shard split`.
  client::ClientOptions AdminOptions() const;
  // Waits for a verified read to succeed. On time-out the status also names the processes that
  // exited on their own and carries the last lines of every process's log, so that a failure in
  // CI says why without the temporary directory.
  Status WaitServing(std::chrono::seconds limit);
  // The last `lines` lines of PD's and each store's log, each under its name.
  std::string LogTails(int lines) const;

 private:
  struct Child {
    pid_t pid = -1;
    bool paused = false;
  };
  FaultCluster() = default;
  static void Signal(Child& c, int signal, bool wait);

  std::string binary_;
  std::string dir_;
  std::string pd_address_;
  std::vector<std::string> store_addresses_;
  Child pd_;
  std::vector<Child> store_procs_;
  std::shared_ptr<rpc::TlsContext> client_tls_;
  std::shared_ptr<rpc::TlsContext> admin_tls_;
};

}  // namespace rustorium::faults
