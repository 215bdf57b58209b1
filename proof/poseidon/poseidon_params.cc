#include <array>
#include <mutex>

#include "proof/poseidon/grain_lfsr.h"
#include "proof/poseidon/poseidon.h"

namespace rustorium::proof {

namespace {

// circomlib's partial rounds for t = 2..17.
constexpr std::array<int, 16> kPartialRounds = {56, 57, 56, 60, 60, 63, 64, 63,
                                                60, 66, 60, 65, 70, 60, 64, 68};

PoseidonParams Generate(int t) {
  PoseidonParams p;
  p.t = t;
  p.rounds_partial = kPartialRounds[t - 2];
  // field = 1 (prime field), sbox = 0 (x^alpha), 254-bit field.
  GrainLfsr lfsr(1, 0, 254, t, p.rounds_full, p.rounds_partial);
  const int n_constants = (p.rounds_full + p.rounds_partial) * t;
  p.round_constants.reserve(n_constants);
  for (int i = 0; i < n_constants; ++i) p.round_constants.push_back(lfsr.NextFieldElementRejecting());
  // Cauchy matrix M[i][j] = 1 / (x_i + y_j) from 2t further draws, reduced mod r. For the
  // circomlib widths the first draw is distinct and secure (checked against known answers).
  std::vector<Fr> xy;
  for (int i = 0; i < 2 * t; ++i) xy.push_back(lfsr.NextFieldElementReduced());
  p.mds.resize(static_cast<std::size_t>(t * t));
  for (int i = 0; i < t; ++i) {
    for (int j = 0; j < t; ++j) p.mds[i * t + j] = (xy[i] + xy[t + j]).Inverse();
  }
  return p;
}

}  // namespace

const PoseidonParams& PoseidonParamsFor(int t) {
  static std::array<std::once_flag, kPoseidonMaxInputs + 2> once;
  static std::array<PoseidonParams, kPoseidonMaxInputs + 2> params;
  std::call_once(once[t], [t] { params[t] = Generate(t); });
  return params[t];
}

}  // namespace rustorium::proof
