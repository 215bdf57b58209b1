#include "proof/curve/g1.h"

#include "proof/curve/point_encoding.h"

namespace rustorium::proof {

namespace {
constexpr char kGroup[] = "G1";
}  // namespace

G1Affine G1Generator() { return G1Affine(Fq::FromUint64(1), Fq::FromUint64(2)); }

std::array<uint8_t, 64> EncodeG1Uncompressed(const G1Affine& p) {
  return curve_detail::EncodeUncompressed(p);
}
Result<G1Affine> DecodeG1Uncompressed(std::span<const uint8_t, 64> bytes) {
  return curve_detail::DecodeUncompressed<G1Curve>(bytes, kGroup);
}
std::array<uint8_t, 32> EncodeG1Compressed(const G1Affine& p) {
  return curve_detail::EncodeCompressed(p);
}
Result<G1Affine> DecodeG1Compressed(std::span<const uint8_t, 32> bytes) {
  return curve_detail::DecodeCompressed<G1Curve>(bytes, kGroup);
}
std::array<uint8_t, 64> EncodeG1Snarkjs(const G1Affine& p) {
  return curve_detail::EncodeSnarkjs(p);
}
Result<G1Affine> DecodeG1Snarkjs(std::span<const uint8_t, 64> bytes) {
  return curve_detail::DecodeSnarkjs<G1Curve>(bytes, kGroup);
}

std::array<std::string, 3> G1ToSnarkjsJson(const G1Affine& p) {
  if (p.IsInfinity()) return {"0", "1", "0"};
  return {p.x().ToDecimal(), p.y().ToDecimal(), "1"};
}

Result<G1Affine> G1FromSnarkjsJson(std::span<const std::string> coordinates) {
  if (coordinates.size() != 2 && coordinates.size() != 3) {
    return Status::InvalidArgument("G1 point (snarkjs JSON): expected 2 or 3 coordinates");
  }
  std::array<Fq, 3> c = {Fq::Zero(), Fq::Zero(), Fq::One()};
  for (std::size_t i = 0; i < coordinates.size(); ++i) {
    auto f = Fq::Parse(coordinates[i]);
    if (!f.ok()) return Status::InvalidArgument("G1 point (snarkjs JSON): " + f.status().message());
    c[i] = *f;
  }
  return curve_detail::FromJsonCoordinates<G1Curve>(c[0], c[1], c[2], kGroup);
}

}  // namespace rustorium::proof
