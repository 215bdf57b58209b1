// The `rustorium` binary: one executable for every role and operator command.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
#include "tools/rustorium/topology_command.h"
#include "tools/rustorium/version.h"
#include "tools/rustorium/zk_command.h"

namespace {

// Lets the main command's options (--log-level) follow any subcommand as well as precede it.
void FallThroughEverywhere(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands(std::function<bool(CLI::App*)>())) {
    sub->fallthrough();
    FallThroughEverywhere(*sub);
  }
}

// The command path argv names and, when one of its words is not a command, that word: for
// `rustorium kv frob` (kv, "frob"). Options are skipped (--log-level with its value).
std::pair<CLI::App*, std::string> UnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--log-level") {
      ++i;
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    if (at->get_subcommands(std::function<bool(CLI::App*)>()).empty()) break;
    CLI::App* next = nullptr;
    try {
      next = at->get_subcommand(word);
    } catch (const CLI::OptionNotFound&) {
      return {at, word};
    }
    at = next;
  }
  return {at, ""};
}

// "error: unknown command 'frob'; the commands of kv are:" and a line per command under `at`
// ("  put           Set KEY to VALUE …"); `at` is the top command `app` or one under it.
std::string UnknownCommandMessage(const CLI::App& app, CLI::App* at, const std::string& word) {
  std::string out = "error: unknown command " + rustorium::QuoteInput(word) + "; the commands" +
                    (at == &app ? "" : " of " + at->get_name()) + " are:\n";
  for (CLI::App* sub : at->get_subcommands(std::function<bool(CLI::App*)>())) {
    std::string name = sub->get_name();
    name.resize(std::max<std::size_t>(name.size() + 2, 14), ' ');
    out += "  " + name + sub->get_description() + "\n";
  }
  return out;
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
  tools::RegisterShardCommands(app, exit_code);
  tools::RegisterNodeCommands(app, exit_code);
  tools::RegisterPlaygroundCommand(app, exit_code);
  tools::RegisterBenchCommand(app, exit_code);
  tools::RegisterChainCommands(app, exit_code);
  app.set_version_flag(
      "--version", std::string("rustorium ") + tools::kVersion + " (commit " + tools::kCommit + ")",
      "Print the version and the commit it was built from");
  // `rustorium help [COMMAND...]`: the usage of the command named, or of rustorium.
  auto help_path = std::make_shared<std::vector<std::string>>();
  CLI::App* help = app.add_subcommand("help", "Show the usage of rustorium or of COMMAND");
  help->add_option("COMMAND", *help_path, "A command, e.g. `kv put`");
  help->callback([&app, help_path, &exit_code] {
    CLI::App* at = &app;
    for (const std::string& word : *help_path) {
      try {
        at = at->get_subcommand(word);
      } catch (const CLI::OptionNotFound&) {
        std::cerr << UnknownCommandMessage(app, at, word);
        exit_code = tools::kExitMalformed;
        return;
      }
    }
    // The formatter directly: App::help() shows the help of the command parsed last (help).
    std::cout << at->get_formatter()->make_help(at, "", CLI::AppFormatMode::Normal);
  });
  FallThroughEverywhere(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A word that is no command: say so and list the commands there.
    if (auto [at, word] = UnknownCommand(app, argc, argv); !word.empty()) {
      std::cerr << UnknownCommandMessage(app, at, word)
                << "(`rustorium help COMMAND` shows a command's usage)\n";
      return tools::kExitMalformed;
    }
    // Malformed arguments: the message (long input in it cut short), a hint when an argument
    // that starts with '-' was taken for an option, the usage of the command given, and exit
    // code 2.
    std::string hint;
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word.size() > 1 && word[0] == '-' &&
            std::string_view(e.what()).find(word) != std::string_view::npos) {
          hint =
              "hint: an argument that starts with '-' goes after `--`, as in `rustorium kv "
              "put -- KEY -VALUE`\n";
        }
      }
    }
    CLI::App* command = &app;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    std::cerr << "error: " << rustorium::ShortenLongWords(e.what()) << "\n"
              << hint << "\n"
              << command->help();
    return tools::kExitMalformed;
  }
  return exit_code;
}
