// The `rustorium` binary: one executable for every role and operator command.
#include <spdlog/cfg/env.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/rustorium/bench_command.h"
#include "tools/rustorium/certs_command.h"
#include "tools/rustorium/chain_command.h"
#include "tools/rustorium/cluster_command.h"
#include "tools/rustorium/engine_command.h"
#include "tools/rustorium/proof_command.h"
#include "tools/rustorium/zk_command.h"

int main(int argc, char** argv) {
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug (or info, warn, ...) sets the log level
  CLI::App app{"Rustorium: a distributed key-value store with proof-carrying reads and writes"};
  app.require_subcommand(1);
  int exit_code = 0;
  rustorium::tools::RegisterEngineCommand(app, exit_code);
  rustorium::tools::RegisterProofCommands(app, exit_code);
  rustorium::tools::RegisterZkCommands(app, exit_code);
  rustorium::tools::RegisterCertsCommand(app, exit_code);
  rustorium::tools::RegisterClusterCommands(app, exit_code);
  rustorium::tools::RegisterBenchCommand(app, exit_code);
  rustorium::tools::RegisterChainCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Malformed arguments: the message, the usage of the command given, and exit code 2.
    CLI::App* command = &app;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    std::cerr << "error: " << e.what() << "\n\n" << command->help();
    return 2;
  }
  return exit_code;
}
