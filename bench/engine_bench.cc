// Engine wrapper overhead, side by side with RocksDB's own db_bench in one run.
//
// For each value size: fill-random then read-random (16-byte keys, one thread, no fsync, WAL
// on) through rustorium::engine::Engine, through the same Engine with encryption at rest, and
// through db_bench started with the very OPTIONS file our engine wrote (so compression, bloom
// filters, memtable and background settings are identical) and the same block-cache size.
// Prints ops/s of each, the ratio ours / db_bench (goal >= 0.90) and the cost of encryption.
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace fs = std::filesystem;
using rustorium::engine::ColumnFamily;
using rustorium::engine::Engine;
using rustorium::engine::StorageOptions;

namespace {

struct Config {
  long num_small = 1000000;  // keys for 100-byte values
  long num_large = 250000;   // keys for 1 KiB values
  std::vector<int> value_sizes = {100, 1024};
  std::string db_bench = "db_bench";
  std::string dir = "/tmp/rustorium-engine-bench";
  std::size_t cache_size = 128 << 20;
  int repeat = 3;
  uint64_t seed = 301;
};

// 16-byte keys as db_bench makes them: the number big-endian in 8 bytes, then '0' padding.
void MakeKey(uint64_t n, char* key) {
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(n >> (56 - 8 * i));
  std::fill(key + 8, key + 16, '0');
}

// Values that compress to about half, like db_bench's default compression_ratio 0.5: pieces
// of 100 bytes, each 50 random printable bytes written twice.
class ValueSource {
 public:
  ValueSource(std::size_t value_size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const std::size_t total = std::max<std::size_t>(1 << 20, value_size);
    while (data_.size() < total) {
      std::string half(50, ' ');
      for (char& c : half) c = static_cast<char>(' ' + rng() % 95);
      data_ += half;
      data_ += half;
    }
  }
  std::string_view Next(std::size_t len) {
    if (pos_ + len > data_.size()) pos_ = 0;
    std::string_view v(data_.data() + pos_, len);
    pos_ += len;
    return v;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

struct Phase {
  double fill_ops = 0;
  double read_ops = 0;
  double found_fraction = 0;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Phase RunOurs(const Config& c, const std::string& path, long num, int value_size, bool encrypt) {
  fs::remove_all(path);
  StorageOptions o;
  o.path = path;
  o.sync_mode = rustorium::engine::SyncMode::kNone;
  o.block_cache_size = c.cache_size;
  if (encrypt) {
    o.encryption = true;
    o.encryption_key_file = c.dir + "/bench.key";
  }
  auto opened = Engine::Open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), opened.status().ToString().c_str());
    std::exit(1);
  }
  Engine& e = **opened;
  std::mt19937_64 rng(c.seed);
  std::uniform_int_distribution<uint64_t> pick(0, static_cast<uint64_t>(num) - 1);
  ValueSource values(static_cast<std::size_t>(value_size), c.seed);
  char key[16];
  Phase p;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < num; ++i) {
    MakeKey(pick(rng), key);
    rustorium::Status s = e.Put(ColumnFamily::kDefault, std::string_view(key, 16),
                                values.Next(static_cast<std::size_t>(value_size)));
    if (!s.ok()) {
      std::fprintf(stderr, "put: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  p.fill_ops = num / Seconds(start);
  long found = 0;
  std::string value;  // reused, as db_bench reuses its PinnableSlice
  start = std::chrono::steady_clock::now();
  for (long i = 0; i < num; ++i) {
    MakeKey(pick(rng), key);
    auto hit = e.GetInto(ColumnFamily::kDefault, std::string_view(key, 16), value);
    if (hit.ok() && *hit) ++found;
  }
  p.read_ops = num / Seconds(start);
  p.found_fraction = static_cast<double>(found) / num;
  return p;
}

std::string LatestOptionsFile(const std::string& dir) {
  std::string best;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("OPTIONS-", 0) == 0 && name > best) best = name;
  }
  return best.empty() ? "" : dir + "/" + best;
}

// Runs db_bench and returns the ops/sec of its fillrandom and readrandom lines.
Phase RunDbBench(const Config& c, const std::string& options_file, const std::string& path,
                 long num, int value_size) {
  fs::remove_all(path);
  std::string cmd =
      c.db_bench + " --benchmarks=fillrandom,readrandom --num=" + std::to_string(num) +
      " --key_size=16 --value_size=" + std::to_string(value_size) +
      " --threads=1 --sync=0 --disable_wal=0" +
      " --compression_ratio=0.5 --cache_size=" + std::to_string(c.cache_size) +
      " --statistics=1 --stats_level=1 --use_existing_db=0 --seed=" + std::to_string(c.seed) +
      " --options_file=" + options_file + " --db=" + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::fprintf(stderr, "cannot run %s\n", cmd.c_str());
    std::exit(1);
  }
  Phase out;
  char line[4096];
  std::string all;
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    all += line;
    std::string l(line);
    auto ops_at = l.find(" ops/sec");
    if (ops_at == std::string::npos) continue;
    auto begin = l.rfind(' ', ops_at - 1);
    double ops = std::stod(l.substr(begin + 1, ops_at - begin - 1));
    if (l.rfind("fillrandom", 0) == 0) out.fill_ops = ops;
    if (l.rfind("readrandom", 0) == 0) {
      out.read_ops = ops;
      auto found_at = l.find(" found)");
      auto open_at = l.rfind('(', found_at);
      if (found_at != std::string::npos && open_at != std::string::npos) {
        // "(N of M found)"
        long n = 0, m = 0;
        if (std::sscanf(l.c_str() + open_at, "(%ld of %ld found)", &n, &m) == 2 && m > 0) {
          out.found_fraction = static_cast<double>(n) / m;
        }
      }
    }
  }
  int status = ::pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.fill_ops == 0 || out.read_ops == 0) {
    std::fprintf(stderr, "db_bench failed:\n%s\n", all.c_str());
    std::exit(1);
  }
  return out;
}

// Opens and closes an empty plain store, so RocksDB writes its OPTIONS file; returns its path.
std::string WriteOptionsFile(const Config& c) {
  StorageOptions o;
  o.path = c.dir + "/options-source";
  o.sync_mode = rustorium::engine::SyncMode::kNone;
  o.block_cache_size = c.cache_size;
  auto opened = Engine::Open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "open %s: %s\n", o.path.c_str(), opened.status().ToString().c_str());
    std::exit(1);
  }
  opened->reset();
  return LatestOptionsFile(o.path);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Engine benchmark: rustorium's engine against RocksDB's db_bench"};
  app.add_option("--num", c.num_small, "Keys for 100-byte values")->capture_default_str();
  app.add_option("--num-large", c.num_large, "Keys for values of 1 KiB and more")
      ->capture_default_str();
  app.add_option("--value-sizes", c.value_sizes, "Value sizes in bytes")->delimiter(',');
  app.add_option("--db-bench", c.db_bench, "db_bench binary")->capture_default_str();
  app.add_option("--dir", c.dir, "Scratch directory (emptied)")->capture_default_str();
  app.add_option("--cache-size", c.cache_size, "Block cache bytes")->capture_default_str();
  app.add_option("--repeat", c.repeat, "Runs of each; the median is shown")->capture_default_str();
  app.add_option("--seed", c.seed, "Random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(c.dir);
  fs::create_directories(c.dir);
  {
    std::FILE* key = std::fopen((c.dir + "/bench.key").c_str(), "w");
    std::fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", key);
    std::fclose(key);
  }
  // db_bench runs with the OPTIONS file a plain store of ours writes: the same settings.
  const std::string options_file = WriteOptionsFile(c);
  std::printf(
      "engine benchmark: 16-byte keys, 1 thread, sync none (WAL on), lz4 + zstd bottommost,"
      " bloom 10 bits, block cache %zu MiB, seed %llu, repeat %d\n\n",
      c.cache_size >> 20, static_cast<unsigned long long>(c.seed), c.repeat);
  std::printf("%-22s %14s %14s %8s %16s %10s\n", "workload", "rustorium op/s", "db_bench op/s",
              "ratio", "encrypted op/s", "enc. cost");
  for (int value_size : c.value_sizes) {
    const long num = value_size >= 1024 ? c.num_large : c.num_small;
    std::vector<double> ours_fill, ours_read, db_fill, db_read, enc_fill, enc_read;
    double ours_found = 0, db_found = 0;
    for (int r = 0; r < c.repeat; ++r) {
      // Alternate the order across repeats so neither side always runs on a cooler machine.
      Phase ours, db, enc;
      if (r % 2 == 0) {
        ours = RunOurs(c, c.dir + "/ours", num, value_size, false);
        db = RunDbBench(c, options_file, c.dir + "/db_bench", num, value_size);
        enc = RunOurs(c, c.dir + "/encrypted", num, value_size, true);
      } else {
        enc = RunOurs(c, c.dir + "/encrypted", num, value_size, true);
        db = RunDbBench(c, options_file, c.dir + "/db_bench", num, value_size);
        ours = RunOurs(c, c.dir + "/ours", num, value_size, false);
      }
      ours_fill.push_back(ours.fill_ops);
      ours_read.push_back(ours.read_ops);
      db_fill.push_back(db.fill_ops);
      db_read.push_back(db.read_ops);
      enc_fill.push_back(enc.fill_ops);
      enc_read.push_back(enc.read_ops);
      ours_found = ours.found_fraction;
      db_found = db.found_fraction;
    }
    auto row = [&](const char* name, const std::vector<double>& o, const std::vector<double>& d,
                   const std::vector<double>& e) {
      const double mo = Median(o), md = Median(d), me = Median(e);
      char label[64];
      std::snprintf(label, sizeof(label), "%s %dB x %ld", name, value_size, num);
      std::printf("%-22s %14.0f %14.0f %8.3f %16.0f %9.1f%%\n", label, mo, md, mo / md, me,
                  100.0 * (1.0 - me / mo));
    };
    row("fillrandom", ours_fill, db_fill, enc_fill);
    row("readrandom", ours_read, db_read, enc_read);
    std::printf("%-22s found %.1f%% of keys read (rustorium) vs %.1f%% (db_bench)\n", "",
                100 * ours_found, 100 * db_found);
  }
  std::printf("\nratio = rustorium / db_bench (goal >= 0.90); enc. cost = 1 - encrypted / plain\n");
  fs::remove_all(c.dir);
  return 0;
}
