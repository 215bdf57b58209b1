#include "proof/zk/constraint_system.h"

#include <string>

namespace rustorium::proof::zk {

ConstraintSystem::ConstraintSystem() {
  values_.push_back(Fr::One());
  is_public_.push_back(false);
}

Variable ConstraintSystem::AllocatePublic(const Fr& value) {
  const Variable v = Allocate(value);
  is_public_[v] = true;
  public_.push_back(v);
  return v;
}

Variable ConstraintSystem::Allocate(const Fr& value) {
  const auto it = overrides_.empty() ? overrides_.end() : overrides_.find(values_.size());
  values_.push_back(it == overrides_.end() ? value : it->second);
  is_public_.push_back(false);
  return static_cast<Variable>(values_.size() - 1);
}

void ConstraintSystem::AppendRow(SparseMatrix& m, const LinearCombination& lc) {
  for (const Term& t : lc.terms()) {
    m.wires.push_back(t.variable);
    m.coefficients.push_back(t.coefficient);
  }
  m.row_start.push_back(m.wires.size());
}

void ConstraintSystem::Enforce(const LinearCombination& a, const LinearCombination& b,
                               const LinearCombination& c) {
  AppendRow(a_, a);
  AppendRow(b_, b);
  AppendRow(c_, c);
}

LinearCombination ConstraintSystem::Multiply(const LinearCombination& a,
                                             const LinearCombination& b) {
  if (a.IsConstant()) return b * a.ConstantTerm();
  if (b.IsConstant()) return a * b.ConstantTerm();
  const Variable v = Allocate(Evaluate(a) * Evaluate(b));
  const LinearCombination out = LinearCombination::Of(v);
  Enforce(a, b, out);
  return out;
}

Fr ConstraintSystem::Evaluate(const LinearCombination& lc) const {
  Fr sum;
  for (const Term& t : lc.terms()) sum += t.coefficient * values_[t.variable];
  return sum;
}

Status ConstraintSystem::CheckSatisfied() const {
  for (std::size_t r = 0; r < a_.rows(); ++r) {
    if (skipped_.count(r) != 0) continue;
    if (a_.RowDot(r, values_) * b_.RowDot(r, values_) != c_.RowDot(r, values_)) {
      return Status::InvalidArgument("constraint " + std::to_string(r) + " is not satisfied");
    }
  }
  return Status::OK();
}

std::vector<uint32_t> ConstraintSystem::WireOfVariable() const {
  std::vector<uint32_t> wire(values_.size());
  uint32_t next_public = 1;
  uint32_t next_private = static_cast<uint32_t>(public_.size()) + 1;
  wire[0] = 0;
  for (std::size_t v = 1; v < values_.size(); ++v) {
    wire[v] = is_public_[v] ? next_public++ : next_private++;
  }
  return wire;
}

R1cs ConstraintSystem::ToR1cs() const {
  const std::vector<uint32_t> wire = WireOfVariable();
  R1cs out;
  out.num_wires = static_cast<uint32_t>(values_.size());
  out.num_public = static_cast<uint32_t>(public_.size());
  auto remap = [&wire](const SparseMatrix& in, SparseMatrix& m) {
    m = in;
    for (uint32_t& w : m.wires) w = wire[w];
    // Keep each row sorted by wire, as the combinations were sorted by variable.
    for (std::size_t r = 0; r < m.rows(); ++r) {
      const uint64_t begin = m.row_start[r], end = m.row_start[r + 1];
      for (uint64_t i = begin + 1; i < end; ++i) {
        for (uint64_t j = i; j > begin && m.wires[j - 1] > m.wires[j]; --j) {
          std::swap(m.wires[j - 1], m.wires[j]);
          std::swap(m.coefficients[j - 1], m.coefficients[j]);
        }
      }
    }
  };
  remap(a_, out.a);
  remap(b_, out.b);
  remap(c_, out.c);
  return out;
}

std::vector<Fr> ConstraintSystem::Witness() const {
  const std::vector<uint32_t> wire = WireOfVariable();
  std::vector<Fr> out(values_.size());
  for (std::size_t v = 0; v < values_.size(); ++v) out[wire[v]] = values_[v];
  return out;
}

std::vector<Fr> ConstraintSystem::PublicInputs() const {
  std::vector<Fr> out;
  for (Variable v : public_) out.push_back(values_[v]);
  return out;
}

}  // namespace rustorium::proof::zk
