// The `rustorium` binary: one executable for every role and operator command.
#include <CLI/CLI.hpp>
#include <iostream>

#include "base/quote.h"
#include "tools/rustorium/bench_command.h"
#include "tools/rustorium/certs_command.h"
#include "tools/rustorium/chain_command.h"
#include "tools/rustorium/engine_command.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/kv_command.h"
#include "tools/rustorium/log_level.h"
#include "tools/rustorium/pd_command.h"
#include "tools/rustorium/playground_command.h"
#include "tools/rustorium/proof_command.h"
#include "tools/rustorium/server_command.h"
#include "tools/rustorium/zk_command.h"

namespace {

// Lets the main command's options (--log-level) follow any subcommand as well as precede it.
void FallThroughEverywhere(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands(std::function<bool(CLI::App*)>())) {
    sub->fallthrough();
    FallThroughEverywhere(*sub);
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace tools = rustorium::tools;
  CLI::App app{"Rustorium: a distributed key-value store with proof-carrying reads and writes"};
  app.require_subcommand(1);
  int exit_code = tools::kExitOk;
  tools::RegisterLogLevelFlag(app);
  tools::RegisterEngineCommand(app, exit_code);
  tools::RegisterProofCommands(app, exit_code);
  tools::RegisterZkCommands(app, exit_code);
  tools::RegisterCertsCommand(app, exit_code);
  tools::RegisterPdCommand(app, exit_code);
  tools::RegisterServerCommand(app, exit_code);
  tools::RegisterKvCommands(app, exit_code);
  tools::RegisterStatusCommand(app, exit_code);
  tools::RegisterPlaygroundCommand(app, exit_code);
  tools::RegisterBenchCommand(app, exit_code);
  tools::RegisterChainCommands(app, exit_code);
  FallThroughEverywhere(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Malformed arguments: the message (long input in it cut short), the usage of the command
    // given, and exit code 2.
    CLI::App* command = &app;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    std::cerr << "error: " << rustorium::ShortenLongWords(e.what()) << "\n\n" << command->help();
    return tools::kExitMalformed;
  }
  return exit_code;
}
