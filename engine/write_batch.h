// WriteBatch: changes to several column families that Engine::Write applies atomically.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/column_family.h"

namespace rocksdb {
class WriteBatch;
}

namespace rustorium::engine {

// A batch is built by one thread, then handed to Engine::Write, which applies all of it or
// none of it. Modules above the engine stage their changes into a batch they are handed (the
// store's apply batch carries data, index nodes and the applied index together).
//
// Puts are not validated here: Engine::Write refuses a batch holding an empty key or a key or
// value over the engine's limits, and then writes nothing.
class WriteBatch {
 public:
  WriteBatch();
  // Reserves room for about `reserved_bytes` of encoded changes up front.
  explicit WriteBatch(std::size_t reserved_bytes);
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void Put(ColumnFamily cf, std::string_view key, std::string_view value);
  void Delete(ColumnFamily cf, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(ColumnFamily cf, std::string_view begin, std::string_view end);

  // Stages every change of `other` after this batch's own, in order.
  void Append(const WriteBatch& other);

  // Number of operations staged.
  std::size_t Count() const;
  // Encoded size in bytes.
  std::size_t ByteSize() const;
  bool Empty() const { return Count() == 0; }
  void Clear();

  // Largest key and value staged so far, and whether an empty key (or an empty or inverted
  // range) was staged: what Engine::Write checks against its limits without re-reading.
  std::size_t max_key_size() const { return max_key_size_; }
  std::size_t max_value_size() const { return max_value_size_; }
  bool has_invalid_key() const { return has_invalid_key_; }

  // The underlying RocksDB batch; for the engine only.
  rocksdb::WriteBatch* rep() { return rep_; }

 private:
  void NoteKey(std::string_view key);

  rocksdb::WriteBatch* rep_;
  std::size_t max_key_size_ = 0;
  std::size_t max_value_size_ = 0;
  bool has_invalid_key_ = false;
};

}  // namespace rustorium::engine
