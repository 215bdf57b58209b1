// The byte sponge: maps any byte string to one field element with Poseidon, so user keys and
// values can become index keys and values. Defined exactly in docs/proofs.md.
#pragma once

#include <string_view>

#include "proof/field/fr.h"

namespace rustorium::proof {

// The domain tag: the ASCII bytes "rustorium.bytes.v1" read as a big-endian integer.
Fr ByteHashDomain();

// HashBytes(b): with L = |b| and c_0..c_{n-1} the 31-byte pieces of b (the last may be
// shorter), each read as a little-endian integer,
//   h = Poseidon(D, L, c_0, ..., c_{k-1})            k = min(n, 14)
//   h = Poseidon(h, next up to 15 pieces)            while pieces remain
// and the result is the last h. Thread-safe.
Fr HashBytes(std::string_view bytes);

}  // namespace rustorium::proof
