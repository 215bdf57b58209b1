#include "base/config_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/quote.h"

namespace rustorium {

// A TOML value copied out of the parser's tree, so that the library stays in this file.
struct ConfigValue {
  enum class Kind { kString, kInteger, kFloat, kBoolean, kDateTime, kArray, kTable };
  Kind kind = Kind::kTable;
  std::string key;   // its key, for an entry of a table
  std::string text;  // kString
  int64_t integer = 0;
  double floating = 0;
  bool boolean = false;
  std::vector<ConfigValue> items;  // kArray: elements; kTable: entries in file order
};

namespace {

using Kind = ConfigValue::Kind;

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInteger:
      return "an integer";
    case Kind::kFloat:
      return "a float";
    case Kind::kBoolean:
      return "a boolean";
    case Kind::kDateTime:
      return "a date or time";
    case Kind::kArray:
      return "an array";
    case Kind::kTable:
      return "a table";
  }
  return "a value";
}

ConfigValue Convert(const toml::node& node) {
  ConfigValue v;
  if (const toml::table* t = node.as_table()) {
    v.kind = Kind::kTable;
    // toml++ keeps a table's keys sorted; the file's order is the order of their positions.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [key, value] : *t) entries.emplace_back(&key, &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto& pa = a.first->source().begin;
      const auto& pb = b.first->source().begin;
      return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    for (const auto& [key, value] : entries) {
      ConfigValue entry = Convert(*value);
      entry.key = std::string(key->str());
      v.items.push_back(std::move(entry));
    }
  } else if (const toml::array* a = node.as_array()) {
    v.kind = Kind::kArray;
    for (const toml::node& element : *a) v.items.push_back(Convert(element));
  } else if (auto s = node.value_exact<std::string>()) {
    v.kind = Kind::kString;
    v.text = std::move(*s);
  } else if (auto i = node.value_exact<int64_t>()) {
    v.kind = Kind::kInteger;
    v.integer = *i;
  } else if (auto f = node.value_exact<double>()) {
    v.kind = Kind::kFloat;
    v.floating = *f;
  } else if (auto b = node.value_exact<bool>()) {
    v.kind = Kind::kBoolean;
    v.boolean = *b;
  } else {
    v.kind = Kind::kDateTime;
  }
  return v;
}

std::string Joined(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

Result<ConfigTable> ConfigTable::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(path + ": cannot read (" + std::strerror(errno) + ")");
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument(path + ": cannot read (I/O error)");
  const std::string text = contents.str();
  auto root = std::make_shared<ConfigValue>();
  try {
    const toml::table parsed = toml::parse(text, path);
    *root = Convert(parsed);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Status::InvalidArgument(path + ": line " + std::to_string(at.line) + ", column " +
                                   std::to_string(at.column) + ": " + std::string(e.description()));
  }
  return ConfigTable(path, "", std::move(root));
}

const ConfigValue* ConfigTable::Find(std::string_view key) const {
  for (const ConfigValue& v : table_->items) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

bool ConfigTable::Has(std::string_view key) const { return Find(key) != nullptr; }

std::vector<std::string> ConfigTable::Keys() const {
  std::vector<std::string> keys;
  for (const ConfigValue& v : table_->items) keys.push_back(v.key);
  return keys;
}

std::string ConfigTable::Where(std::string_view key) const {
  return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
}

Status ConfigTable::Bad(std::string_view key, std::string_view reason) const {
  return Status::InvalidArgument(file_ + ": " + Where(key) + ": " + std::string(reason));
}

Status ConfigTable::AllowOnly(std::initializer_list<std::string_view> known) const {
  for (const ConfigValue& v : table_->items) {
    bool found = false;
    for (std::string_view k : known) found = found || k == v.key;
    if (!found) {
      // A key is any bytes in quotes; show it bounded, bare when it is a plain name.
      const std::string quoted = QuoteInput(v.key);
      const std::string shown =
          quoted == "'" + v.key + "'" && v.key.find_first_of(" .'") == std::string::npos ? v.key
                                                                                         : quoted;
      return Status::InvalidArgument(file_ + ": " + Where(shown) + ": unknown " +
                                     (v.kind == Kind::kTable ? "section" : "key") +
                                     " (known: " + Joined(known) + ")");
    }
  }
  return Status::OK();
}

namespace {

Status WrongType(const ConfigTable& t, std::string_view where, std::string_view expected,
                 Kind got) {
  return Status::InvalidArgument(t.file() + ": " + std::string(where) + ": expected " +
                                 std::string(expected) + ", not " + std::string(KindName(got)));
}

}  // namespace

Status ConfigTable::Read(std::string_view key, std::string& out) const {
  const ConfigValue* v = Find(key);
  if (v == nullptr) return Status::OK();
  if (v->kind != Kind::kString) return WrongType(*this, Where(key), "a string", v->kind);
  out = v->text;
  return Status::OK();
}

Status ConfigTable::Read(std::string_view key, bool& out) const {
  const ConfigValue* v = Find(key);
  if (v == nullptr) return Status::OK();
  if (v->kind != Kind::kBoolean) {
    return WrongType(*this, Where(key), "a boolean (true or false)", v->kind);
  }
  out = v->boolean;
  return Status::OK();
}

Status ConfigTable::Read(std::string_view key, std::vector<std::string>& out) const {
  const ConfigValue* v = Find(key);
  if (v == nullptr) return Status::OK();
  if (v->kind != Kind::kArray) return WrongType(*this, Where(key), "an array of strings", v->kind);
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const ConfigValue& item = v->items[i];
    if (item.kind != Kind::kString) {
      return WrongType(*this, Where(key) + "[" + std::to_string(i + 1) + "]", "a string",
                       item.kind);
    }
    strings.push_back(item.text);
  }
  out = std::move(strings);
  return Status::OK();
}

Status ConfigTable::ReadInteger(std::string_view key, int64_t& out, int64_t min,
                                int64_t max) const {
  const ConfigValue* v = Find(key);
  if (v == nullptr) return Status::OK();
  if (v->kind != Kind::kInteger) return WrongType(*this, Where(key), "an integer", v->kind);
  if (v->integer < min || v->integer > max) {
    std::string range;
    if (max == std::numeric_limits<int64_t>::max()) {
      range = ">= " + std::to_string(min);
    } else if (min == std::numeric_limits<int64_t>::min()) {
      range = "<= " + std::to_string(max);
    } else {
      range = std::to_string(min) + ".." + std::to_string(max);
    }
    return Bad(key, "must be " + range + ", not " + std::to_string(v->integer));
  }
  out = v->integer;
  return Status::OK();
}

Result<std::optional<ConfigTable>> ConfigTable::Table(std::string_view key) const {
  const ConfigValue* v = Find(key);
  if (v == nullptr) return std::optional<ConfigTable>();
  if (v->kind != Kind::kTable) return WrongType(*this, Where(key), "a table", v->kind);
  return std::optional<ConfigTable>(
      ConfigTable(file_, Where(key), std::shared_ptr<const ConfigValue>(table_, v)));
}

Result<ConfigTable> ConfigTable::Section(std::string_view key) const {
  ASSIGN_OR_RETURN(std::optional<ConfigTable> table, Table(key));
  if (table.has_value()) return std::move(*table);
  static const ConfigValue kEmptyTable;
  return ConfigTable(file_, Where(key), std::shared_ptr<const ConfigValue>(table_, &kEmptyTable));
}

Result<std::vector<ConfigTable>> ConfigTable::Tables(std::string_view key) const {
  std::vector<ConfigTable> out;
  const ConfigValue* v = Find(key);
  if (v == nullptr) return out;
  if (v->kind != Kind::kArray) {
    return WrongType(*this, Where(key), "an array of tables ([[" + std::string(key) + "]])",
                     v->kind);
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const ConfigValue& item = v->items[i];
    const std::string where = Where(key) + "[" + std::to_string(i + 1) + "]";
    if (item.kind != Kind::kTable) return WrongType(*this, where, "a table", item.kind);
    out.push_back(ConfigTable(file_, where, std::shared_ptr<const ConfigValue>(table_, &item)));
  }
  return out;
}

}  // namespace rustorium
