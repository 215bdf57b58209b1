#include "engine/write_batch.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <utility>

#include "engine/cf_handles.h"

namespace rustorium::engine {

WriteBatch::WriteBatch() : rep_(new rocksdb::WriteBatch()) {}

WriteBatch::WriteBatch(std::size_t reserved_bytes)
    : rep_(new rocksdb::WriteBatch(reserved_bytes)) {}

WriteBatch::~WriteBatch() { delete rep_; }

WriteBatch::WriteBatch(WriteBatch&& other) noexcept
    : rep_(std::exchange(other.rep_, new rocksdb::WriteBatch())),
      max_key_size_(std::exchange(other.max_key_size_, 0)),
      max_value_size_(std::exchange(other.max_value_size_, 0)),
      has_invalid_key_(std::exchange(other.has_invalid_key_, false)) {}

WriteBatch& WriteBatch::operator=(WriteBatch&& other) noexcept {
  if (this != &other) {
    std::swap(rep_, other.rep_);
    std::swap(max_key_size_, other.max_key_size_);
    std::swap(max_value_size_, other.max_value_size_);
    std::swap(has_invalid_key_, other.has_invalid_key_);
    other.Clear();
  }
  return *this;
}

void WriteBatch::NoteKey(std::string_view key) {
  if (key.empty()) has_invalid_key_ = true;
  max_key_size_ = std::max(max_key_size_, key.size());
}

void WriteBatch::Put(ColumnFamily cf, std::string_view key, std::string_view value) {
  NoteKey(key);
  max_value_size_ = std::max(max_value_size_, value.size());
  // Staged against the family's id; Engine::Write binds ids to its handles.
  rocksdb::Status s = rep_->Put(ColumnFamilyIdHandle(cf), ToSlice(key), ToSlice(value));
  if (!s.ok()) has_invalid_key_ = true;  // only a batch over 4 GiB fails here
}

void WriteBatch::Delete(ColumnFamily cf, std::string_view key) {
  NoteKey(key);
  rocksdb::Status s = rep_->Delete(ColumnFamilyIdHandle(cf), ToSlice(key));
  if (!s.ok()) has_invalid_key_ = true;
}

void WriteBatch::DeleteRange(ColumnFamily cf, std::string_view begin, std::string_view end) {
  NoteKey(begin);
  NoteKey(end);
  if (!(begin < end)) has_invalid_key_ = true;
  rocksdb::Status s = rep_->DeleteRange(ColumnFamilyIdHandle(cf), ToSlice(begin), ToSlice(end));
  if (!s.ok()) has_invalid_key_ = true;
}

namespace {

// Re-stages the records of one batch into another (ours are only puts, deletes and ranges).
class AppendHandler final : public rocksdb::WriteBatch::Handler {
 public:
  explicit AppendHandler(WriteBatch& to) : to_(to) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    to_.Put(static_cast<ColumnFamily>(cf), ToView(key), ToView(value));
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    to_.Delete(static_cast<ColumnFamily>(cf), ToView(key));
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t cf, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    to_.DeleteRange(static_cast<ColumnFamily>(cf), ToView(begin), ToView(end));
    return rocksdb::Status::OK();
  }

 private:
  WriteBatch& to_;
};

}  // namespace

void WriteBatch::Append(const WriteBatch& other) {
  AppendHandler handler(*this);
  rocksdb::Status s = other.rep_->Iterate(&handler);
  if (!s.ok()) has_invalid_key_ = true;  // cannot happen for batches built by this class
}

std::size_t WriteBatch::Count() const { return static_cast<std::size_t>(rep_->Count()); }

std::size_t WriteBatch::ByteSize() const { return rep_->GetDataSize(); }

void WriteBatch::Clear() {
  rep_->Clear();
  max_key_size_ = 0;
  max_value_size_ = 0;
  has_invalid_key_ = false;
}

}  // namespace rustorium::engine
