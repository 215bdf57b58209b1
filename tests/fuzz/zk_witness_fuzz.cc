// Malicious batch witnesses (tests/proof/zk_harness.h): the input picks a small tree, two
// updates on it, and mutations of their witnesses (fields changed, input wires overridden
// with values from a pool of the batch's own keys, values and hashes). Whatever the mutant,
// it fails the constraints or replays on a native tree to the roots and commitment it
// claims.
#include <map>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_driver.h"
#include "tests/proof/zk_harness.h"

namespace zk = rustorium::proof::zk;
using rustorium::proof::Fr;

namespace {

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t Next() { return at_ < size_ ? data_[at_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

Fr F(uint64_t v) { return Fr::FromUint64(v); }

}  // namespace

std::vector<std::string> FuzzSeeds() {
  // levels, start count, start keys, two ops (key | 0x80 for delete), then mutations.
  return {
      std::string("\x02\x03\x01\x03\x06\x02\x0b", 7),               // two inserts, no mutation
      std::string("\x02\x03\x01\x03\x06\x03\x81\x00\x00\x03", 10),  // update, delete; op lie
      std::string("\x01\x02\x01\x11\x91\x05\x00\x02\x04\x01\x03\x02", 12),  // collapse delete
      std::string("\x00\x01\x05\x85\x09\x00\x20\x07\x01\x25\x00", 11),      // raw wire overrides
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const zk::BatchShape shape{3 + in.Next() % 3, 2};
  std::vector<std::pair<Fr, Fr>> start;
  zk::WitnessTree tree(shape.levels);
  for (int n = in.Next() % 5; n > 0; --n) {
    const uint64_t k = in.Next() % 32;
    if (tree.Get(F(k)).has_value() || !tree.Put(F(k), F(100 + k)).ok()) continue;
    start.push_back({F(k), F(100 + k)});
  }
  std::vector<zk::UpdateWitness> updates;
  for (int j = 0; j < 2; ++j) {
    const uint8_t b = in.Next();
    const uint64_t k = b % 32;
    auto w = (b & 0x80) ? tree.Delete(F(k)) : tree.Put(F(k), F(200 + k + j));
    if (w.ok()) updates.push_back(*w);
  }
  // The pool of values a mutation draws from.
  std::vector<Fr> pool = {Fr::Zero(), Fr::One(), F(2), -Fr::One(), tree.root()};
  for (const auto& [k, v] : start) {
    pool.push_back(k);
    pool.push_back(v);
  }
  for (const zk::UpdateWitness& u : updates) {
    for (const Fr& x : {u.key, u.old_value, u.new_value, u.aux_key, u.aux_value, u.open_left,
                        u.open_right, u.old_root}) {
      pool.push_back(x);
    }
    for (const Fr& s : u.siblings) pool.push_back(s);
  }
  const std::vector<zk::SlotWires> slots = zk::testing::WiresOf(shape);
  std::map<zk::Variable, Fr> overrides;
  for (int m = 0; m < 6 && !in.empty(); ++m) {
    const uint8_t target = in.Next(), field = in.Next(), pick = in.Next();
    const Fr& value = pool[pick % pool.size()];
    const std::size_t j = target % 2;
    if (field >= 0x20) {
      const std::vector<zk::Variable> wires = zk::testing::InputWires(slots[j]);
      overrides[wires[field % wires.size()]] = value;
      continue;
    }
    if (j >= updates.size()) continue;
    zk::UpdateWitness& u = updates[j];
    switch (field % 12) {
      case 0:
        u.op = static_cast<zk::UpdateOp>(pick % 4);
        break;
      case 1:
        u.collapse = pick % 2;
        break;
      case 2:
        u.leaf_depth = pick % shape.levels;
        break;
      case 3:
        u.other_depth = pick % shape.levels;
        break;
      case 4:
        u.key = value;
        break;
      case 5:
        u.old_value = value;
        break;
      case 6:
        u.new_value = value;
        break;
      case 7:
        u.aux_key = value;
        break;
      case 8:
        u.aux_value = value;
        break;
      case 9:
        u.open_left = value;
        break;
      case 10:
        u.open_right = value;
        break;
      default:
        u.siblings[target % u.siblings.size()] = value;
        break;
    }
  }
  const zk::testing::MutantOutcome m = zk::testing::CheckMutant(shape, start, updates, overrides);
  if (!m.violation.empty()) std::fprintf(stderr, "violation: %s\n", m.violation.c_str());
  FUZZ_CHECK(m.violation.empty());
  return 0;
}
