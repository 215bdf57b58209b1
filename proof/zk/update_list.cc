#include "proof/zk/update_list.h"

#include <array>
#include <nlohmann/json.hpp>

namespace rustorium::proof::zk {
namespace {

using json = nlohmann::ordered_json;

constexpr std::array<const char*, 4> kOpNames = {"noop", "insert", "update", "delete"};

Status Bad(const std::string& why) { return Status::Corruption("update list: " + why); }

Result<Fr> ElementField(const json& entry, const char* name, const std::string& where) {
  auto it = entry.find(name);
  if (it == entry.end() || !it->is_string()) {
    return Bad(where + ": \"" + name + "\" must be a string");
  }
  Result<Fr> f = Fr::Parse(it->get<std::string>());
  if (!f.ok()) return Bad(where + ": \"" + name + "\": " + f.status().message());
  return *f;
}

}  // namespace

std::string UpdateListToJson(const BatchShape& shape, std::span<const UpdateWitness> updates) {
  json j;
  j["levels"] = shape.levels;
  j["batch"] = shape.batch;
  j["updates"] = json::array();
  for (const UpdateWitness& u : updates) {
    if (u.op == UpdateOp::kNoop) continue;
    json e;
    e["op"] = kOpNames[static_cast<int>(u.op)];
    e["key"] = u.key.ToDecimal();
    e["old_value"] = u.old_value.ToDecimal();
    e["new_value"] = u.new_value.ToDecimal();
    j["updates"].push_back(std::move(e));
  }
  return j.dump(1);
}

Result<UpdateList> UpdateListFromJson(std::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("not a JSON object");
  for (const char* name : {"levels", "batch"}) {
    if (!j.contains(name) || !j[name].is_number_integer()) {
      return Bad(std::string("\"") + name + "\" must be an integer");
    }
  }
  if (!j.contains("updates") || !j["updates"].is_array()) return Bad("\"updates\" must be a list");
  UpdateList out;
  const int64_t levels = j["levels"].get<int64_t>(), batch = j["batch"].get<int64_t>();
  if (levels < 2 || levels > 241 || batch < 1 || batch > (int64_t{1} << 24)) {
    return Bad("levels must be in 2..241 and batch in 1..2^24");
  }
  out.shape = BatchShape{static_cast<int>(levels), static_cast<int>(batch)};
  const json& list = j["updates"];
  if (list.size() > static_cast<std::size_t>(batch)) {
    return Bad(std::to_string(list.size()) + " updates, more than the batch of " +
               std::to_string(batch));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    const std::string where = "update " + std::to_string(i + 1);
    if (!e.is_object() || !e.contains("op") || !e["op"].is_string()) {
      return Bad(where + ": expected {\"op\", \"key\", \"old_value\", \"new_value\"}");
    }
    UpdateWitness u;
    const std::string op = e["op"].get<std::string>();
    if (op == "insert") {
      u.op = UpdateOp::kInsert;
    } else if (op == "update") {
      u.op = UpdateOp::kUpdate;
    } else if (op == "delete") {
      u.op = UpdateOp::kDelete;
    } else {
      return Bad(where + ": op must be insert, update or delete (no-ops are padding, not listed)");
    }
    ASSIGN_OR_RETURN(u.key, ElementField(e, "key", where));
    ASSIGN_OR_RETURN(u.old_value, ElementField(e, "old_value", where));
    ASSIGN_OR_RETURN(u.new_value, ElementField(e, "new_value", where));
    if (u.op == UpdateOp::kInsert && !u.old_value.IsZero()) {
      return Bad(where + ": an insert's old value must be 0");
    }
    if (u.op == UpdateOp::kDelete && !u.new_value.IsZero()) {
      return Bad(where + ": a delete's new value must be 0");
    }
    out.updates.push_back(std::move(u));
  }
  return out;
}

}  // namespace rustorium::proof::zk
