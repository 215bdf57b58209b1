#include "base/fatal.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace rustorium {

void Fatal(std::string_view what) {
  spdlog::critical("fatal: {}; stopping (exit {}); a restart reloads the state from disk", what,
                   kFatalExitCode);
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  std::_Exit(kFatalExitCode);
}

}  // namespace rustorium
