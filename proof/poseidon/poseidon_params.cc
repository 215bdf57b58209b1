#include <array>
#include <mutex>

#include "proof/poseidon/grain_lfsr.h"
#include "proof/poseidon/poseidon.h"

namespace rustorium::proof {

namespace {

// circomlib's partial rounds for t = 2..17.
constexpr std::array<int, 16> kPartialRounds = {56, 57, 56, 60, 60, 63, 64, 63,
                                                60, 66, 60, 65, 70, 60, 64, 68};

// Solves a·x = b for an n×n matrix (row-major) over Fr by Gaussian elimination. The Cauchy
// matrices it is used on are invertible, as are their square submatrices.
std::vector<Fr> Solve(std::vector<Fr> a, std::vector<Fr> b, int n) {
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    while (a[pivot * n + col].IsZero()) ++pivot;
    if (pivot != col) {
      for (int j = 0; j < n; ++j) std::swap(a[col * n + j], a[pivot * n + j]);
      std::swap(b[col], b[pivot]);
    }
    const Fr inv = a[col * n + col].Inverse();
    for (int j = 0; j < n; ++j) a[col * n + j] *= inv;
    b[col] *= inv;
    for (int row = 0; row < n; ++row) {
      if (row == col || a[row * n + col].IsZero()) continue;
      const Fr f = a[row * n + col];
      for (int j = 0; j < n; ++j) a[row * n + j] -= f * a[col * n + j];
      b[row] -= f * b[col];
    }
  }
  return b;
}

// Derives the fast form.
//
// 1. Constants: in a partial round only state[0] meets the S-box, so the constants added to
//    state[1..] pass through it unchanged and, after the MDS product, can be added before the
//    next round instead: round r keeps c[0] and hands M·(0, c[1..]) to round r + 1. After the
//    last partial round the carry joins the next full round's constants.
// 2. Matrices: write the matrix C that follows a round as C = A·B with A = diag(1, Ĉ) (Ĉ the
//    lower-right block of C) and B = [[C row 0], [Ĉ^-1·(C column 0 below row 0) | I]]. A leaves
//    state[0] alone and acts on the rest linearly, so it commutes with the next partial
//    round (constant and S-box on state[0] only) and is carried into that round's matrix,
//    which becomes M·A. So the last first-half full round multiplies by B_0 (from C = M), each
//    partial round but the last by the next B, and the last partial round by M·A densely.
void DeriveFastForm(PoseidonParams& p) {
  const int t = p.t;
  const int half = p.rounds_full / 2;
  const int rp = p.rounds_partial;
  auto mds = [&](int i, int j) { return p.mds[i * t + j]; };

  p.fast_full_constants.assign(p.round_constants.begin(), p.round_constants.begin() + half * t);
  std::vector<Fr> carry(t);
  p.fast_partial_constants.resize(rp);
  for (int r = 0; r < rp; ++r) {
    std::vector<Fr> c(t);
    for (int i = 0; i < t; ++i) c[i] = p.round_constants[(half + r) * t + i] + carry[i];
    p.fast_partial_constants[r] = c[0];
    for (int i = 0; i < t; ++i) {
      Fr acc;
      for (int j = 1; j < t; ++j) acc += mds(i, j) * c[j];
      carry[i] = acc;
    }
  }
  for (int r = half + rp; r < p.rounds_full + rp; ++r) {
    for (int i = 0; i < t; ++i) {
      Fr c = p.round_constants[r * t + i];
      if (r == half + rp) c += carry[i];
      p.fast_full_constants.push_back(c);
    }
  }

  std::vector<Fr> current = p.mds;  // C, t×t
  p.sparse_rows.clear();
  p.sparse_columns.clear();
  for (int r = 0; r < rp; ++r) {
    // B from C: C's first row, and Ĉ^-1 · (C's first column below row 0).
    std::vector<Fr> hat((t - 1) * (t - 1)), col(t - 1);
    for (int i = 1; i < t; ++i) {
      col[i - 1] = current[i * t];
      for (int j = 1; j < t; ++j) hat[(i - 1) * (t - 1) + (j - 1)] = current[i * t + j];
    }
    for (int j = 0; j < t; ++j) p.sparse_rows.push_back(current[j]);
    for (const Fr& w : Solve(hat, col, t - 1)) p.sparse_columns.push_back(w);
    // Next C = M · diag(1, Ĉ).
    std::vector<Fr> next(t * t);
    for (int i = 0; i < t; ++i) {
      next[i * t] = mds(i, 0);
      for (int j = 1; j < t; ++j) {
        Fr acc;
        for (int k = 1; k < t; ++k) acc += mds(i, k) * hat[(k - 1) * (t - 1) + (j - 1)];
        next[i * t + j] = acc;
      }
    }
    current = std::move(next);
  }
  p.last_partial_matrix = std::move(current);
}

PoseidonParams Generate(int t) {
  PoseidonParams p;
  p.t = t;
  p.rounds_partial = kPartialRounds[t - 2];
  // field = 1 (prime field), sbox = 0 (x^alpha), 254-bit field.
  GrainLfsr lfsr(1, 0, 254, t, p.rounds_full, p.rounds_partial);
  const int n_constants = (p.rounds_full + p.rounds_partial) * t;
  p.round_constants.reserve(n_constants);
  for (int i = 0; i < n_constants; ++i)
    p.round_constants.push_back(lfsr.NextFieldElementRejecting());
  // Cauchy matrix M[i][j] = 1 / (x_i + y_j) from 2t further draws, reduced mod r. For the
  // circomlib widths the first draw is distinct and secure (checked against known answers).
  std::vector<Fr> xy;
  for (int i = 0; i < 2 * t; ++i) xy.push_back(lfsr.NextFieldElementReduced());
  p.mds.resize(static_cast<std::size_t>(t * t));
  for (int i = 0; i < t; ++i) {
    for (int j = 0; j < t; ++j) p.mds[i * t + j] = (xy[i] + xy[t + j]).Inverse();
  }
  DeriveFastForm(p);
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
