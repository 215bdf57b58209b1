#include "tools/rustorium/pd_command.h"

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "region/pd/pd_node.h"
#include "tools/rustorium/cluster_config.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/stop_signals.h"

namespace rustorium::tools {

void RegisterPdCommand(CLI::App& app, int& exit_code) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("pd", "Run a placement driver member until SIGINT or SIGTERM");
  cmd->add_option("--config", *config, "pd.toml (docs/operations.md)")->required();
  cmd->callback([config, &exit_code] {
    pd::PdNodeOptions o;
    if (Status s = LoadPdConfig(*config, o); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    spdlog::debug("pd: config {}: member {} of {}, address {}, data in {}, replicas {}, tls {}",
                  *config, o.member_id, o.members.empty() ? 1 : o.members.size(), o.address,
                  o.data_dir, o.service.replicas, o.server_tls != nullptr ? "on" : "off");
    BlockStopSignals();
    auto node = pd::PdNode::Start(o);
    if (!node.ok()) {
      exit_code = Fail(node.status());
      return;
    }
    std::cout << "pd serving on " << o.address << " (data in " << o.data_dir << ")" << std::endl;
    WaitForStop();
    node->reset();
    std::cout << "pd stopped" << std::endl;
    exit_code = kExitOk;
  });
}

}  // namespace rustorium::tools
