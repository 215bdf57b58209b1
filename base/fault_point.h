// Fault points: named places where a test can make the next operation fail, in a real
// process, without a mock. The environment variable RUSTORIUM_FAULTS lists the faults as
// comma-separated `site@N` items: the N-th time (counting from 1) the process reaches `site`,
// FaultPoint(site) returns true and the caller fails as the real operation would. Every other
// call returns false; with nothing armed the cost is one relaxed load.
//
// For tests only (docs/reliability.md lists the sites); thread-safe.
#pragma once

#include <functional>
#include <string_view>

namespace rustorium {

// True when the fault armed for `site` fires on this call.
bool FaultPoint(std::string_view site);

// Arms `spec` (the format of RUSTORIUM_FAULTS; "" disarms) in place of what is armed, with
// every count restarted: for in-process tests.
void SetFaultsForTest(std::string_view spec);

// Test hooks: named places where an in-process test runs code of its own, to act inside a
// window too short to hit from outside (TestHook runs the hook set for `site`, if any, on the
// caller's thread). With none set the cost is one relaxed load.
void TestHook(std::string_view site);

// Sets the hook for `site` in place of any earlier one; an empty function clears it.
void SetTestHookForTest(std::string_view site, std::function<void()> hook);

}  // namespace rustorium
