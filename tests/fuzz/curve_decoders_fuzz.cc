// Decoders of BN254 points that arrive from the network or files: G1 and G2 in uncompressed,
// compressed and snarkjs binary form, and snarkjs JSON coordinates; and the field-element
// decoders they rest on (Fq text and bytes, Fr and Fq Montgomery-form bytes). None may crash; what
// decodes is on the curve (and, for G2, in the subgroup) and re-encodes to the same bytes;
// what does not decode is InvalidArgument.
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proof/curve/g1.h"
#include "proof/curve/g2.h"
#include "tests/fuzz/fuzz_driver.h"

using namespace rustorium::proof;  // NOLINT(google-build-using-namespace): a test driver

namespace {

template <std::size_t N>
std::string Str(const std::array<uint8_t, N>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

template <std::size_t N, typename Decode, typename Encode, typename Check>
void Exercise(const uint8_t* data, std::size_t size, Decode decode, Encode encode, Check check) {
  if (size < N) return;
  const std::span<const uint8_t, N> in(data, N);
  auto p = decode(in);
  if (p.ok()) {
    FUZZ_CHECK(p->IsOnCurve());
    FUZZ_CHECK(check(*p));
    const auto again = encode(*p);
    FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin()));  // one encoding per point
  } else {
    FUZZ_CHECK(p.status().IsInvalidArgument());
  }
}

std::array<uint8_t, 32> First32(const uint8_t* data) {
  std::array<uint8_t, 32> out;
  std::copy(data, data + 32, out.begin());
  return out;
}

// The input's lines, as the coordinate strings of a JSON point.
std::vector<std::string> Lines(std::string_view input) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= input.size() && out.size() < 8) {
    const std::size_t end = std::min(input.find('\n', start), input.size());
    out.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  const G1Affine g1 = (G1(G1Generator()) * Fr::FromUint64(12345)).ToAffine();
  const G2Affine g2 = (G2(G2Generator()) * Fr::FromUint64(54321)).ToAffine();
  std::vector<std::string> seeds = {Str(EncodeG1Uncompressed(g1)),
                                    Str(EncodeG1Compressed(g1)),
                                    Str(EncodeG1Snarkjs(g1)),
                                    Str(EncodeG2Uncompressed(g2)),
                                    Str(EncodeG2Compressed(g2)),
                                    Str(EncodeG2Snarkjs(g2)),
                                    Str(EncodeG1Compressed(G1Affine::Infinity())),
                                    Str(EncodeG2Compressed(G2Affine::Infinity())),
                                    Str(EncodeG2Uncompressed(G2Affine::Infinity()))};
  const auto j1 = G1ToSnarkjsJson(g1);
  seeds.push_back(j1[0] + "\n" + j1[1] + "\n" + j1[2]);
  const auto j2 = G2ToSnarkjsJson(g2);
  std::string s;
  for (const auto& c : j2) s += (s.empty() ? "" : "\n") + c[0] + "\n" + c[1];
  seeds.push_back(s);
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto any1 = [](const G1Affine&) { return true; };
  auto in_g2 = [](const G2Affine& q) { return IsInG2Subgroup(q); };
  Exercise<64>(data, size, DecodeG1Uncompressed, EncodeG1Uncompressed, any1);
  Exercise<32>(data, size, DecodeG1Compressed, EncodeG1Compressed, any1);
  Exercise<64>(data, size, DecodeG1Snarkjs, EncodeG1Snarkjs, any1);
  Exercise<128>(
      data, size, [](auto b) { return DecodeG2Uncompressed(b); }, EncodeG2Uncompressed, in_g2);
  Exercise<64>(
      data, size, [](auto b) { return DecodeG2Compressed(b); }, EncodeG2Compressed, in_g2);
  Exercise<128>(
      data, size, [](auto b) { return DecodeG2Snarkjs(b); }, EncodeG2Snarkjs, in_g2);

  if (size >= 32) {
    const std::span<const uint8_t, 32> raw(data, 32);
    auto fr = Fr::FromMontgomeryBytesLE(raw);
    FUZZ_CHECK(fr.ok() ? fr->ToMontgomeryBytesLE() == First32(data)
                       : fr.status().IsInvalidArgument());
    auto fq = Fq::FromMontgomeryBytesLE(raw);
    FUZZ_CHECK(fq.ok() ? fq->ToMontgomeryBytesLE() == First32(data)
                       : fq.status().IsInvalidArgument());
    auto be = Fq::FromBytesBE(raw);
    FUZZ_CHECK(be.ok() ? be->ToBytesBE() == First32(data) : be.status().IsInvalidArgument());
  }
  auto text = Fq::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (text.ok()) {
    FUZZ_CHECK(*Fq::Parse(text->ToDecimal()) == *text && *Fq::Parse(text->ToHex()) == *text);
  } else {
    FUZZ_CHECK(text.status().IsInvalidArgument());
  }

  const std::vector<std::string> lines =
      Lines(std::string_view(reinterpret_cast<const char*>(data), size));
  if (lines.size() <= 3) {
    auto p = G1FromSnarkjsJson(lines);
    if (p.ok()) {
      FUZZ_CHECK(p->IsOnCurve());
      FUZZ_CHECK(*G1FromSnarkjsJson(G1ToSnarkjsJson(*p)) == *p);
    } else {
      FUZZ_CHECK(p.status().IsInvalidArgument());
    }
  }
  if (lines.size() >= 4 && lines.size() <= 6 && lines.size() % 2 == 0) {
    std::vector<std::array<std::string, 2>> coords;
    for (std::size_t i = 0; i + 1 < lines.size(); i += 2)
      coords.push_back({lines[i], lines[i + 1]});
    auto q = G2FromSnarkjsJson(coords);
    if (q.ok()) {
      FUZZ_CHECK(q->IsOnCurve() && IsInG2Subgroup(*q));
      FUZZ_CHECK(*G2FromSnarkjsJson(G2ToSnarkjsJson(*q)) == *q);
    } else {
      FUZZ_CHECK(q.status().IsInvalidArgument());
    }
  }
  return 0;
}
