// The number-theoretic transform over Fr: evaluation of a polynomial at all n-th roots of
// unity (n a power of two up to 2^28, Fr's 2-adicity) and interpolation back, plain or on a
// coset. Used by provers to move between coefficient and evaluation form.
//
// The roots are snarkjs's (ffjavascript's Fr.w): ω_{2^28} = 5^((r-1)/2^28), 5 being the
// smallest quadratic non-residue mod r, and ω_{2^k} = ω_{2^28}^(2^(28-k)). The transforms
// agree with ffjavascript's Fr.fft and Fr.ifft element for element.
#pragma once

#include <span>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::proof {

inline constexpr int kFrTwoAdicity = 28;  // r - 1 = 2^28 · odd

// The primitive 2^log_n-th root of unity above, 0 <= log_n <= 28.
Fr RootOfUnity(int log_n);

struct NttOptions {
  // Threads to use, the calling one included; 0 means std::thread::hardware_concurrency().
  // Transforms of fewer than 4096 elements run on the calling thread.
  int threads = 0;
};

// In place, coefficients a_0..a_{n-1} to evaluations: values[i] becomes Σ_j a_j·ω^(i·j),
// ω = RootOfUnity(log2 n). InvalidArgument unless n is a power of two, 1 <= n <= 2^28.
Status Ntt(std::span<Fr> values, const NttOptions& options = {});
// The inverse: evaluations at ω^i back to coefficients.
Status InverseNtt(std::span<Fr> values, const NttOptions& options = {});

// Evaluations on the coset shift·⟨ω⟩: values[i] becomes Σ_j a_j·(shift·ω^i)^j. shift must
// be nonzero (InvalidArgument otherwise).
Status CosetNtt(std::span<Fr> values, const Fr& shift, const NttOptions& options = {});
// The inverse: evaluations on shift·⟨ω⟩ back to coefficients.
Status InverseCosetNtt(std::span<Fr> values, const Fr& shift, const NttOptions& options = {});

}  // namespace rustorium::proof
