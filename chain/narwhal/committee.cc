#include "chain/narwhal/committee.h"

#include <algorithm>

namespace rustorium::chain {

Result<Committee> Committee::Create(std::vector<Authority> authorities) {
  if (authorities.empty())
    return Status::InvalidArgument("a committee needs at least one authority");
  std::sort(authorities.begin(), authorities.end(),
            [](const Authority& a, const Authority& b) { return a.name < b.name; });
  Committee committee;
  for (size_t i = 0; i < authorities.size(); ++i) {
    const Authority& a = authorities[i];
    if (i > 0 && authorities[i - 1].name == a.name) {
      return Status::InvalidArgument("authority " + ShortHex(a.name) + " is listed twice");
    }
    if (a.stake == 0)
      return Status::InvalidArgument("authority " + ShortHex(a.name) + " has no stake");
    if (a.workers == 0)
      return Status::InvalidArgument("authority " + ShortHex(a.name) + " has no worker");
    if (committee.total_stake_ + a.stake < committee.total_stake_ ||
        committee.total_stake_ + a.stake > (uint64_t{1} << 62)) {
      return Status::InvalidArgument("total stake overflows");
    }
    committee.total_stake_ += a.stake;
  }
  committee.authorities_ = std::move(authorities);
  return committee;
}

std::optional<size_t> Committee::Index(const PublicKey& name) const {
  auto it = std::lower_bound(authorities_.begin(), authorities_.end(), name,
                             [](const Authority& a, const PublicKey& n) { return a.name < n; });
  if (it == authorities_.end() || it->name != name) return std::nullopt;
  return static_cast<size_t>(it - authorities_.begin());
}

const Authority* Committee::Find(const PublicKey& name) const {
  auto index = Index(name);
  return index ? &authorities_[*index] : nullptr;
}

uint64_t Committee::Stake(const PublicKey& name) const {
  const Authority* a = Find(name);
  return a ? a->stake : 0;
}

const PublicKey& Committee::Leader(uint64_t round) const {
  return authorities_[(round / 2) % authorities_.size()].name;
}

}  // namespace rustorium::chain
