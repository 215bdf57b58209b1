// `rustorium certs create --dir DIR [--stores N] [--pd-members M]`: a cluster CA with store,
// PD, client and admin certificates, each with its identity; with --client NAME, --admin NAME,
// --store ID, --pd-member ID or --validator NAME=PUBKEYHEX (a chain validator's certificate) on
// a directory with a CA, just those (region/rpc/certs.h).
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterCertsCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
