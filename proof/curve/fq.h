// Fq: the base field of BN254 (alt_bn128), over which G1 is defined and the pairing's tower
// Fq2, Fq6, Fq12 is built.
//
//   q = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
//     = 21888242871839275222246405745257275088696311157297823662689037894645226208583
//
// The same fixed-width Montgomery arithmetic as Fr (proof/field/prime_field.h), with
// Montgomery radix 2^256, which is also ffjavascript's (snarkjs's), so Montgomery-form bytes
// are interchangeable with snarkjs files.
#pragma once

#include <optional>
#include <string_view>

#include "proof/field/prime_field.h"

namespace rustorium::proof {

struct FqParams {
  static constexpr Limbs kModulus = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                     0xb85045b68181585dULL, 0x30644e72e131a029ULL};
  static constexpr std::string_view kName = "the BN254 base field modulus q";
};

using Fq = PrimeField<FqParams>;

// Instantiated once, in fq.cc.
extern template class PrimeField<FqParams>;

// q ≡ 3 (mod 4): square roots are one exponentiation, a^((q+1)/4).
static_assert(FqParams::kModulus[0] % 4 == 3);

// A square root of `a` (a^((q+1)/4), either of the two), or nullopt when `a` is not a square.
std::optional<Fq> Sqrt(const Fq& a);

// Whether `a` is a square in Fq (zero counts as a square).
bool IsSquare(const Fq& a);

// Whether the canonical value of `a` is above (q-1)/2. This is how compressed points name
// which of ±y they mean (ffjavascript's "sign": such values are "negative").
bool IsLexicographicallyLargest(const Fq& a);

}  // namespace rustorium::proof
