// Fr: the scalar field of BN254 (alt_bn128), the field of circom, snarkjs and iden3.
//
//   r = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
//
// Elements are kept in Montgomery form (a·2^256 mod r) on four 64-bit limbs, least
// significant first; the arithmetic is PrimeField's (proof/field/prime_field.h). No heap, no
// exceptions; all operations are constant-size and safe to call from any thread.
#pragma once

#include <string_view>

#include "proof/field/prime_field.h"

namespace rustorium::proof {

struct FrParams {
  static constexpr Limbs kModulus = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                     0xb85045b68181585dULL, 0x30644e72e131a029ULL};
  static constexpr std::string_view kName = "the BN254 scalar field modulus r";
};

using Fr = PrimeField<FrParams>;

// Instantiated once, in fr.cc.
extern template class PrimeField<FrParams>;

}  // namespace rustorium::proof
