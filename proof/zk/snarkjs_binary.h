// snarkjs's binary files: .r1cs (circom's constraint system), .wtns (a witness) and Groth16
// .zkey (a proving key). All share iden3's container: the 4-byte magic ("r1cs", "wtns",
// "zkey"), u32 version, u32 section count, then sections {u32 type, u64 length, payload},
// little-endian throughout. Layouts: snarkjs 0.7 (r1csfile, wtns_utils, zkey_new,
// zkey_utils); docs/proofs.md restates them.
//
// Every decoder takes untrusted bytes: a wrong magic, version, curve, length, an element not
// below its modulus, a point off its curve, or sizes that disagree are Corruption, never a
// crash (each has a fuzz target in tests/fuzz/).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"
#include "proof/zk/groth16.h"
#include "proof/zk/r1cs.h"

namespace rustorium::proof::zk {

// .r1cs version 1: header (n8 = 32, r, wires, public outputs = 0, public inputs, private
// inputs = 0, labels = wires, constraints), constraints as three linear combinations
// {u32 terms, then (u32 wire, 32-byte LE value)}, and the identity wire-to-label map.
std::string EncodeR1cs(const R1cs& r1cs);
// Reads public outputs and inputs together as num_public.
Result<R1cs> DecodeR1cs(std::string_view bytes);

// .wtns version 2: header (n8 = 32, r, count) and the values, 32 bytes LE each.
std::string EncodeWtns(std::span<const Fr> witness);
Result<std::vector<Fr>> DecodeWtns(std::string_view bytes);

// Groth16 .zkey version 1: sections 1 (protocol 1), 2 (q, r, wires, public, domain size,
// α₁ β₁ β₂ γ₂ δ₁ δ₂), 3 IC, 4 coefficients (u32 count; per entry u32 matrix, row, wire and
// the value as c·R² mod r, R = 2^256, 32 bytes LE), 5 A, 6 B₁, 7 B₂, 8 C, 9 H (points in
// snarkjs's LE Montgomery form), 10 contributions (a 64-byte circuit hash, here zeros, and
// no contributions).
std::string EncodeZkey(const ProvingKey& key);
// G2 points of the verifying key are checked to lie in the subgroup; the B₂ points are
// checked to be on the curve only (a bad one spoils only the holder's own proofs, and the
// subgroup check would cost a millisecond per wire).
Result<ProvingKey> DecodeZkey(std::string_view bytes);

// Whole files. IOError when the file cannot be read or written.
Result<std::string> ReadWholeFile(const std::string& path);
Status WriteWholeFile(const std::string& path, std::string_view bytes);

}  // namespace rustorium::proof::zk
