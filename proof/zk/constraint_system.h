// ConstraintSystem: builds an R1CS and its witness in one pass. Gadgets allocate variables
// with their values and add constraints; the same gadget code run with placeholder inputs
// gives the circuit for a setup, and run with real inputs gives the witness. The structure
// (which variables, which constraints) must never depend on the values: gadgets branch only
// on the shape of their linear combinations.
//
// Variables are numbered in allocation order (0 is the constant 1); ToR1cs() renumbers them
// into snarkjs's wire order, public ones first. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "proof/field/fr.h"
#include "proof/zk/linear_combination.h"
#include "proof/zk/r1cs.h"

namespace rustorium::proof::zk {

class ConstraintSystem {
 public:
  ConstraintSystem();

  // A new public input (wire order: public inputs in allocation order) with `value`.
  Variable AllocatePublic(const Fr& value);
  // A new private variable with `value`.
  Variable Allocate(const Fr& value);
  // a·b = c.
  void Enforce(const LinearCombination& a, const LinearCombination& b, const LinearCombination& c);
  // a·b as a combination: a new variable and one constraint, or no constraint at all when
  // either side is a constant (circom's simplification does the same).
  LinearCombination Multiply(const LinearCombination& a, const LinearCombination& b);

  // Test hook of the malicious-witness harness (tests/proof/zk_harness.h): the variable
  // allocated as number `v` gets `value` instead of the one its gadget passes, and whatever
  // the gadgets compute from it afterwards follows honestly. Call before synthesis; without
  // calls, synthesis is unchanged.
  void OverrideForTesting(Variable v, const Fr& value) { overrides_[v] = value; }
  // Test hook of the harness's self-test: constraint row `row` is left out of CheckSatisfied, as
  // if the circuit lacked it (a weakened circuit, which the harness must catch). ToR1cs keeps it.
  void SkipConstraintForTesting(std::size_t row) { skipped_.insert(row); }

  // The value of a combination or a variable under the current assignment.
  Fr Evaluate(const LinearCombination& lc) const;
  const Fr& value(Variable v) const { return values_[v]; }

  std::size_t num_variables() const { return values_.size(); }
  std::size_t num_public() const { return public_.size(); }
  std::size_t num_constraints() const { return a_.rows(); }

  // OK when the current assignment satisfies every constraint (the check of R1cs, without
  // the renumbering; rows skipped for testing left out); InvalidArgument naming the first row
  // that fails.
  Status CheckSatisfied() const;

  // The constraint system in wire order, and the assignment in the same order.
  R1cs ToR1cs() const;
  std::vector<Fr> Witness() const;
  // The public inputs' values, in wire order (wires 1..num_public).
  std::vector<Fr> PublicInputs() const;

 private:
  std::vector<uint32_t> WireOfVariable() const;
  void AppendRow(SparseMatrix& m, const LinearCombination& lc);

  std::vector<Fr> values_;
  std::vector<bool> is_public_;
  std::vector<Variable> public_;
  std::map<Variable, Fr> overrides_;
  std::set<std::size_t> skipped_;
  SparseMatrix a_, b_, c_;  // in variable numbering
};

}  // namespace rustorium::proof::zk
