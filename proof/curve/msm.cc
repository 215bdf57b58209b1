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
void RecodeRange(std::span<const Fr> scalars, int c, std::size_t begin, std::size_t end,
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

// Buckets in affine coordinates, filled by batches of independent additions that share one
// inversion (Montgomery's trick): an affine addition with its share of the inversion costs
// about 6 multiplications where a mixed Jacobian addition costs 11. A batch holds at most one
// addition per bucket; a point whose bucket is already in the batch waits for the next one.
template <typename C>
class AffineBuckets {
 public:
  using Affine = AffinePoint<C>;
  using F = typename C::Field;
  static constexpr std::size_t kBatch = 256;

  explicit AffineBuckets(std::size_t count) : buckets_(count), batch_of_(count, 0) {
    bucket_.reserve(kBatch);
    addend_.reserve(kBatch);
    denominator_.reserve(kBatch);
    prefix_.reserve(kBatch);
  }

  void Add(uint32_t b, const Affine& p) {
    Queue(b, p);
    // Waiting points go back in as soon as a batch's worth has gathered, so that they never
    // pile up (a window whose digits crowd into few buckets would make them quadratic).
    if (waiting_.size() >= kBatch) Requeue();
  }

  // Finishes every pending and waiting addition.
  void Finish() {
    while (!waiting_.empty()) Requeue();
    Flush();
  }

  const std::vector<Affine>& buckets() const { return buckets_; }

 private:
  void Queue(uint32_t b, const Affine& p) {
    if (buckets_[b].IsInfinity() && batch_of_[b] != batch_) {
      buckets_[b] = p;
      return;
    }
    if (batch_of_[b] == batch_) {
      waiting_.push_back({b, p});
      return;
    }
    batch_of_[b] = batch_;
    bucket_.push_back(b);
    addend_.push_back(p);
    if (bucket_.size() == kBatch) Flush();
  }

  // Flushes the batch, then queues the waiting points again.
  void Requeue() {
    Flush();
    requeue_.swap(waiting_);
    for (const auto& [b, p] : requeue_) Queue(b, p);
    requeue_.clear();
  }

  // The pending additions, bucket_[k] += addend_[k], all buckets distinct.
  void Flush() {
    const std::size_t n = bucket_.size();
    ++batch_;
    if (n == 0) return;
    // Each addition's denominator: x2 - x1, or 2·y for a doubling; 1 when the sum is the
    // point at infinity (P + -P), whose result needs no division.
    denominator_.resize(n);
    prefix_.resize(n);
    F running = F::One();
    for (std::size_t k = 0; k < n; ++k) {
      const Affine& a = buckets_[bucket_[k]];
      const Affine& p = addend_[k];
      if (a.x() != p.x()) {
        denominator_[k] = p.x() - a.x();
      } else if (a.y() == p.y()) {
        denominator_[k] = a.y() + a.y();
      } else {
        denominator_[k] = F::One();
      }
      prefix_[k] = running;
      running = running * denominator_[k];
    }
    F inverse = running.Inverse();
    for (std::size_t k = n; k-- > 0;) {
      const F inv_k = inverse * prefix_[k];  // 1 / denominator_[k]
      inverse = inverse * denominator_[k];
      Affine& a = buckets_[bucket_[k]];
      const Affine& p = addend_[k];
      F lambda;
      if (a.x() != p.x()) {
        lambda = (p.y() - a.y()) * inv_k;
      } else if (a.y() == p.y()) {
        const F xx = a.x().Square();
        lambda = (xx + xx + xx) * inv_k;
      } else {
        a = Affine::Infinity();
        continue;
      }
      const F x3 = lambda.Square() - a.x() - p.x();
      const F y3 = lambda * (a.x() - x3) - a.y();
      a = Affine(x3, y3);
    }
    bucket_.clear();
    addend_.clear();
  }

  std::vector<Affine> buckets_;
  std::vector<uint32_t> batch_of_;  // the batch a bucket has a pending addition in
  uint32_t batch_ = 1;
  std::vector<uint32_t> bucket_;
  std::vector<Affine> addend_;
  std::vector<F> denominator_, prefix_;
  std::vector<std::pair<uint32_t, Affine>> waiting_, requeue_;
};

// WindowSum with affine buckets (AffineBuckets): for windows of many buckets, where batches
// fill up.
template <typename C>
JacobianPoint<C> WindowSumAffine(std::span<const AffinePoint<C>> points, const int16_t* digits,
                                 int c) {
  AffineBuckets<C> buckets(std::size_t{1} << (c - 1));
  for (std::size_t i = 0; i < points.size(); ++i) {
    const int d = digits[i];
    if (d == 0 || points[i].IsInfinity()) continue;
    if (d > 0) {
      buckets.Add(static_cast<uint32_t>(d - 1), points[i]);
    } else {
      buckets.Add(static_cast<uint32_t>(-d - 1), -points[i]);
    }
  }
  buckets.Finish();
  const std::vector<AffinePoint<C>>& b = buckets.buckets();
  JacobianPoint<C> running, sum;
  for (std::size_t j = b.size(); j-- > 0;) {
    running += b[j];
    sum += running;
  }
  return sum;
}

// Batches fill when a window's digits spread over many buckets (the top window's few bits use
// few) and there are many points; below these, the inversions cost more than the affine
// additions save.
constexpr int kAffineMinDigitBits = 11;  // 2^10 buckets in use, four batches' worth
constexpr std::size_t kAffineMinPoints = 2048;

Status CheckOptions(const MsmOptions& options) {
  if (options.window_bits < 0 || options.window_bits > kMaxWindowBits || options.threads < 0) {
    return Status::InvalidArgument(
        "multi-scalar multiplication: window_bits must be 0..15 and threads >= 0");
  }
  return Status::OK();
}

int ThreadsFor(const MsmOptions& options, std::size_t n) {
  if (n < kSerialBelow) return 1;
  return options.threads != 0 ? options.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Runs body(t) for t in [0, threads) on `threads` threads, this one included.
template <typename Body>
void RunOn(int threads, Body body) {
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(body, t);
  body(0);
  for (auto& w : workers) w.join();
}

template <typename C>
Result<JacobianPoint<C>> Msm(std::span<const AffinePoint<C>> points, const MsmDigits& digits,
                             const MsmOptions& options) {
  if (points.size() != digits.size()) {
    return Status::InvalidArgument("multi-scalar multiplication: " + std::to_string(points.size()) +
                                   " points but " + std::to_string(digits.size()) + " scalars");
  }
  RETURN_IF_ERROR(CheckOptions(options));
  const std::size_t n = points.size();
  if (n == 0) return JacobianPoint<C>::Infinity();
  const int c = digits.window_bits();
  const int windows = WindowCount(c);
  const int threads = ThreadsFor(options, n);
  const bool affine = options.affine_buckets && n >= kAffineMinPoints;
  std::vector<JacobianPoint<C>> window_sums(windows);
  RunOn(threads, [&](int t) {
    std::vector<JacobianPoint<C>> buckets;
    for (int w = t; w < windows; w += threads) {
      const int16_t* d = digits.window(w);
      const int digit_bits = std::min(c, kScalarBits - w * c);  // the top window has fewer
      window_sums[w] = affine && digit_bits >= kAffineMinDigitBits
                           ? WindowSumAffine<C>(points, d, c)
                           : WindowSum<C>(points, d, c, buckets);
    }
  });

  JacobianPoint<C> result = window_sums[windows - 1];
  for (int w = windows - 2; w >= 0; --w) {
    for (int i = 0; i < c; ++i) result = result.Double();
    result += window_sums[w];
  }
  return result;
}

template <typename C>
Result<JacobianPoint<C>> Msm(std::span<const AffinePoint<C>> points, std::span<const Fr> scalars,
                             const MsmOptions& options) {
  if (points.size() != scalars.size()) {
    return Status::InvalidArgument("multi-scalar multiplication: " + std::to_string(points.size()) +
                                   " points but " + std::to_string(scalars.size()) + " scalars");
  }
  ASSIGN_OR_RETURN(MsmDigits digits, MsmDigits::Recode(scalars, options));
  return Msm<C>(points, digits, options);
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

Result<MsmDigits> MsmDigits::Recode(std::span<const Fr> scalars, const MsmOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  MsmDigits out;
  out.n_ = scalars.size();
  out.c_ = options.window_bits != 0 ? options.window_bits : MsmWindowBits(out.n_);
  out.digits_.resize(static_cast<std::size_t>(WindowCount(out.c_)) * out.n_);
  const int threads = ThreadsFor(options, out.n_);
  const std::size_t n = out.n_;
  RunOn(threads, [&](int t) {
    const std::size_t chunk = (n + threads - 1) / threads;
    const std::size_t begin = std::min(n, chunk * t), end = std::min(n, begin + chunk);
    RecodeRange(scalars, out.c_, begin, end, out.digits_);
  });
  return out;
}

Result<G1> MultiScalarMul(std::span<const G1Affine> points, const MsmDigits& digits,
                          const MsmOptions& options) {
  return Msm<G1Curve>(points, digits, options);
}

Result<G2> MultiScalarMul(std::span<const G2Affine> points, const MsmDigits& digits,
                          const MsmOptions& options) {
  return Msm<G2Curve>(points, digits, options);
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
