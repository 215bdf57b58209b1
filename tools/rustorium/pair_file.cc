#include "tools/rustorium/pair_file.h"

#include <fstream>
#include <sstream>

namespace rustorium::tools {

Result<std::vector<proof::SmtUpdate>> ReadPairs(const std::string& path) {
  using proof::Fr;
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read input file " + path);
  std::vector<proof::SmtUpdate> pairs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::string k, v, extra;
    if (!(fields >> k) || k[0] == '#') continue;
    if (!(fields >> v) || (fields >> extra)) {
      return Status::InvalidArgument(path + " line " + std::to_string(n) +
                                     ": expected two field elements 'k v'");
    }
    Result<Fr> fk = Fr::Parse(k);
    Result<Fr> fv = Fr::Parse(v);
    if (!fk.ok()) return fk.status().WithContext(path + " line " + std::to_string(n));
    if (!fv.ok()) return fv.status().WithContext(path + " line " + std::to_string(n));
    pairs.push_back({*fk, *fv});
  }
  return pairs;
}

}  // namespace rustorium::tools
