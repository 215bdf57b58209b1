#include "tools/rustorium/exit_code.h"

#include <iostream>

namespace rustorium::tools {

int ExitCode(const Status& s) {
  if (s.ok()) return kExitOk;
  return s.IsInvalidArgument() ? kExitMalformed : kExitFailure;
}

int Fail(const Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return ExitCode(s);
}

int Malformed(const std::string& message) { return Fail(Status::InvalidArgument(message)); }

}  // namespace rustorium::tools
