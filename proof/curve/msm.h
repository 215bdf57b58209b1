// Multi-scalar multiplication Σ kᵢ·Pᵢ over G1 and G2, by Pippenger's bucket method: the
// heaviest part of a Groth16 prover.
//
// Scalars are cut into signed c-bit digits (so each window needs 2^(c-1) buckets, not 2^c);
// each window adds every point into the bucket of its digit and sums the buckets by running
// sums; the windows are combined by c doublings each. Windows whose digits use 2^10 buckets
// or more, over 2048 points or more, keep their buckets in affine coordinates and add into
// them in batches that share one field inversion. The digits can be computed once
// (MsmDigits) and shared by MSMs over the same scalars, such as a Groth16 proof's A, B₁ and
// B₂. c is chosen from the number of points unless given. Windows are shared out among
// threads. Not constant-time: the bucket a point goes to depends on its scalar.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "proof/curve/g1.h"
#include "proof/curve/g2.h"
#include "proof/field/fr.h"

namespace rustorium::proof {

struct MsmOptions {
  // Threads to use, the calling one included; 0 means std::thread::hardware_concurrency().
  // Small inputs (under 1024 points) always run on the calling thread.
  int threads = 0;
  // The window width c in bits, 1..15; 0 picks the width that minimises an operation count
  // for the input size (13 bits at 2^16 points, 15 from 2^18 on).
  int window_bits = 0;
  // Affine buckets with batched inversions where they pay (see above); false keeps every
  // window's buckets Jacobian, the method before them (benchmarks compare the two).
  bool affine_buckets = true;
};

// Σ scalars[i]·points[i]. Points at infinity and zero scalars are allowed (they add
// nothing), as are repeated points. InvalidArgument when the spans differ in size or an
// option is out of range. Safe to call from any thread; it blocks until done.
Result<G1> MultiScalarMul(std::span<const G1Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options = {});
Result<G2> MultiScalarMul(std::span<const G2Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options = {});

// Scalars cut into signed digits, for several MSMs over the same scalars. Plain values.
class MsmDigits {
 public:
  // The digits of `scalars` at options.window_bits (0: MsmWindowBits(size)), on
  // options.threads threads. InvalidArgument when an option is out of range.
  static Result<MsmDigits> Recode(std::span<const Fr> scalars, const MsmOptions& options = {});

  std::size_t size() const { return n_; }
  int window_bits() const { return c_; }
  // Window w's digits, one per scalar.
  const int16_t* window(int w) const { return digits_.data() + static_cast<std::size_t>(w) * n_; }

 private:
  std::size_t n_ = 0;
  int c_ = 1;
  std::vector<int16_t> digits_;
};

// Σ scalars[i]·points[i] with the scalars given as digits (options.window_bits is not read:
// the digits fix the width). InvalidArgument as above.
Result<G1> MultiScalarMul(std::span<const G1Affine> points, const MsmDigits& digits,
                          const MsmOptions& options = {});
Result<G2> MultiScalarMul(std::span<const G2Affine> points, const MsmDigits& digits,
                          const MsmOptions& options = {});

// The window width MultiScalarMul picks for `n` points.
int MsmWindowBits(std::size_t n);

}  // namespace rustorium::proof
