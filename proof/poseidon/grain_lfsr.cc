#include "proof/poseidon/grain_lfsr.h"

namespace rustorium::proof {

namespace {
constexpr int kFieldBits = 254;
}

GrainLfsr::GrainLfsr(int field, int sbox, int field_bits, int t, int rounds_f, int rounds_p) {
  int pos = 0;
  auto push = [&](uint64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) state_[pos++] = static_cast<uint8_t>((value >> i) & 1);
  };
  push(static_cast<uint64_t>(field), 2);
  push(static_cast<uint64_t>(sbox), 4);
  push(static_cast<uint64_t>(field_bits), 12);
  push(static_cast<uint64_t>(t), 12);
  push(static_cast<uint64_t>(rounds_f), 10);
  push(static_cast<uint64_t>(rounds_p), 10);
  while (pos < 80) state_[pos++] = 1;
  for (int i = 0; i < 160; ++i) Step();
}

int GrainLfsr::Step() {
  auto at = [this](int i) { return state_[(head_ + i) % 80]; };
  const uint8_t bit = at(62) ^ at(51) ^ at(38) ^ at(23) ^ at(13) ^ at(0);
  state_[head_] = bit;  // the oldest bit leaves; the new one becomes position 79
  head_ = (head_ + 1) % 80;
  return bit;
}

int GrainLfsr::NextBit() {
  for (;;) {
    const int first = Step();
    const int second = Step();
    if (first == 1) return second;
  }
}

Limbs GrainLfsr::NextBits(int bits) {
  Limbs v{};
  for (int i = bits - 1; i >= 0; --i) {
    if (NextBit()) v[i / 64] |= uint64_t{1} << (i % 64);
  }
  return v;
}

Fr GrainLfsr::NextFieldElementRejecting() {
  for (;;) {
    Result<Fr> f = Fr::FromCanonical(NextBits(kFieldBits));
    if (f.ok()) return *f;
  }
}

Fr GrainLfsr::NextFieldElementReduced() { return Fr::FromLimbsReduced(NextBits(kFieldBits)); }

}  // namespace rustorium::proof
