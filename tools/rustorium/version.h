// The version of this build (`rustorium --version`): the project's version and the commit it
// was built from (`git describe`, "-dirty" with uncommitted changes, "unknown" outside git).
#pragma once

namespace rustorium::tools {

extern const char kVersion[];
extern const char kCommit[];

}  // namespace rustorium::tools
