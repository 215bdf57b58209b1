// G1 of BN254: the curve y² = x³ + 3 over Fq, of prime order r (cofactor 1), so every point
// on the curve is in the group.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "proof/curve/fq.h"
#include "proof/curve/point.h"

namespace rustorium::proof {

struct G1Curve {
  using Field = Fq;
  static constexpr Fq kB = Fq::FromUint64(3);
};

using G1Affine = AffinePoint<G1Curve>;
using G1 = JacobianPoint<G1Curve>;

// The generator (1, 2): EIP-197's, and snarkjs's (ffjavascript's bn128 G1.g).
G1Affine G1Generator();

// Byte forms. Every decoder checks the coordinates are below q and the point is on the
// curve, and answers InvalidArgument otherwise; each form has one encoding per point.
//
// Uncompressed (64 bytes): x then y, big-endian; infinity is all zeros. EIP-197's input
// form and ffjavascript's toRprUncompressed.
std::array<uint8_t, 64> EncodeG1Uncompressed(const G1Affine& p);
Result<G1Affine> DecodeG1Uncompressed(std::span<const uint8_t, 64> bytes);
// Compressed (32 bytes): x big-endian; 0x80 in the first byte when y is the larger of ±y
// (above (q-1)/2); infinity is 0x40 then zeros. ffjavascript's toRprCompressed.
std::array<uint8_t, 32> EncodeG1Compressed(const G1Affine& p);
Result<G1Affine> DecodeG1Compressed(std::span<const uint8_t, 32> bytes);
// snarkjs binary (64 bytes, .zkey and .ptau files): x then y, little-endian Montgomery form;
// infinity is all zeros.
std::array<uint8_t, 64> EncodeG1Snarkjs(const G1Affine& p);
Result<G1Affine> DecodeG1Snarkjs(std::span<const uint8_t, 64> bytes);

// snarkjs JSON (proof.json, verification_key.json): decimal strings ["x", "y", "1"];
// infinity is ["0", "1", "0"].
std::array<std::string, 3> G1ToSnarkjsJson(const G1Affine& p);
// Two (affine) or three (Jacobian x/z², y/z³, as ffjavascript reads them) coordinates, decimal
// or 0x-hex; z = 0 means infinity. InvalidArgument for a malformed number, a coordinate not
// below q, or a point off the curve.
Result<G1Affine> G1FromSnarkjsJson(std::span<const std::string> coordinates);

}  // namespace rustorium::proof
