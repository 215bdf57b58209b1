#include "engine/options.h"

namespace rustorium::engine {

Result<SyncMode> ParseSyncMode(std::string_view text) {
  if (text == "none") return SyncMode::kNone;
  if (text == "async") return SyncMode::kAsync;
  if (text == "full") return SyncMode::kFull;
  return Status::InvalidArgument("sync mode must be none, async or full, not '" +
                                 std::string(text) + "'");
}

std::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone:
      return "none";
    case SyncMode::kAsync:
      return "async";
    case SyncMode::kFull:
      return "full";
  }
  return "unknown";
}

}  // namespace rustorium::engine
