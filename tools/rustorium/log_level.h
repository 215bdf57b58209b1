// The log level of a `rustorium` process: `--log-level LEVEL` (before or after the
// subcommand), else $SPDLOG_LEVEL, else info. Logs go to stderr through spdlog; what a command
// prints for its user (results, "error: ..." lines) is plain text and not a log line.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace rustorium::tools {

// Adds --log-level to `app` and, once the command line is parsed and before any command runs,
// points spdlog's default logger at stderr and sets its level. An invalid level, in the flag or
// in $SPDLOG_LEVEL when no flag is given, is a parse error (exit 2). The flag's level is also
// put in $SPDLOG_LEVEL, so that the processes a command starts (playground, chain local) log
// at the same level.
void RegisterLogLevelFlag(CLI::App& app);

// Empty when `levels` is a log level (trace, debug, info, warn, error, critical, off) or a
// list spdlog reads ("info,name=debug", in the flag as in $SPDLOG_LEVEL); otherwise why not.
std::string CheckLogLevels(std::string_view levels);

}  // namespace rustorium::tools
