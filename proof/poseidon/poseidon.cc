#include "proof/poseidon/poseidon.h"

#include <array>

namespace rustorium::proof {

namespace {

Fr Pow5(const Fr& x) {
  const Fr x2 = x.Square();
  return x2.Square() * x;
}

// x^5 by multiplications alone, for the reference permutation: it does not share the
// squaring kernel with the fast form.
Fr Pow5ByProducts(const Fr& x) {
  const Fr x2 = x * x;
  return x2 * x2 * x;
}

Status CheckCount(std::size_t n) {
  if (n < 1 || n > kPoseidonMaxInputs) {
    return Status::InvalidArgument("Poseidon takes 1 to 16 inputs, not " + std::to_string(n));
  }
  return Status::OK();
}

}  // namespace

Result<Fr> PoseidonReference(std::span<const Fr> inputs) {
  RETURN_IF_ERROR(CheckCount(inputs.size()));
  const int t = static_cast<int>(inputs.size()) + 1;
  const PoseidonParams& p = PoseidonParamsFor(t);
  std::array<Fr, kPoseidonMaxInputs + 1> state{};
  std::array<Fr, kPoseidonMaxInputs + 1> next{};
  for (int i = 1; i < t; ++i) state[i] = inputs[i - 1];
  const int half = p.rounds_full / 2;
  const int rounds = p.rounds_full + p.rounds_partial;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < t; ++i) state[i] += p.round_constants[r * t + i];
    if (r < half || r >= half + p.rounds_partial) {
      for (int i = 0; i < t; ++i) state[i] = Pow5ByProducts(state[i]);
    } else {
      state[0] = Pow5ByProducts(state[0]);
    }
    for (int i = 0; i < t; ++i) {
      Fr acc;
      for (int j = 0; j < t; ++j) acc += p.mds[i * t + j] * state[j];
      next[i] = acc;
    }
    state = next;
  }
  return state[0];
}

Result<Fr> Poseidon(std::span<const Fr> inputs) {
  RETURN_IF_ERROR(CheckCount(inputs.size()));
  const int t = static_cast<int>(inputs.size()) + 1;
  const PoseidonParams& p = PoseidonParamsFor(t);
  std::array<Fr, kPoseidonMaxInputs + 1> x{};
  std::array<Fr, kPoseidonMaxInputs + 1> y{};
  for (int i = 1; i < t; ++i) x[i] = inputs[i - 1];
  const int half = p.rounds_full / 2;
  const Fr* c = p.fast_full_constants.data();
  const Fr* m = p.mds.data();
  // x = B_k·x for the k-th sparse factor: its first row, plus x[0] times its column.
  auto sparse = [&](int k) {
    const Fr* row = p.sparse_rows.data() + k * t;
    const Fr* col = p.sparse_columns.data() + k * (t - 1);
    Fr acc = row[0] * x[0];
    for (int j = 1; j < t; ++j) acc += row[j] * x[j];
    for (int i = 1; i < t; ++i) x[i] += col[i - 1] * x[0];
    x[0] = acc;
  };
  auto dense = [&](const Fr* matrix) {
    for (int i = 0; i < t; ++i) {
      Fr acc = matrix[i * t] * x[0];
      for (int j = 1; j < t; ++j) acc += matrix[i * t + j] * x[j];
      y[i] = acc;
    }
    x = y;
  };
  for (int r = 0; r < half; ++r, c += t) {
    for (int i = 0; i < t; ++i) x[i] = Pow5(x[i] + c[i]);
    if (r + 1 < half) {
      dense(m);
    } else {
      sparse(0);  // the first sparse factor (see DeriveFastForm)
    }
  }
  for (int r = 0; r < p.rounds_partial; ++r) {
    x[0] = Pow5(x[0] + p.fast_partial_constants[r]);
    if (r + 1 < p.rounds_partial) {
      sparse(r + 1);
    } else {
      dense(p.last_partial_matrix.data());
    }
  }
  for (int r = 0; r < half; ++r, c += t) {
    for (int i = 0; i < t; ++i) x[i] = Pow5(x[i] + c[i]);
    if (r + 1 < half) {
      dense(m);
    } else {
      // Only state[0] is output: the last product needs the first row alone.
      Fr out = m[0] * x[0];
      for (int j = 1; j < t; ++j) out += m[j] * x[j];
      return out;
    }
  }
  return x[0];
}

Fr Poseidon2(const Fr& a, const Fr& b) {
  const std::array<Fr, 2> in = {a, b};
  return *Poseidon(in);
}

Fr Poseidon3(const Fr& a, const Fr& b, const Fr& c) {
  const std::array<Fr, 3> in = {a, b, c};
  return *Poseidon(in);
}

}  // namespace rustorium::proof
