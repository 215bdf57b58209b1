// G2 of BN254: the order-r subgroup of the sextic twist E': y² = x³ + 3/ξ over Fq2
// (ξ = 9 + u, a "D-type" twist). E'(Fq2) has a large cofactor, so decoders check subgroup
// membership as well as the curve equation.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "proof/curve/fq_tower.h"
#include "proof/curve/point.h"

namespace rustorium::proof {

struct G2Curve {
  using Field = Fq2;
  static constexpr Fq2 kB = Fq2{Fq::FromUint64(3), Fq::Zero()} * Fq2::NonResidue().Inverse();
};

using G2Affine = AffinePoint<G2Curve>;
using G2 = JacobianPoint<G2Curve>;

// The generator of G2 given by EIP-197 (and snarkjs's ffjavascript bn128 G2.g).
const G2Affine& G2Generator();

// Whether `p` (on the curve) lies in the order-r subgroup: r·p = 0 (a scalar multiplication,
// under 1 ms).
bool IsInG2Subgroup(const G2Affine& p);
bool IsInG2Subgroup(const G2& p);

// Whether decoders check subgroup membership. Skip it only for points from a source that
// was already checked (a file this process wrote, a file whose hash was verified).
enum class SubgroupCheck { kCheck, kSkip };

// Byte forms, as for G1 (g1.h) with Fq2 coordinates: the big-endian forms put c1 before c0
// (EIP-197 and ffjavascript), the snarkjs binary form puts c0 before c1. Decoders answer
// InvalidArgument for a coordinate not below q, a point off the curve, or (unless skipped) a
// point outside the subgroup.
std::array<uint8_t, 128> EncodeG2Uncompressed(const G2Affine& p);
Result<G2Affine> DecodeG2Uncompressed(std::span<const uint8_t, 128> bytes,
                                      SubgroupCheck check = SubgroupCheck::kCheck);
std::array<uint8_t, 64> EncodeG2Compressed(const G2Affine& p);
Result<G2Affine> DecodeG2Compressed(std::span<const uint8_t, 64> bytes,
                                    SubgroupCheck check = SubgroupCheck::kCheck);
std::array<uint8_t, 128> EncodeG2Snarkjs(const G2Affine& p);
Result<G2Affine> DecodeG2Snarkjs(std::span<const uint8_t, 128> bytes,
                                 SubgroupCheck check = SubgroupCheck::kCheck);

// snarkjs JSON: [["x.c0", "x.c1"], ["y.c0", "y.c1"], ["1", "0"]]; infinity is
// [["0", "0"], ["1", "0"], ["0", "0"]].
using G2JsonCoordinates = std::array<std::array<std::string, 2>, 3>;
G2JsonCoordinates G2ToSnarkjsJson(const G2Affine& p);
// Two (affine) or three (Jacobian) coordinates, each a pair of decimal or 0x-hex strings;
// z = 0 means infinity.
Result<G2Affine> G2FromSnarkjsJson(std::span<const std::array<std::string, 2>> coordinates,
                                   SubgroupCheck check = SubgroupCheck::kCheck);

}  // namespace rustorium::proof
