// Inclusion and non-inclusion proofs of the iden3 sparse Merkle tree, in iden3's binary and
// JSON forms, and their verifier.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::proof {

// The most siblings a proof can carry: the binary form's 30-byte bitmap.
inline constexpr int kMaxProofDepth = 240;

// A leaf the path of a non-included key ends at (the key's place is taken by another leaf).
struct NodeAux {
  Fr key;
  Fr value;
  friend bool operator==(const NodeAux&, const NodeAux&) = default;
};

struct SmtProof {
  // True: the key is in the tree (with the value the verifier is given).
  bool existence = false;
  // Siblings from the root down (index i = the sibling at depth i + 1), zeros included, with
  // no trailing zeros.
  std::vector<Fr> siblings;
  // For a non-inclusion proof whose path ends at another leaf: that leaf.
  std::optional<NodeAux> node_aux;

  friend bool operator==(const SmtProof&, const SmtProof&) = default;

  // iden3's binary form: flags byte (bit 0: non-existence, bit 1: node_aux present), depth
  // byte, 30-byte bitmap of the non-zero siblings (bit i of the map = byte 29 - i/8, bit i%8),
  // the non-zero siblings as 32-byte little-endian elements, then node_aux's key and value.
  std::string EncodeBinary() const;
  // Inverse of EncodeBinary; any inconsistency (lengths, bitmap and depth, a zero sibling
  // marked non-zero, elements >= r, unknown flags) is Corruption.
  static Result<SmtProof> DecodeBinary(std::string_view bytes);

  // iden3's JSON form: {"existence": bool, "siblings": ["decimal", ...],
  // "node_aux": {"key": "decimal", "value": "decimal"}} (node_aux only when present).
  std::string ToJson() const;
  // Accepts "node_aux" or "nodeAux"; anything malformed is Corruption.
  static Result<SmtProof> FromJson(std::string_view json);
};

// The root a proof leads to for `key` and, when the proof claims existence, `value`.
// InvalidArgument when the proof is inconsistent with the key (node_aux names the same key)
// or has more than kMaxProofDepth siblings.
Result<Fr> RootFromProof(const SmtProof& proof, const Fr& key, const Fr& value);

// Checks `proof` against `root`: with a value, that `key` holds `value`; without, that `key`
// is absent. OK when it holds; FailedPrecondition with the reason otherwise.
Status VerifyProof(const Fr& root, const Fr& key, const std::optional<Fr>& value,
                   const SmtProof& proof);

// Bit i of a key's canonical value (key.ToCanonical(), computed once per walk): the direction
// (1 = right) at depth i.
inline bool PathBit(const Limbs& path, int i) { return (path[i / 64] >> (i % 64)) & 1; }

}  // namespace rustorium::proof
