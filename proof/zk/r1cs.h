// R1cs: a rank-1 constraint system in its final form, with wires in snarkjs's order: wire 0
// is the constant 1, wires 1..num_public the public inputs, then every private wire. A
// witness w satisfies it when (A·w) ∘ (B·w) = C·w row by row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::proof::zk {

// A sparse matrix in compressed-row form: row i's terms are [row_start[i], row_start[i+1]).
struct SparseMatrix {
  std::vector<uint64_t> row_start = {0};
  std::vector<uint32_t> wires;
  std::vector<Fr> coefficients;

  std::size_t rows() const { return row_start.size() - 1; }
  // Appends a row of (wire, coefficient) terms.
  void AppendRow(std::span<const uint32_t> row_wires, std::span<const Fr> row_coefficients);
  // Σ coefficient·w[wire] over row i; w must cover every wire the row names.
  Fr RowDot(std::size_t i, std::span<const Fr> w) const;
};

struct R1cs {
  uint32_t num_wires = 1;   // including wire 0
  uint32_t num_public = 0;  // public inputs, wire 0 not counted
  SparseMatrix a, b, c;     // one row per constraint

  std::size_t num_constraints() const { return a.rows(); }
  // OK when `witness` (num_wires values, witness[0] = 1) satisfies every constraint;
  // InvalidArgument naming the first row that fails, or a witness of the wrong length.
  Status CheckSatisfied(std::span<const Fr> witness) const;
};

}  // namespace rustorium::proof::zk
