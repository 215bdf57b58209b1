// The optimal ate pairing of BN254, e: G1 × G2 → GT, GT the order-r subgroup of Fq12*.
//
// e(P, Q) = FinalExponentiation(MillerLoop(P, Q)): a Miller loop over 6x + 2 in NAF form
// followed by the two lines through π(Q) and -π²(Q) (π the Frobenius endomorphism of the
// twist), then f^((q^6 - 1)(q^2 + 1)) and the "hard part".
//
// Which pairing: the hard part is Fuentes-Castañeda, Knapp and Rodríguez-Henríquez's
// ("Faster hashing to G2", SAC 2011), the one snarkjs's ffjavascript (wasmcurves) uses, so
// values equal ffjavascript's bn128 pairing coefficient for coefficient. It raises to
// m·(q^12 - 1)/r with m = 2x(6x² + 3x + 1), so e is the textbook reduced ate pairing to the
// fixed power m (coprime to r): as bilinear and non-degenerate, and product checks such as
// Groth16's (∏ e(Pi, Qi) = 1) come out the same either way.
//
// Points must be in G1 and G2 (decoders check this); a point at infinity makes its pair
// contribute 1. All functions are pure and safe to call from any thread.
#pragma once

#include <span>
#include <utility>

#include "proof/curve/fq_tower.h"
#include "proof/curve/g1.h"
#include "proof/curve/g2.h"

namespace rustorium::proof {

// The BN parameter x of BN254 (alt_bn128): q = 36x⁴ + 36x³ + 24x² + 6x + 1 and
// r = 36x⁴ + 36x³ + 18x² + 6x + 1 (checked by the tests). Source: EIP-197's curve, the value
// of libff's alt_bn128 and ffjavascript's bn128 (wasmcurves `finalExpZ`).
inline constexpr uint64_t kBnX = 4965661367192848881ULL;

using PairingInput = std::pair<G1Affine, G2Affine>;

// e(p, q).
Fq12 Pairing(const G1Affine& p, const G2Affine& q);

// ∏ e(p_i, q_i), sharing the squarings of one Miller loop and one final exponentiation.
// The empty product is 1.
Fq12 MultiPairing(std::span<const PairingInput> pairs);

// Whether ∏ e(p_i, q_i) = 1: the form verifiers use (Groth16: one 4-pairing product).
bool PairingProductIsOne(std::span<const PairingInput> pairs);

// The building blocks, for callers that combine Miller loops themselves: the product of the
// Miller loops of `pairs` (before the final exponentiation), and the final exponentiation.
Fq12 MillerLoop(std::span<const PairingInput> pairs);
Fq12 FinalExponentiation(const Fq12& f);

}  // namespace rustorium::proof
