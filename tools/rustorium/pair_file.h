// The `k v` pair files of `rustorium proof root` and `rustorium zk prove --input`: one pair
// of field elements (decimal or 0x-hex) per line; blank lines and lines starting with '#'
// are skipped.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "proof/smt/sparse_merkle_tree.h"

namespace rustorium::tools {

// The pairs of the file at `path`, in order. InvalidArgument naming the file and line for a
// malformed line or an unreadable file.
Result<std::vector<proof::SmtUpdate>> ReadPairs(const std::string& path);

}  // namespace rustorium::tools
