// The one reader of the project's TOML config files (pd.toml, store.toml, the [storage]
// section, validator.toml, committee.toml), with one error shape for every mistake:
//
//   FILE: section.key: reason    an unknown key, a wrong type, a bad value, a missing key
//   FILE: line L, column C: reason    not TOML
//   FILE: cannot read (reason)        missing or unreadable
//
// Keys of the root table have no section ("FILE: key_file: is required"); entries of arrays
// are numbered from 1 ("FILE: authority[2].name: ...", "FILE: store.pd[1]: ..."). Every error
// is InvalidArgument: a config file is input. Values echoed in messages go through QuoteInput
// (base/quote.h), so a long bad value makes a short message.
//
// Reading never throws; the TOML library stays inside config_file.cc.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace rustorium {

struct ConfigValue;  // a parsed TOML value (config_file.cc)

// A table of a config file: the file's root, a [section], or one [[array]] entry. Cheap to
// copy; every copy keeps the parsed file alive. Reads are const and may run on any thread.
class ConfigTable {
 public:
  // Reads the TOML file at `path`; its root table.
  static Result<ConfigTable> Open(const std::string& path);

  const std::string& file() const { return file_; }
  // This table's place in messages: "" for the root, "pd", "authority[2]".
  const std::string& name() const { return name_; }

  // Whether this table holds `key`.
  bool Has(std::string_view key) const;
  // The keys of this table, in the order the file gives them.
  std::vector<std::string> Keys() const;
  // InvalidArgument "FILE: name.key: unknown key (known: a, b)" for the first key outside
  // `known`. Every reader calls it on every table it reads: unknown keys are refused.
  Status AllowOnly(std::initializer_list<std::string_view> known) const;

  // Each Read leaves `out` as it was when the key is absent, and is InvalidArgument when the
  // key holds another type.
  Status Read(std::string_view key, std::string& out) const;
  Status Read(std::string_view key, bool& out) const;
  // An array of strings.
  Status Read(std::string_view key, std::vector<std::string>& out) const;
  // An integer in [min, max]; by default any value of T.
  template <typename T>
  requires(std::integral<T> && !std::same_as<T, bool>) Status
      Read(std::string_view key, T& out, T min = std::numeric_limits<T>::min(),
           T max = std::numeric_limits<T>::max())
  const {
    int64_t v = 0;
    RETURN_IF_ERROR(ReadInteger(key, v, Clamp(min), Clamp(max)));
    if (Has(key)) out = static_cast<T>(v);
    return Status::OK();
  }
  // Like Read, and "is required" when the key is absent.
  template <typename T>
  Status ReadRequired(std::string_view key, T& out) const {
    if (!Has(key)) return Bad(key, "is required");
    return Read(key, out);
  }

  // The table at `key`: nullopt when absent, InvalidArgument when `key` holds something else.
  Result<std::optional<ConfigTable>> Table(std::string_view key) const;
  // The same, with an empty table named `key` when absent: for sections whose keys all have
  // defaults, and for "FILE: section.key: is required" when a required key's section is absent.
  Result<ConfigTable> Section(std::string_view key) const;
  // The tables of the array of tables at `key` ([[key]] in the file): empty when absent.
  Result<std::vector<ConfigTable>> Tables(std::string_view key) const;

  // InvalidArgument "FILE: name.key: reason", for checks of values the caller makes.
  Status Bad(std::string_view key, std::string_view reason) const;
  // "name.key", or "key" in the root table.
  std::string Where(std::string_view key) const;

 private:
  ConfigTable(std::string file, std::string name, std::shared_ptr<const ConfigValue> table)
      : file_(std::move(file)), name_(std::move(name)), table_(std::move(table)) {}

  template <typename T>
  static int64_t Clamp(T v) {
    if constexpr (std::is_unsigned_v<T>) {
      if (v > static_cast<std::make_unsigned_t<int64_t>>(std::numeric_limits<int64_t>::max()))
        return std::numeric_limits<int64_t>::max();
    }
    return static_cast<int64_t>(v);
  }
  Status ReadInteger(std::string_view key, int64_t& out, int64_t min, int64_t max) const;
  const ConfigValue* Find(std::string_view key) const;

  std::string file_;
  std::string name_;
  std::shared_ptr<const ConfigValue> table_;  // aliases the parsed file's root
};

}  // namespace rustorium
