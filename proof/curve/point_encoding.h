// The byte and text forms of curve points, written once for G1 and G2. Internal to
// proof/curve (g1.cc, g2.cc); the public entry points are in g1.h and g2.h.
//
// Field elements: Fq takes 32 bytes; Fq2 takes 64, c1 first in the big-endian forms
// (EIP-197's and ffjavascript's order) and c0 first in the little-endian Montgomery form
// (ffjavascript's memory layout).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "proof/curve/fq_tower.h"
#include "proof/curve/point.h"

namespace rustorium::proof::curve_detail {

template <typename F>
inline constexpr std::size_t kFieldBytes = std::is_same_v<F, Fq> ? 32 : 64;

inline void PutBE(const Fq& a, uint8_t* out) {
  const auto b = a.ToBytesBE();
  std::copy(b.begin(), b.end(), out);
}
inline void PutBE(const Fq2& a, uint8_t* out) {
  PutBE(a.c1, out);
  PutBE(a.c0, out + 32);
}
inline void PutMontgomeryLE(const Fq& a, uint8_t* out) {
  const auto b = a.ToMontgomeryBytesLE();
  std::copy(b.begin(), b.end(), out);
}
inline void PutMontgomeryLE(const Fq2& a, uint8_t* out) {
  PutMontgomeryLE(a.c0, out);
  PutMontgomeryLE(a.c1, out + 32);
}

// Reads an element; false when a coordinate is not below q.
inline bool GetBE(const uint8_t* in, Fq& out) {
  auto f = Fq::FromBytesBE(std::span<const uint8_t, 32>(in, 32));
  if (!f.ok()) return false;
  out = *f;
  return true;
}
inline bool GetBE(const uint8_t* in, Fq2& out) {
  return GetBE(in, out.c1) && GetBE(in + 32, out.c0);
}
inline bool GetMontgomeryLE(const uint8_t* in, Fq& out) {
  auto f = Fq::FromMontgomeryBytesLE(std::span<const uint8_t, 32>(in, 32));
  if (!f.ok()) return false;
  out = *f;
  return true;
}
inline bool GetMontgomeryLE(const uint8_t* in, Fq2& out) {
  return GetMontgomeryLE(in, out.c0) && GetMontgomeryLE(in + 32, out.c1);
}

inline bool AllZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

inline Status Invalid(const char* group, const char* form, const char* why) {
  return Status::InvalidArgument(std::string(group) + " point (" + form + "): " + why);
}

// Top bits of the first byte of compressed forms (ffjavascript's LEMtoC / CtoLEM).
inline constexpr uint8_t kFlagInfinity = 0x40;
inline constexpr uint8_t kFlagLargestY = 0x80;

// x then y, big-endian; the point at infinity is all zeros.
template <typename C>
std::array<uint8_t, 2 * kFieldBytes<typename C::Field>> EncodeUncompressed(
    const AffinePoint<C>& p) {
  constexpr std::size_t n = kFieldBytes<typename C::Field>;
  std::array<uint8_t, 2 * n> out{};
  if (p.IsInfinity()) return out;
  PutBE(p.x(), out.data());
  PutBE(p.y(), out.data() + n);
  return out;
}

template <typename C>
Result<AffinePoint<C>> DecodeUncompressed(std::span<const uint8_t> in, const char* group) {
  constexpr std::size_t n = kFieldBytes<typename C::Field>;
  if (in.size() != 2 * n) return Invalid(group, "uncompressed", "wrong length");
  if (AllZero(in)) return AffinePoint<C>::Infinity();
  typename C::Field x, y;
  if (!GetBE(in.data(), x) || !GetBE(in.data() + n, y)) {
    return Invalid(group, "uncompressed", "coordinate not below q (or flag bits set)");
  }
  const AffinePoint<C> p(x, y);
  if (!p.IsOnCurve()) return Invalid(group, "uncompressed", "not on the curve");
  return p;
}

// x big-endian with two flags in the first byte: 0x80 when y is the lexicographically larger
// of ±y, 0x40 (and nothing else) for the point at infinity.
template <typename C>
std::array<uint8_t, kFieldBytes<typename C::Field>> EncodeCompressed(const AffinePoint<C>& p) {
  std::array<uint8_t, kFieldBytes<typename C::Field>> out{};
  if (p.IsInfinity()) {
    out[0] = kFlagInfinity;
    return out;
  }
  PutBE(p.x(), out.data());
  if (IsLexicographicallyLargest(p.y())) out[0] |= kFlagLargestY;
  return out;
}

template <typename C>
Result<AffinePoint<C>> DecodeCompressed(std::span<const uint8_t> in, const char* group) {
  constexpr std::size_t n = kFieldBytes<typename C::Field>;
  if (in.size() != n) return Invalid(group, "compressed", "wrong length");
  const uint8_t flags = in[0] & (kFlagInfinity | kFlagLargestY);
  if (flags & kFlagInfinity) {
    if (in[0] != kFlagInfinity || !AllZero(in.subspan(1))) {
      return Invalid(group, "compressed", "infinity flag with other bits set");
    }
    return AffinePoint<C>::Infinity();
  }
  std::array<uint8_t, n> x_bytes;
  std::copy(in.begin(), in.end(), x_bytes.begin());
  x_bytes[0] &= static_cast<uint8_t>(~flags);
  typename C::Field x;
  if (!GetBE(x_bytes.data(), x)) return Invalid(group, "compressed", "x not below q");
  auto y = Sqrt(x.Square() * x + C::kB);
  if (!y) return Invalid(group, "compressed", "no point with this x");
  if (IsLexicographicallyLargest(*y) != ((flags & kFlagLargestY) != 0)) *y = -*y;
  return AffinePoint<C>(x, *y);
}

// snarkjs's binary form: x then y, each little-endian in Montgomery form; the point at
// infinity is all zeros.
template <typename C>
std::array<uint8_t, 2 * kFieldBytes<typename C::Field>> EncodeSnarkjs(const AffinePoint<C>& p) {
  constexpr std::size_t n = kFieldBytes<typename C::Field>;
  std::array<uint8_t, 2 * n> out{};
  if (p.IsInfinity()) return out;
  PutMontgomeryLE(p.x(), out.data());
  PutMontgomeryLE(p.y(), out.data() + n);
  return out;
}

template <typename C>
Result<AffinePoint<C>> DecodeSnarkjs(std::span<const uint8_t> in, const char* group) {
  constexpr std::size_t n = kFieldBytes<typename C::Field>;
  if (in.size() != 2 * n) return Invalid(group, "snarkjs binary", "wrong length");
  if (AllZero(in)) return AffinePoint<C>::Infinity();
  typename C::Field x, y;
  if (!GetMontgomeryLE(in.data(), x) || !GetMontgomeryLE(in.data() + n, y)) {
    return Invalid(group, "snarkjs binary", "Montgomery coordinate not below q");
  }
  const AffinePoint<C> p(x, y);
  if (!p.IsOnCurve()) return Invalid(group, "snarkjs binary", "not on the curve");
  return p;
}

// The affine point with Jacobian coordinates (x, y, z), as snarkjs's JSON files give them
// (ffjavascript's fromObject: z = 0 is the point at infinity whatever x and y are).
template <typename C>
Result<AffinePoint<C>> FromJsonCoordinates(const typename C::Field& x, const typename C::Field& y,
                                           const typename C::Field& z, const char* group) {
  if (z.IsZero()) return AffinePoint<C>::Infinity();
  const AffinePoint<C> p = JacobianPoint<C>::FromCoordinates(x, y, z).ToAffine();
  if (!p.IsOnCurve()) return Invalid(group, "snarkjs JSON", "not on the curve");
  return p;
}

}  // namespace rustorium::proof::curve_detail
