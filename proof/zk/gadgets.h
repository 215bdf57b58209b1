// Gadgets: the circuit pieces of the batch circuit, each writing its constraints and its
// witness values into a ConstraintSystem. Their shapes (and constraint counts) follow
// circomlib's templates of the same name where there is one: Num2Bits, AliasCheck (strict
// decomposition), Switcher, Poseidon.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "proof/zk/constraint_system.h"

namespace rustorium::proof::zk {

using LC = LinearCombination;

// x = y (one constraint: (x - y)·1 = 0).
void EnforceEqual(ConstraintSystem& cs, const LC& x, const LC& y);
// cond·x = 0: x must be zero whenever cond is one.
void EnforceZeroWhen(ConstraintSystem& cs, const LC& cond, const LC& x);
// x must be nonzero whenever the bit cond is one (an inverse witness: two constraints).
void EnforceNonzeroWhen(ConstraintSystem& cs, const LC& cond, const LC& x);
// A new variable constrained to 0 or 1.
LC AllocateBit(ConstraintSystem& cs, bool value);
// The n low bits of x, least significant first, with Σ 2^i·bit_i = x enforced: n + 1
// constraints. n <= 253, so the sum cannot wrap and x must be below 2^n.
std::vector<LC> ToBits(ConstraintSystem& cs, const LC& x, int n);
// All 254 bits of x with the sum enforced and the bits read as an integer below r (the
// strict form: the decomposition of x is unique).
std::vector<LC> ToBitsStrict(ConstraintSystem& cs, const LC& x);
// (l, r) when the bit sel is 0, (r, l) when it is 1: one constraint.
std::pair<LC, LC> Switch(ConstraintSystem& cs, const LC& sel, const LC& l, const LC& r);
// if_one when the bit sel is 1, else if_zero: one constraint.
LC Select(ConstraintSystem& cs, const LC& sel, const LC& if_one, const LC& if_zero);
// circomlib's Poseidon of 1..16 inputs: three constraints per S-box, none for S-boxes of
// constants (240 constraints for two variable inputs, 261 for three).
LC PoseidonHash(ConstraintSystem& cs, std::span<const LC> inputs);

}  // namespace rustorium::proof::zk
