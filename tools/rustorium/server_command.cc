#include "tools/rustorium/server_command.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "region/rpc/link_filter.h"
#include "region/store/store_node.h"
#include "tools/rustorium/cluster_config.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/stop_signals.h"

namespace rustorium::tools {

void RegisterServerCommand(CLI::App& app, int& exit_code) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("server", "Run a store until SIGINT or SIGTERM");
  cmd->add_option("--config", *config, "store.toml (docs/operations.md)")->required();
  cmd->callback([config, &exit_code] {
    store::StoreNodeOptions o;
    if (Status s = LoadStoreConfig(*config, o); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    std::string pd;
    for (const std::string& a : o.pd) pd += (pd.empty() ? "" : ", ") + a;
    spdlog::debug("store: config {}: address {}, data in {}, pd [{}], heartbeat {} ms, tls {}",
                  *config, o.address, o.data_dir, pd, o.heartbeat.count(),
                  o.server_tls != nullptr ? "on" : "off");
    // For the fault harness (tests/faults/) only: drop or delay what this store sends to
    // chosen addresses, by rules read from a file (region/rpc/link_filter.h).
    if (const char* faults = std::getenv("RUSTORIUM_LINK_FAULTS");
        faults != nullptr && *faults != '\0') {
      o.channel.filter = std::make_shared<rpc::LinkFilter>();
      o.channel.filter->Watch(faults);
      std::cout << "link faults from " << faults << " (testing only)" << std::endl;
    }
    BlockStopSignals();
    // SIGINT or SIGTERM while Start still waits for PD (gone, say, when a playground stops
    // everything at once) ends the wait at once instead of after register_timeout.
    std::atomic<bool> stop{false};
    std::atomic<bool> started{false};
    std::thread watcher([&stop, &started] {
      while (!started && !stop) stop = WaitForStopFor(std::chrono::milliseconds(50)) != 0;
    });
    o.stop_requested = &stop;
    auto node = store::StoreNode::Start(o);
    started = true;
    watcher.join();
    if (!node.ok()) {
      if (stop && node.status().code() == StatusCode::kAborted) {
        std::cout << "store stopped before it served: " << node.status().ToString() << std::endl;
        exit_code = kExitOk;
      } else {
        exit_code = Fail(node.status());
      }
      return;
    }
    std::cout << "store " << (*node)->store_id() << " serving on " << o.address << " (data in "
              << o.data_dir << ")" << std::endl;
    if (!stop) WaitForStop();
    node->reset();
    std::cout << "store stopped" << std::endl;
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
