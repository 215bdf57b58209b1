// Poseidon over the BN254 scalar field with circomlib's parameters: S-box x^5, 8 full rounds,
// the partial-round counts of circomlib for widths t = 2..17 (1..16 inputs), constants from
// the Poseidon paper's Grain LFSR procedure. Poseidon(inputs) equals circomlib's and
// circomlibjs's poseidon(inputs).
#pragma once

#include <span>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::proof {

inline constexpr int kPoseidonMaxInputs = 16;

// The parameters of one width, generated once per process on first use.
struct PoseidonParams {
  int t = 0;            // state width = inputs + 1
  int rounds_full = 8;  // half before and half after the partial rounds
  int rounds_partial = 0;
  std::vector<Fr> round_constants;  // (rounds_full + rounds_partial) * t, round by round
  std::vector<Fr> mds;              // t * t, row-major: state'[i] = sum_j mds[i*t + j] * state[j]

  // The same permutation rearranged for speed (see poseidon_params.cc): the constants of
  // each partial round folded into one scalar on state[0], and the MDS products around the
  // partial rounds factored so that each partial round multiplies by a sparse matrix
  // (first row, plus state[0] times a column added to the rest).
  std::vector<Fr> fast_full_constants;     // rounds_full * t
  std::vector<Fr> fast_partial_constants;  // rounds_partial scalars
  std::vector<Fr> sparse_rows;             // rounds_partial * t: first rows
  std::vector<Fr> sparse_columns;          // rounds_partial * (t - 1): added columns
  std::vector<Fr> last_partial_matrix;     // t * t, dense, after the last partial round
};

// The parameters for width t (2..17). Thread-safe.
const PoseidonParams& PoseidonParamsFor(int t);

// Poseidon of 1..16 field elements; InvalidArgument for other counts. Thread-safe.
Result<Fr> Poseidon(std::span<const Fr> inputs);

// The textbook permutation (every round multiplies by the full MDS matrix): slow, kept to
// check the fast form in tests. Same contract as Poseidon().
Result<Fr> PoseidonReference(std::span<const Fr> inputs);

// Poseidon of two elements: the iden3 tree's middle-node hash.
Fr Poseidon2(const Fr& a, const Fr& b);
// Poseidon of three elements: the iden3 tree's leaf hash P(k, v, 1).
Fr Poseidon3(const Fr& a, const Fr& b, const Fr& c);

}  // namespace rustorium::proof
