// Fault points: named places where a test can make the next operation fail, in a real
// process, without a mock. The environment variable RUSTORIUM_FAULTS lists the faults as
// comma-separated `site@N` items: the N-th time (counting from 1) the process reaches `site`,
// FaultPoint(site) returns true and the caller fails as the real operation would. Every other
// call returns false; with the variable unset the cost is one relaxed load.
//
// For tests only (docs/reliability.md lists the sites); thread-safe.
#pragma once

#include <string_view>

namespace rustorium {

// True when the fault armed for `site` fires on this call.
bool FaultPoint(std::string_view site);

}  // namespace rustorium
