#include "engine/iterator.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include "engine/cf_handles.h"

namespace rustorium::engine {

namespace {

// The smallest key greater than every key that starts with `prefix`; empty when there is
// none (the prefix is all 0xff bytes).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace

Snapshot::~Snapshot() { db_->ReleaseSnapshot(snapshot_); }

uint64_t Snapshot::sequence() const { return snapshot_->GetSequenceNumber(); }

struct Iterator::State {
  std::string lower;  // empty: unbounded
  std::string upper;  // empty: unbounded
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  bool empty_range = false;
  std::unique_ptr<rocksdb::Iterator> rep;
};

Iterator::Iterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, IteratorOptions options)
    : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.lower = std::move(options.lower_bound);
  st.upper = std::move(options.upper_bound);
  if (!options.prefix.empty()) {
    if (st.lower < options.prefix) st.lower = options.prefix;
    std::string successor = PrefixSuccessor(options.prefix);
    if (!successor.empty() && (st.upper.empty() || successor < st.upper)) st.upper = successor;
  }
  if (!st.upper.empty() && st.lower >= st.upper) st.empty_range = true;

  rocksdb::ReadOptions ro;
  ro.fill_cache = options.fill_cache;
  if (options.snapshot != nullptr) ro.snapshot = options.snapshot->rep();
  st.lower_slice = ToSlice(st.lower);
  st.upper_slice = ToSlice(st.upper);
  if (!st.lower.empty()) ro.iterate_lower_bound = &st.lower_slice;
  if (!st.upper.empty()) ro.iterate_upper_bound = &st.upper_slice;
  st.rep.reset(db->NewIterator(ro, cf));
}

Iterator::~Iterator() = default;

void Iterator::SeekToFirst() {
  if (state_->empty_range) return;
  state_->rep->SeekToFirst();
}

void Iterator::SeekToLast() {
  if (state_->empty_range) return;
  state_->rep->SeekToLast();
}

void Iterator::Seek(std::string_view target) {
  if (state_->empty_range) return;
  if (target < state_->lower) target = state_->lower;
  state_->rep->Seek(ToSlice(target));
}

void Iterator::SeekForPrev(std::string_view target) {
  if (state_->empty_range) return;
  if (!state_->upper.empty() && target >= state_->upper) {
    state_->rep->SeekToLast();
    return;
  }
  state_->rep->SeekForPrev(ToSlice(target));
}

void Iterator::Next() { state_->rep->Next(); }

void Iterator::Prev() { state_->rep->Prev(); }

bool Iterator::Valid() const { return !state_->empty_range && state_->rep->Valid(); }

std::string_view Iterator::key() const { return ToView(state_->rep->key()); }

std::string_view Iterator::value() const { return ToView(state_->rep->value()); }

Status Iterator::status() const { return FromRocks(state_->rep->status(), "iterator"); }

}  // namespace rustorium::engine
