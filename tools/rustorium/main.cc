// The `rustorium` binary: one executable for every role and operator command.
#include <CLI/CLI.hpp>

#include "tools/rustorium/engine_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Rustorium: a distributed key-value store with proof-carrying reads and writes"};
  app.require_subcommand(1);
  int exit_code = 0;
  rustorium::tools::RegisterEngineCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
