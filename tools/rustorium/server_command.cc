#include "tools/rustorium/server_command.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <memory>

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
    auto node = store::StoreNode::Start(o);
    if (!node.ok()) {
      exit_code = Fail(node.status());
      return;
    }
    std::cout << "store " << (*node)->store_id() << " serving on " << o.address << " (data in "
              << o.data_dir << ")" << std::endl;
    WaitForStop();
    node->reset();
    std::cout << "store stopped" << std::endl;
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
