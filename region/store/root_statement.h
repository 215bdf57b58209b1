// What a store vouches for, and how anyone checks it. The store signs (region id, epoch,
// applied index, root) with its ed25519 key; a client that knows the store's public key (from
// PD) checks the signature, then each key's proof against the root, without trusting the
// connection. This header is the one piece of region/store/ that the region client shares: it
// depends on proof/ and libsodium only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "proof/field/fr.h"

namespace rustorium::store {

// The tree key and value of a user key and value in a region's authenticated index: the byte
// sponge of each (proof/poseidon/byte_hash.h).
proof::Fr TreeKey(std::string_view key);
proof::Fr TreeValue(std::string_view value);

// A root on the wire and in apply results: 32 bytes, big-endian.
std::string RootToBytes(const proof::Fr& root);
// Corruption unless `bytes` is 32 bytes holding a field element.
Result<proof::Fr> RootFromBytes(std::string_view bytes);

// The bytes signed: "rustorium.root.v1", region id, conf_ver, version, applied index (each
// 8 bytes big-endian) and the root (32 bytes big-endian).
std::string RootStatement(uint64_t region_id, uint64_t conf_ver, uint64_t version,
                          uint64_t applied_index, const proof::Fr& root);

// True when `signature` is `public_key`'s ed25519 signature of `message`. Thread-safe.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// libsodium is initialised (once per process); false when it cannot be.
bool SodiumReady();

}  // namespace rustorium::store
