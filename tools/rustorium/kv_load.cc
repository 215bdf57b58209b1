#include "tools/rustorium/kv_load.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <random>
#include <thread>
#include <vector>

#include "tools/rustorium/latency_histogram.h"

namespace rustorium::tools {

namespace {

using Clock = std::chrono::steady_clock;

// What one client thread saw in the measured time.
struct ThreadTally {
  LatencyHistogram put;
  LatencyHistogram get;
  uint64_t put_errors = 0;
  uint64_t get_errors = 0;
  Clock::time_point last_answer{};
  std::string first_error;
};

// A value of `size` printable bytes, different per thread.
std::string MakeValue(std::mt19937_64& rng, std::size_t size) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string v(size, '\0');
  for (char& c : v) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return v;
}

// Writes keys thread, thread + threads, ... once.
Status Preload(KvTarget& target, int thread, const KvLoadOptions& o) {
  std::mt19937_64 rng(o.seed + static_cast<uint64_t>(thread));
  const std::string value = MakeValue(rng, o.value_size);
  for (uint64_t k = static_cast<uint64_t>(thread); k < o.keys;
       k += static_cast<uint64_t>(o.threads)) {
    Status s = target.Put(KvKey(k), value);
    if (!s.ok()) return s.WithContext("preloading " + KvKey(k));
  }
  return Status::OK();
}

// The closed loop of one thread: operations that start before `measure_from` are the warm-up;
// those that start before `stop` and succeed are recorded.
void RunThread(KvTarget& target, int thread, const KvLoadOptions& o, Clock::time_point measure_from,
               Clock::time_point stop, ThreadTally& tally) {
  // Another stream than the preload's, so the value written differs from the preloaded one.
  std::mt19937_64 rng((o.seed + static_cast<uint64_t>(thread)) ^ 0x9e3779b97f4a7c15ull);
  const std::string value = MakeValue(rng, o.value_size);
  for (;;) {
    const Clock::time_point start = Clock::now();
    if (start >= stop) break;
    const bool read = static_cast<int>(rng() % 100) < o.read_percent;
    const std::string key = KvKey(rng() % o.keys);
    Status s = read ? target.Get(key) : target.Put(key, value);
    const Clock::time_point end = Clock::now();
    if (start < measure_from) continue;
    tally.last_answer = end;
    if (!s.ok()) {
      ++(read ? tally.get_errors : tally.put_errors);
      if (tally.first_error.empty()) tally.first_error = (read ? "get: " : "put: ") + s.ToString();
      continue;
    }
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
    (read ? tally.get : tally.put).Record(static_cast<uint64_t>(nanos));
  }
}

KvOpStats Stats(const LatencyHistogram& h, uint64_t errors, double seconds) {
  KvOpStats s;
  s.ops = h.count();
  s.errors = errors;
  s.ops_per_second = seconds > 0 ? static_cast<double>(s.ops) / seconds : 0;
  s.p50_ms = h.Quantile(0.5) / 1e6;
  s.p99_ms = h.Quantile(0.99) / 1e6;
  s.p999_ms = h.Quantile(0.999) / 1e6;
  return s;
}

class ClusterTarget : public KvTarget {
 public:
  explicit ClusterTarget(std::unique_ptr<client::Client> client) : client_(std::move(client)) {}
  Status Put(const std::string& key, const std::string& value) override {
    return client_->Put(key, value).status();
  }
  Status Get(const std::string& key) override { return client_->Get(key).status(); }

 private:
  std::unique_ptr<client::Client> client_;
};

}  // namespace

std::string KvKey(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "k%015llu", static_cast<unsigned long long>(i));
  return buf;
}

Result<KvLoadReport> RunKvLoad(const KvLoadOptions& o, const KvTargetFactory& make_target) {
  if (o.threads < 1 || o.threads > 1024) return Status::InvalidArgument("threads must be 1..1024");
  if (o.seconds <= 0 || o.warmup_seconds < 0)
    return Status::InvalidArgument("seconds must be positive");
  if (o.read_percent < 0 || o.read_percent > 100)
    return Status::InvalidArgument("read percent must be 0..100");
  if (o.keys < 1 || o.keys > 1000000000000000ull)
    return Status::InvalidArgument("keys must be 1..10^15");
  if (o.value_size < 1) return Status::InvalidArgument("value size must be at least 1 byte");

  std::vector<std::unique_ptr<KvTarget>> targets;
  for (int i = 0; i < o.threads; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<KvTarget> t, make_target(i));
    targets.push_back(std::move(t));
  }

  if (o.preload && o.read_percent > 0) {
    std::vector<Status> results(static_cast<std::size_t>(o.threads));
    std::vector<std::thread> threads;
    for (int i = 0; i < o.threads; ++i) {
      threads.emplace_back([&, i] {
        results[static_cast<std::size_t>(i)] = Preload(*targets[static_cast<std::size_t>(i)], i, o);
      });
    }
    for (std::thread& t : threads) t.join();
    for (const Status& s : results) RETURN_IF_ERROR(s);
  }

  const auto warmup =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_seconds));
  const auto measured =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const Clock::time_point measure_from = Clock::now() + warmup;
  const Clock::time_point stop = measure_from + measured;
  std::vector<ThreadTally> tallies(static_cast<std::size_t>(o.threads));
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < o.threads; ++i) {
      const auto at = static_cast<std::size_t>(i);
      threads.emplace_back(
          [&, i, at] { RunThread(*targets[at], i, o, measure_from, stop, tallies[at]); });
    }
    std::this_thread::sleep_until(measure_from);
    if (o.at_measure_start) o.at_measure_start();
    std::this_thread::sleep_until(stop);
    if (o.at_measure_end) o.at_measure_end();
    for (std::thread& t : threads) t.join();
  }

  KvLoadReport report;
  report.options = o;
  LatencyHistogram put, get, all;
  uint64_t put_errors = 0, get_errors = 0;
  Clock::time_point last = stop;
  for (const ThreadTally& t : tallies) {
    put.Merge(t.put);
    get.Merge(t.get);
    put_errors += t.put_errors;
    get_errors += t.get_errors;
    last = std::max(last, t.last_answer);
    if (report.first_error.empty()) report.first_error = t.first_error;
  }
  all.Merge(put);
  all.Merge(get);
  report.seconds = std::chrono::duration<double>(last - measure_from).count();
  report.put = Stats(put, put_errors, report.seconds);
  report.get = Stats(get, get_errors, report.seconds);
  report.all = Stats(all, put_errors + get_errors, report.seconds);
  return report;
}

KvTargetFactory ClusterTargets(client::ClientOptions options) {
  return [options](int) -> Result<std::unique_ptr<KvTarget>> {
    ASSIGN_OR_RETURN(std::unique_ptr<client::Client> c, client::Client::Connect(options));
    return std::unique_ptr<KvTarget>(std::make_unique<ClusterTarget>(std::move(c)));
  };
}

void PrintKvReport(std::ostream& out, const KvLoadReport& r) {
  auto row = [&out](const char* name, const KvOpStats& s) {
    out << std::left << std::setw(5) << name << std::right << std::fixed << std::setprecision(1)
        << std::setw(11) << s.ops_per_second << std::setprecision(2) << std::setw(10) << s.p50_ms
        << std::setw(10) << s.p99_ms << std::setw(10) << s.p999_ms << std::setw(9) << s.errors
        << "\n";
  };
  out << "op         ops/s    p50 ms    p99 ms   p999 ms   errors\n";
  row("put", r.put);
  row("get", r.get);
  row("all", r.all);
  out.unsetf(std::ios::floatfield);
  if (!r.first_error.empty()) out << "first error: " << r.first_error << "\n";
}

}  // namespace rustorium::tools
