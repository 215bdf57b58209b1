#include "proof/field/ntt.h"

#include <algorithm>
#include <bit>
#include <thread>
#include <utility>
#include <vector>

namespace rustorium::proof {

namespace {

constexpr std::size_t kSerialBelow = 4096;

// (r - 1) / 2^28.
constexpr Limbs kOddPart = field_detail::ShiftRight(
    field_detail::ShiftRight(field_detail::Sub(Fr::kModulus, Limbs{1, 0, 0, 0}), 14), 14);
constexpr Fr kRoot28 = Fr::FromUint64(5).Pow(kOddPart);

int ThreadCount(const NttOptions& options, std::size_t n) {
  if (n < kSerialBelow) return 1;
  int threads = options.threads != 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // A power of two, so that the first stages split into equal independent chunks.
  threads = static_cast<int>(std::bit_floor(static_cast<unsigned>(std::max(1, threads))));
  return std::min<int>(threads, static_cast<int>(n / 2));
}

// Runs body(t) for t in [0, threads), on `threads` threads, this one included.
template <typename Body>
void Parallel(int threads, Body body) {
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(body, t);
  body(0);
  for (auto& w : workers) w.join();
}

Status CheckSize(std::size_t n) {
  if (n == 0 || !std::has_single_bit(n) || n > (std::size_t{1} << kFrTwoAdicity)) {
    return Status::InvalidArgument("NTT size must be a power of two from 1 to 2^28, not " +
                                   std::to_string(n));
  }
  return Status::OK();
}

// Radix-2 decimation in time: bit-reversal, then log2(n) stages of butterflies. The stages
// whose blocks fit in n/threads run per thread on its own chunk; the wider ones split each
// stage's butterflies among the threads.
void Transform(std::span<Fr> a, const Fr& root, int threads) {
  const std::size_t n = a.size();
  if (n == 1) return;
  // j runs through the bit-reversals of i: adding one at the top, carrying downwards.
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  std::vector<Fr> twiddles(n / 2);  // root^j
  twiddles[0] = Fr::One();
  for (std::size_t j = 1; j < n / 2; ++j) twiddles[j] = twiddles[j - 1] * root;

  auto butterflies = [&](std::size_t len, std::size_t begin, std::size_t end) {
    // Butterflies [begin, end) of the stage with blocks of `len`.
    const std::size_t half = len / 2, stride = n / len;
    for (std::size_t b = begin; b < end; ++b) {
      const std::size_t j = b % half;
      const std::size_t lo = (b / half) * len + j;
      const Fr v = a[lo + half] * twiddles[j * stride];
      const Fr u = a[lo];
      a[lo] = u + v;
      a[lo + half] = u - v;
    }
  };
  const std::size_t chunk = n / static_cast<std::size_t>(threads);
  Parallel(threads, [&](int t) {
    const std::size_t offset = chunk * static_cast<std::size_t>(t) / 2;  // in butterflies
    for (std::size_t len = 2; len <= chunk; len *= 2) butterflies(len, offset, offset + chunk / 2);
  });
  for (std::size_t len = chunk * 2; len <= n; len *= 2) {
    const std::size_t per = n / 2 / static_cast<std::size_t>(threads);
    Parallel(threads, [&](int t) { butterflies(len, per * t, per * (t + 1)); });
  }
}

}  // namespace

Fr RootOfUnity(int log_n) {
  Fr w = kRoot28;
  for (int i = log_n; i < kFrTwoAdicity; ++i) w = w.Square();
  return w;
}

Status Ntt(std::span<Fr> values, const NttOptions& options) {
  if (Status s = CheckSize(values.size()); !s.ok()) return s;
  Transform(values, RootOfUnity(std::countr_zero(values.size())),
            ThreadCount(options, values.size()));
  return Status::OK();
}

Status InverseNtt(std::span<Fr> values, const NttOptions& options) {
  if (Status s = CheckSize(values.size()); !s.ok()) return s;
  const std::size_t n = values.size();
  Transform(values, RootOfUnity(std::countr_zero(n)).Inverse(), ThreadCount(options, n));
  const Fr n_inv = Fr::FromUint64(n).Inverse();
  for (Fr& v : values) v *= n_inv;
  return Status::OK();
}

Status CosetNtt(std::span<Fr> values, const Fr& shift, const NttOptions& options) {
  if (Status s = CheckSize(values.size()); !s.ok()) return s;
  if (shift.IsZero()) return Status::InvalidArgument("coset NTT: the shift must be nonzero");
  // a_j·shift^j, then the plain transform.
  Fr power = Fr::One();
  for (Fr& v : values) {
    v *= power;
    power *= shift;
  }
  return Ntt(values, options);
}

Status InverseCosetNtt(std::span<Fr> values, const Fr& shift, const NttOptions& options) {
  if (shift.IsZero()) return Status::InvalidArgument("coset NTT: the shift must be nonzero");
  if (Status s = InverseNtt(values, options); !s.ok()) return s;
  const Fr shift_inv = shift.Inverse();
  Fr power = Fr::One();
  for (Fr& v : values) {
    v *= power;
    power *= shift_inv;
  }
  return Status::OK();
}

}  // namespace rustorium::proof
