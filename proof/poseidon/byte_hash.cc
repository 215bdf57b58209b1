#include "proof/poseidon/byte_hash.h"

#include <array>
#include <string>

#include "proof/poseidon/poseidon.h"

namespace rustorium::proof {

namespace {

constexpr std::string_view kDomain = "rustorium.bytes.v1";
constexpr std::size_t kPieceBytes = 31;  // 248 bits: always below r
constexpr std::size_t kFirstGroup = kPoseidonMaxInputs - 2;
constexpr std::size_t kNextGroup = kPoseidonMaxInputs - 1;

Fr Piece(std::string_view bytes) {
  Limbs v{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    v[i / 8] |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * (i % 8));
  }
  return *Fr::FromCanonical(v);
}

}  // namespace

Fr ByteHashDomain() {
  Limbs v{};
  for (std::size_t i = 0; i < kDomain.size(); ++i) {
    const std::size_t bit = 8 * (kDomain.size() - 1 - i);
    v[bit / 64] |= static_cast<uint64_t>(static_cast<uint8_t>(kDomain[i])) << (bit % 64);
  }
  return *Fr::FromCanonical(v);
}

Fr HashBytes(std::string_view bytes) {
  static const Fr domain = ByteHashDomain();
  std::array<Fr, kPoseidonMaxInputs> in;
  std::size_t n = 0;
  in[n++] = domain;
  in[n++] = Fr::FromUint64(bytes.size());
  std::size_t at = 0;
  while (at < bytes.size() && n < 2 + kFirstGroup) {
    in[n++] = Piece(bytes.substr(at, kPieceBytes));
    at += kPieceBytes;
  }
  Fr h = *Poseidon(std::span<const Fr>(in.data(), n));
  while (at < bytes.size()) {
    n = 0;
    in[n++] = h;
    while (at < bytes.size() && n < 1 + kNextGroup) {
      in[n++] = Piece(bytes.substr(at, kPieceBytes));
      at += kPieceBytes;
    }
    h = *Poseidon(std::span<const Fr>(in.data(), n));
  }
  return h;
}

}  // namespace rustorium::proof
