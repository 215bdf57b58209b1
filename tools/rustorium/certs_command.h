// `rustorium certs create --dir DIR --nodes N`: a cluster CA with node and client
// certificates (region/rpc/certs.h).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterCertsCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
