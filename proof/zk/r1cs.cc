#include "proof/zk/r1cs.h"

#include <string>

namespace rustorium::proof::zk {

void SparseMatrix::AppendRow(std::span<const uint32_t> row_wires,
                             std::span<const Fr> row_coefficients) {
  wires.insert(wires.end(), row_wires.begin(), row_wires.end());
  coefficients.insert(coefficients.end(), row_coefficients.begin(), row_coefficients.end());
  row_start.push_back(wires.size());
}

Fr SparseMatrix::RowDot(std::size_t i, std::span<const Fr> w) const {
  Fr sum;
  for (uint64_t k = row_start[i]; k < row_start[i + 1]; ++k) sum += coefficients[k] * w[wires[k]];
  return sum;
}

Status R1cs::CheckSatisfied(std::span<const Fr> witness) const {
  if (witness.size() != num_wires) {
    return Status::InvalidArgument("witness has " + std::to_string(witness.size()) +
                                   " values, the circuit " + std::to_string(num_wires) + " wires");
  }
  if (witness[0] != Fr::One()) return Status::InvalidArgument("witness[0] is not 1");
  for (std::size_t i = 0; i < num_constraints(); ++i) {
    if (a.RowDot(i, witness) * b.RowDot(i, witness) != c.RowDot(i, witness)) {
      return Status::InvalidArgument("constraint " + std::to_string(i) + " is not satisfied");
    }
  }
  return Status::OK();
}

}  // namespace rustorium::proof::zk
