// Multi-scalar multiplication Σ kᵢ·Pᵢ over G1 and G2, by Pippenger's bucket method: the
// heaviest part of a Groth16 prover.
//
// Scalars are cut into signed c-bit digits (so each window needs 2^(c-1) buckets, not 2^c);
// each window adds every point into the bucket of its digit and sums the buckets by running
// sums; the windows are combined by c doublings each. c is chosen from the number of points
// unless given. Windows are shared out among threads. Not constant-time: the bucket a point
// goes to depends on its scalar.
#pragma once

#include <span>

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
};

// Σ scalars[i]·points[i]. Points at infinity and zero scalars are allowed (they add
// nothing), as are repeated points. InvalidArgument when the spans differ in size or an
// option is out of range. Safe to call from any thread; it blocks until done.
Result<G1> MultiScalarMul(std::span<const G1Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options = {});
Result<G2> MultiScalarMul(std::span<const G2Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options = {});

// The window width MultiScalarMul picks for `n` points.
int MsmWindowBits(std::size_t n);

}  // namespace rustorium::proof
