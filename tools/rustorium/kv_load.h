// The key-value load driver behind `rustorium bench kv` and bench/kv_bench: N client threads,
// each with its own target (its own client and connections), run a closed loop of puts and
// gets of 16-byte keys and fixed-size values for a fixed time and record every operation's
// latency. The same driver loads our cluster and etcd (bench/kv_bench.cc), so both see the
// same load from the same code.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "base/status.h"
#include "region/client.h"

namespace rustorium::tools {

// One client thread's view of a key-value store; called from that thread only.
class KvTarget {
 public:
  virtual ~KvTarget() = default;
  // Writes `value` under `key` and returns once the store acknowledged it.
  virtual Status Put(const std::string& key, const std::string& value) = 0;
  // Reads `key` linearizably; an absent key is not an error.
  virtual Status Get(const std::string& key) = 0;
};

// Makes client thread `thread`'s target (0-based). Called once per thread, in turn, from the
// thread that calls RunKvLoad, before the load starts.
using KvTargetFactory = std::function<Result<std::unique_ptr<KvTarget>>(int thread)>;

struct KvLoadOptions {
  int threads = 16;
  double seconds = 10;    // measured time
  int read_percent = 50;  // share of gets, 0..100
  uint64_t keys = 10000;  // the key space: KvKey(0) .. KvKey(keys - 1)
  std::size_t value_size = 256;
  // Write every key once before the warm-up, so that gets find values (skipped when the load
  // only writes).
  bool preload = true;
  double warmup_seconds = 1;  // the same load before the measured time, not recorded
  uint64_t seed = 1;          // thread i draws keys and operations from mt19937_64(seed + i)
  // Called on the thread that runs the load when the measured time starts and when it ends
  // (to sample CPU time, say); either may be empty.
  std::function<void()> at_measure_start;
  std::function<void()> at_measure_end;
};

struct KvOpStats {
  uint64_t ops = 0;     // completed in the measured time; failures are not counted
  uint64_t errors = 0;  // failed in the measured time
  double ops_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
};

struct KvLoadReport {
  KvLoadOptions options;
  KvOpStats put;
  KvOpStats get;
  KvOpStats all;
  double seconds = 0;       // measured wall time: from the end of the warm-up to the last answer
  std::string first_error;  // the first failure's message, empty when none failed
};

// Runs the load: makes the targets, preloads, warms up, then measures for options.seconds.
// InvalidArgument for options out of range; the factory's error when a target cannot be made;
// the first failure when the preload fails. Failures while measuring are counted, not returned.
Result<KvLoadReport> RunKvLoad(const KvLoadOptions& options, const KvTargetFactory& make_target);

// The 16-byte key of index `i` (< 10^15): "k" and 15 zero-padded decimal digits.
std::string KvKey(uint64_t i);

// Targets on our cluster: each thread gets its own region client (own connections) made with
// `options`.
KvTargetFactory ClusterTargets(client::ClientOptions options);

// The report as a small table: ops/s, p50, p99, p999 (ms) and errors for put, get and all.
void PrintKvReport(std::ostream& out, const KvLoadReport& report);

}  // namespace rustorium::tools
