#include "proof/field/fr.h"

#include <algorithm>

namespace rustorium::proof {

using namespace fr_detail;  // NOLINT(google-build-using-namespace): the kernels in fr.h

Fr Fr::One() { return FromMontgomery(kR1); }

Fr Fr::FromUint64(uint64_t v) { return FromMontgomery(MontMul(Limbs{v, 0, 0, 0}, kR2)); }

Result<Fr> Fr::FromCanonical(const Limbs& v) {
  if (GreaterOrEqual(v, kR)) {
    return Status::InvalidArgument("field element out of range (must be below the BN254 scalar "
                                   "field modulus r)");
  }
  return FromMontgomery(MontMul(v, kR2));
}

Fr Fr::FromLimbsReduced(const Limbs& v) {
  Limbs x = v;
  while (GreaterOrEqual(x, kR)) x = Sub(x, kR);  // at most 5 times: 2^256 / r < 6
  return FromMontgomery(MontMul(x, kR2));
}

Limbs Fr::ToCanonical() const { return MontMul(m_, Limbs{1, 0, 0, 0}); }


Fr Fr::Pow(const Limbs& exponent) const {
  Fr result = One();
  for (int i = 3; i >= 0; --i) {
    for (int bit = 63; bit >= 0; --bit) {
      result = result.Square();
      if ((exponent[i] >> bit) & 1) result = result * *this;
    }
  }
  return result;
}

Fr Fr::Inverse() const {
  // Fermat: a^(r-2). The inverse of zero comes out as zero.
  return Pow(Sub(kR, Limbs{2, 0, 0, 0}));
}

namespace {

// Parses `digits` in `base` (10 or 16) into a 256-bit integer; false on overflow or a bad
// character.
bool ParseDigits(std::string_view digits, int base, Limbs& out) {
  out = {0, 0, 0, 0};
  if (digits.empty()) return false;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    uint64_t carry = static_cast<uint64_t>(d);
    for (int i = 0; i < 4; ++i) {
      u128 p = static_cast<u128>(out[i]) * static_cast<uint64_t>(base) + carry;
      out[i] = static_cast<uint64_t>(p);
      carry = static_cast<uint64_t>(p >> 64);
    }
    if (carry != 0) return false;
  }
  return true;
}

Result<Fr> ParseIn(std::string_view text, int base) {
  Limbs v;
  if (!ParseDigits(text, base, v)) {
    return Status::InvalidArgument("not a field element: '" + std::string(text.substr(0, 80)) +
                                   (base == 10 ? "' (expected decimal digits)"
                                               : "' (expected hex digits)"));
  }
  return Fr::FromCanonical(v);
}

}  // namespace

Result<Fr> Fr::FromDecimal(std::string_view text) { return ParseIn(text, 10); }

Result<Fr> Fr::FromHex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  return ParseIn(text, 16);
}

Result<Fr> Fr::Parse(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return FromHex(text);
  }
  return FromDecimal(text);
}

Result<Fr> Fr::FromBytesLE(std::span<const uint8_t, 32> bytes) {
  Limbs v{};
  for (int i = 0; i < 32; ++i) v[i / 8] |= static_cast<uint64_t>(bytes[i]) << (8 * (i % 8));
  return FromCanonical(v);
}

Result<Fr> Fr::FromBytesBE(std::span<const uint8_t, 32> bytes) {
  std::array<uint8_t, 32> le;
  std::reverse_copy(bytes.begin(), bytes.end(), le.begin());
  return FromBytesLE(le);
}

std::array<uint8_t, 32> Fr::ToBytesLE() const {
  const Limbs v = ToCanonical();
  std::array<uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(v[i / 8] >> (8 * (i % 8)));
  return out;
}

std::array<uint8_t, 32> Fr::ToBytesBE() const {
  std::array<uint8_t, 32> out = ToBytesLE();
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Fr::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (uint8_t b : ToBytesBE()) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string Fr::ToDecimal() const {
  Limbs v = ToCanonical();
  std::string digits;
  // Divide by 10^19 repeatedly; each remainder gives 19 decimal digits.
  constexpr uint64_t kChunk = 10000000000000000000ULL;
  while ((v[0] | v[1] | v[2] | v[3]) != 0) {
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cur = (rem << 64) | v[i];
      v[i] = static_cast<uint64_t>(cur / kChunk);
      rem = cur % kChunk;
    }
    uint64_t chunk = static_cast<uint64_t>(rem);
    for (int d = 0; d < 19; ++d) {
      digits.push_back(static_cast<char>('0' + chunk % 10));
      chunk /= 10;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  return digits;
}

}  // namespace rustorium::proof
