// A replicated key-value map for the multi-raft tests and benchmark, durable in the engine's
// default column family next to the Raft log (as the store's will be):
//   'T' group 'a'      -> applied index, digest of every (index, command) applied so far
//   'T' group 'd' key  -> value
// A command is "key=value". Replicas that applied the same sequence have the same applied
// index and digest, which is what the tests compare.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "base/codec.h"
#include "base/fault_point.h"
#include "engine/engine.h"
#include "region/raft/state_machine.h"

namespace rustorium::raft::testing {

class TestStateMachine : public StateMachine {
 public:
  TestStateMachine(engine::Engine* engine, uint64_t group) : engine_(engine), group_(group) {
    auto meta = engine_->Get(engine::ColumnFamily::kDefault, MetaKey());
    if (meta.ok() && meta->has_value() && (*meta)->size() == 16) {
      applied_ = GetFixed64BE(**meta);
      digest_ = GetFixed64BE(std::string_view(**meta).substr(8));
    }
  }

  // Fault point "test.apply_write" (base/fault_point.h): the engine write fails.
  Result<std::string> Apply(uint64_t index, std::string_view command) override {
    if (FaultPoint("test.apply_write")) return Status::IOError("injected fault test.apply_write");
    const auto eq = command.find('=');
    const bool valid = eq != std::string_view::npos && eq > 0;
    digest_ = Mix(Mix(digest_, index), command);
    applied_ = index;
    engine::WriteBatch batch;
    if (valid)
      batch.Put(engine::ColumnFamily::kDefault, DataKey(command.substr(0, eq)),
                command.substr(eq + 1));
    batch.Put(engine::ColumnFamily::kDefault, MetaKey(), Meta(applied_, digest_));
    RETURN_IF_ERROR(engine_->Write(batch));
    ++applies_;
    return std::string(valid ? "ok" : "bad command");
  }
  uint64_t AppliedIndex() const override { return applied_.load(); }

  Result<std::unique_ptr<SnapshotReader>> OpenSnapshot() override {
    return std::unique_ptr<SnapshotReader>(
        new Reader(engine_, group_, applied_, digest_, DataPrefix()));
  }
  Result<std::unique_ptr<SnapshotWriter>> BeginSnapshot() override {
    return std::unique_ptr<SnapshotWriter>(new Writer(this));
  }

  uint64_t digest() const { return digest_; }
  uint64_t applies() const { return applies_; }  // Apply calls by this instance
  // The value of `key`, or "" when absent.
  std::string Value(const std::string& key) const {
    auto v = engine_->Get(engine::ColumnFamily::kDefault, DataKey(key));
    return v.ok() && v->has_value() ? **v : std::string();
  }

 private:
  static uint64_t Mix(uint64_t h, uint64_t x) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((x >> (8 * i)) & 0xff)) * 1099511628211ull;
    return h;
  }
  static uint64_t Mix(uint64_t h, std::string_view s) {
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return Mix(h, s.size());
  }
  static std::string Meta(uint64_t applied, uint64_t digest) {
    std::string v;
    PutFixed64BE(v, applied);
    PutFixed64BE(v, digest);
    return v;
  }
  std::string Prefix() const {
    std::string k(1, 'T');
    PutFixed64BE(k, group_);
    return k;
  }
  std::string MetaKey() const { return Prefix() + 'a'; }
  std::string DataPrefix() const { return Prefix() + 'd'; }
  std::string DataKey(std::string_view key) const { return DataPrefix() + std::string(key); }

  // Records: 4-byte length, key, 4-byte length, value. The first record has an empty key and
  // carries the digest.
  static void PutRecord(std::string* out, std::string_view k, std::string_view v) {
    PutFixed32BE(*out, static_cast<uint32_t>(k.size()));
    out->append(k);
    PutFixed32BE(*out, static_cast<uint32_t>(v.size()));
    out->append(v);
  }

  class Reader : public SnapshotReader {
   public:
    Reader(engine::Engine* engine, uint64_t, uint64_t applied, uint64_t digest, std::string prefix)
        : snapshot_(engine->GetSnapshot()),
          applied_(applied),
          digest_(digest),
          prefix_(std::move(prefix)) {
      engine::IteratorOptions o;
      o.prefix = prefix_;
      o.snapshot = snapshot_.get();
      it_ = engine->NewIterator(engine::ColumnFamily::kDefault, o);
      it_->SeekToFirst();
    }
    uint64_t applied_index() const override { return applied_; }
    Result<bool> Next(std::string* chunk, std::size_t max_bytes) override {
      if (!sent_meta_) {
        std::string d;
        PutFixed64BE(d, digest_);
        PutRecord(chunk, "", d);
        sent_meta_ = true;
      }
      while (it_->Valid() && chunk->size() < max_bytes) {
        PutRecord(chunk, it_->key().substr(prefix_.size()), it_->value());
        it_->Next();
      }
      RETURN_IF_ERROR(it_->status());
      return !chunk->empty();
    }

   private:
    std::unique_ptr<engine::Snapshot> snapshot_;
    std::unique_ptr<engine::Iterator> it_;
    uint64_t applied_;
    uint64_t digest_;
    std::string prefix_;
    bool sent_meta_ = false;
  };

  class Writer : public SnapshotWriter {
   public:
    explicit Writer(TestStateMachine* sm) : sm_(sm) {}
    Status Add(std::string_view chunk) override {
      ByteReader r(chunk);
      while (!r.done()) {
        std::string_view k, v;
        if (!r.Bytes(k, r.remaining()) || !r.Bytes(v, r.remaining()))
          return Status::Corruption("snapshot chunk malformed");
        if (k.empty()) {
          if (v.size() != 8) return Status::Corruption("snapshot digest malformed");
          digest_ = GetFixed64BE(v);
          have_digest_ = true;
        } else {
          data_[std::string(k)] = std::string(v);
        }
      }
      return Status::OK();
    }
    Status Finish(uint64_t applied_index) override {
      if (!have_digest_) return Status::Corruption("snapshot without a digest");
      engine::WriteBatch batch;
      std::string end = sm_->Prefix() + static_cast<char>('d' + 1);
      batch.DeleteRange(engine::ColumnFamily::kDefault, sm_->DataPrefix(), end);
      for (const auto& [k, v] : data_)
        batch.Put(engine::ColumnFamily::kDefault, sm_->DataKey(k), v);
      batch.Put(engine::ColumnFamily::kDefault, sm_->MetaKey(), Meta(applied_index, digest_));
      RETURN_IF_ERROR(sm_->engine_->WriteSync(batch));
      sm_->applied_ = applied_index;
      sm_->digest_ = digest_;
      sm_->snapshots_installed_++;
      return Status::OK();
    }

   private:
    TestStateMachine* sm_;
    std::map<std::string, std::string> data_;
    uint64_t digest_ = 0;
    bool have_digest_ = false;
  };

 public:
  uint64_t snapshots_installed() const { return snapshots_installed_; }

 private:
  engine::Engine* engine_;
  uint64_t group_;
  std::atomic<uint64_t> applied_{0};  // read on the loop while an off-loop subclass applies
  uint64_t digest_ = 0xcbf29ce484222325ull;
  uint64_t applies_ = 0;
  uint64_t snapshots_installed_ = 0;
};

}  // namespace rustorium::raft::testing
