#include "proof/curve/g2.h"

#include "proof/curve/point_encoding.h"

namespace rustorium::proof {

namespace {

constexpr char kGroup[] = "G2";

Fq2 ParseFq2(const char* c0, const char* c1) {
  return {*Fq::FromDecimal(c0), *Fq::FromDecimal(c1)};
}

Result<G2Affine> Checked(Result<G2Affine> p, SubgroupCheck check, const char* form) {
  if (p.ok() && check == SubgroupCheck::kCheck && !IsInG2Subgroup(*p)) {
    return curve_detail::Invalid(kGroup, form, "not in the order-r subgroup");
  }
  return p;
}

}  // namespace

const G2Affine& G2Generator() {
  // EIP-197 ("Precompiled contracts for optimal ate pairing check on the elliptic curve
  // alt_bn128"), the generator P2; the same as ffjavascript's bn128 G2.g.
  static const G2Affine generator(
      ParseFq2("10857046999023057135944570762232829481370756359578518086990519993285655852781",
               "11559732032986387107991004021392285783925812861821192530917403151452391805634"),
      ParseFq2("8495653923123431417604973247489272438418190587263600148770280649306958101930",
               "4082367875863433681332203403145435568316851327593401208105741076214120093531"));
  return generator;
}

bool IsInG2Subgroup(const G2& p) { return p.Mul(Fr::kModulus).IsInfinity(); }
bool IsInG2Subgroup(const G2Affine& p) { return IsInG2Subgroup(G2(p)); }

std::array<uint8_t, 128> EncodeG2Uncompressed(const G2Affine& p) {
  return curve_detail::EncodeUncompressed(p);
}
Result<G2Affine> DecodeG2Uncompressed(std::span<const uint8_t, 128> bytes, SubgroupCheck check) {
  return Checked(curve_detail::DecodeUncompressed<G2Curve>(bytes, kGroup), check, "uncompressed");
}
std::array<uint8_t, 64> EncodeG2Compressed(const G2Affine& p) {
  return curve_detail::EncodeCompressed(p);
}
Result<G2Affine> DecodeG2Compressed(std::span<const uint8_t, 64> bytes, SubgroupCheck check) {
  return Checked(curve_detail::DecodeCompressed<G2Curve>(bytes, kGroup), check, "compressed");
}
std::array<uint8_t, 128> EncodeG2Snarkjs(const G2Affine& p) {
  return curve_detail::EncodeSnarkjs(p);
}
Result<G2Affine> DecodeG2Snarkjs(std::span<const uint8_t, 128> bytes, SubgroupCheck check) {
  return Checked(curve_detail::DecodeSnarkjs<G2Curve>(bytes, kGroup), check, "snarkjs binary");
}

G2JsonCoordinates G2ToSnarkjsJson(const G2Affine& p) {
  if (p.IsInfinity()) return {{{"0", "0"}, {"1", "0"}, {"0", "0"}}};
  return {{{p.x().c0.ToDecimal(), p.x().c1.ToDecimal()},
           {p.y().c0.ToDecimal(), p.y().c1.ToDecimal()},
           {"1", "0"}}};
}

Result<G2Affine> G2FromSnarkjsJson(std::span<const std::array<std::string, 2>> coordinates,
                                   SubgroupCheck check) {
  if (coordinates.size() != 2 && coordinates.size() != 3) {
    return Status::InvalidArgument("G2 point (snarkjs JSON): expected 2 or 3 coordinates");
  }
  std::array<Fq2, 3> c = {Fq2::Zero(), Fq2::Zero(), Fq2::One()};
  for (std::size_t i = 0; i < coordinates.size(); ++i) {
    for (int j = 0; j < 2; ++j) {
      auto f = Fq::Parse(coordinates[i][j]);
      if (!f.ok()) {
        return Status::InvalidArgument("G2 point (snarkjs JSON): " + f.status().message());
      }
      (j == 0 ? c[i].c0 : c[i].c1) = *f;
    }
  }
  return Checked(curve_detail::FromJsonCoordinates<G2Curve>(c[0], c[1], c[2], kGroup), check,
                 "snarkjs JSON");
}

}  // namespace rustorium::proof
