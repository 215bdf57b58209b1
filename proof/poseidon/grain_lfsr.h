// The Grain LFSR of the Poseidon paper's parameter script (generate_parameters_grain), which
// derives Poseidon's round constants and MDS matrix from the instance's parameters.
#pragma once

#include <array>
#include <cstdint>

#include "proof/field/fr.h"

namespace rustorium::proof {

class GrainLfsr {
 public:
  // Seeds the 80-bit state with field (2 bits), sbox (4), field_bits (12), t (12), full
  // rounds (10), partial rounds (10), each MSB first, then thirty 1 bits; then discards 160
  // output bits.
  GrainLfsr(int field, int sbox, int field_bits, int t, int rounds_f, int rounds_p);

  // One output bit of the self-shrinking generator: bits come in pairs, and the second bit
  // of a pair is output when the first is 1 (pairs whose first bit is 0 are dropped).
  int NextBit();

  // `bits` (<= 256) output bits as an integer, the first bit most significant.
  Limbs NextBits(int bits);

  // A field element drawn with rejection: 254-bit draws until one is below r.
  Fr NextFieldElementRejecting();
  // A 254-bit draw reduced mod r (no rejection).
  Fr NextFieldElementReduced();

 private:
  int Step();  // one raw LFSR step: shifts and returns the new bit

  std::array<uint8_t, 80> state_{};
  int head_ = 0;  // index of the oldest bit (state position 0)
};

}  // namespace rustorium::proof
