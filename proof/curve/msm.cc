#include "proof/curve/msm.h"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace rustorium::proof {

namespace {

constexpr int kMaxWindowBits = 15;  // digits fit in int16_t
constexpr int kScalarBits = 255;    // r < 2^254, plus one bit for the last window's carry
constexpr std::size_t kSerialBelow = 1024;

int WindowCount(int c) { return (kScalarBits + c - 1) / c; }

// Bits [offset, offset + c) of v, c <= 15.
uint32_t Bits(const Limbs& v, int offset, int c) {
  const int limb = offset / 64, shift = offset % 64;
  if (limb >= 4) return 0;
  uint64_t word = v[limb] >> shift;
  if (shift + c > 64 && limb + 1 < 4) word |= v[limb + 1] << (64 - shift);
  return static_cast<uint32_t>(word & ((uint64_t{1} << c) - 1));
}

// digits[w * n + i]: the w-th signed digit of scalar i, in (-2^(c-1), 2^(c-1)], so that
// k = Σ digit_w · 2^(w·c). A window's raw value above 2^(c-1) becomes negative with a carry
// into the next window; the last window never carries because k < 2^254 and W·c >= 255.
void Recode(std::span<const Fr> scalars, int c, std::size_t begin, std::size_t end,
            std::vector<int16_t>& digits) {
  const int windows = WindowCount(c);
  const std::size_t n = scalars.size();
  const uint32_t half = 1u << (c - 1);
  for (std::size_t i = begin; i < end; ++i) {
    const Limbs k = scalars[i].ToCanonical();
    uint32_t carry = 0;
    for (int w = 0; w < windows; ++w) {
      const uint32_t raw = Bits(k, w * c, c) + carry;
      int32_t digit = static_cast<int32_t>(raw);
      carry = 0;
      if (raw > half) {
        digit -= static_cast<int32_t>(1u << c);
        carry = 1;
      }
      digits[static_cast<std::size_t>(w) * n + i] = static_cast<int16_t>(digit);
    }
  }
}

// Σ digit_i · P_i for one window: points into buckets, then Σ j·bucket[j] by running sums.
template <typename C>
JacobianPoint<C> WindowSum(std::span<const AffinePoint<C>> points, const int16_t* digits, int c,
                           std::vector<JacobianPoint<C>>& buckets) {
  const std::size_t count = std::size_t{1} << (c - 1);
  buckets.assign(count, JacobianPoint<C>());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const int d = digits[i];
    if (d > 0) {
      buckets[d - 1] += points[i];
    } else if (d < 0) {
      buckets[-d - 1] += -points[i];
    }
  }
  JacobianPoint<C> running, sum;
  for (std::size_t j = count; j-- > 0;) {
    running += buckets[j];
    sum += running;
  }
  return sum;
}

template <typename C>
Result<JacobianPoint<C>> Msm(std::span<const AffinePoint<C>> points, std::span<const Fr> scalars,
                             const MsmOptions& options) {
  if (points.size() != scalars.size()) {
    return Status::InvalidArgument("multi-scalar multiplication: " + std::to_string(points.size()) +
                                   " points but " + std::to_string(scalars.size()) + " scalars");
  }
  if (options.window_bits < 0 || options.window_bits > kMaxWindowBits || options.threads < 0) {
    return Status::InvalidArgument(
        "multi-scalar multiplication: window_bits must be 0..15 and threads >= 0");
  }
  const std::size_t n = points.size();
  if (n == 0) return JacobianPoint<C>::Infinity();
  const int c = options.window_bits != 0 ? options.window_bits : MsmWindowBits(n);
  const int windows = WindowCount(c);
  int threads = options.threads != 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (n < kSerialBelow) threads = 1;

  // Runs body(t) for t in [0, threads) on `threads` threads, this one included.
  auto run = [threads](auto body) {
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t) workers.emplace_back(body, t);
    body(0);
    for (auto& w : workers) w.join();
  };

  std::vector<int16_t> digits(static_cast<std::size_t>(windows) * n);
  run([&](int t) {
    const std::size_t chunk = (n + threads - 1) / threads;
    const std::size_t begin = std::min(n, chunk * t), end = std::min(n, begin + chunk);
    Recode(scalars, c, begin, end, digits);
  });

  std::vector<JacobianPoint<C>> window_sums(windows);
  run([&](int t) {
    std::vector<JacobianPoint<C>> buckets;
    for (int w = t; w < windows; w += threads) {
      window_sums[w] =
          WindowSum<C>(points, digits.data() + static_cast<std::size_t>(w) * n, c, buckets);
    }
  });

  JacobianPoint<C> result = window_sums[windows - 1];
  for (int w = windows - 2; w >= 0; --w) {
    for (int i = 0; i < c; ++i) result = result.Double();
    result += window_sums[w];
  }
  return result;
}

}  // namespace

int MsmWindowBits(std::size_t n) {
  // Cost in field multiplications: each window costs n mixed additions (about 11) and
  // 2·2^(c-1) general additions (about 16) for its running sums.
  int best = 1;
  double best_cost = -1;
  for (int c = 1; c <= kMaxWindowBits; ++c) {
    const double cost = WindowCount(c) * (11.0 * static_cast<double>(n) + 16.0 * (1 << c));
    if (best_cost < 0 || cost < best_cost) {
      best = c;
      best_cost = cost;
    }
  }
  return best;
}

Result<G1> MultiScalarMul(std::span<const G1Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options) {
  return Msm<G1Curve>(points, scalars, options);
}

Result<G2> MultiScalarMul(std::span<const G2Affine> points, std::span<const Fr> scalars,
                          const MsmOptions& options) {
  return Msm<G2Curve>(points, scalars, options);
}

}  // namespace rustorium::proof
