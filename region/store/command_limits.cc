#include "region/store/command_limits.h"

#include <string>

namespace rustorium::store {

namespace {

std::string TooLarge(const char* what, std::size_t size, const char* limit_name,
                     std::size_t limit) {
  return std::string(what) + " of " + std::to_string(size) + " bytes exceeds " + limit_name + " " +
         std::to_string(limit);
}

std::string CheckMutation(const Mutation& m, const CommandLimits& limits) {
  if (std::string why = CheckKey(m.key(), limits); !why.empty()) return why;
  if (m.op() != Mutation::PUT && m.op() != Mutation::DELETE) return "unknown mutation";
  if (m.value().size() > limits.max_value_size)
    return TooLarge("value", m.value().size(), "max_value_size", limits.max_value_size);
  return "";
}

}  // namespace

std::string CheckKey(std::string_view key, const CommandLimits& limits) {
  if (key.empty()) return "empty key";
  if (key.size() > limits.max_key_size)
    return TooLarge("key", key.size(), "max_key_size", limits.max_key_size);
  return "";
}

Status CommandLimits::Validate() const {
  auto check = [](const char* name, std::size_t v, std::size_t hard) -> Status {
    if (v == 0 || v > hard) {
      return Status::InvalidArgument(std::string(name) + " must be 1.." + std::to_string(hard) +
                                     ", not " + std::to_string(v));
    }
    return Status::OK();
  };
  RETURN_IF_ERROR(check("max_key_size", max_key_size, kMaxKeySize));
  RETURN_IF_ERROR(check("max_value_size", max_value_size, kMaxValueSize));
  RETURN_IF_ERROR(check("max_mutations", max_mutations, kMaxMutations));
  return check("max_command_bytes", max_command_bytes, kMaxCommandBytes);
}

std::string CheckCommand(const Command& command, std::size_t command_bytes,
                         const CommandLimits& limits) {
  if (command_bytes > limits.max_command_bytes)
    return TooLarge("command", command_bytes, "max_command_bytes", limits.max_command_bytes);
  switch (command.body_case()) {
    case Command::kWrite: {
      const MutationBatch& write = command.write();
      if (write.mutations_size() == 0) return "empty write batch";
      if (static_cast<std::size_t>(write.mutations_size()) > limits.max_mutations) {
        return "write of " + std::to_string(write.mutations_size()) +
               " mutations exceeds max_mutations " + std::to_string(limits.max_mutations);
      }
      for (const Mutation& m : write.mutations()) {
        if (std::string why = CheckMutation(m, limits); !why.empty()) return why;
      }
      return "";
    }
    case Command::kCas: {
      const CompareAndSwap& cas = command.cas();
      if (std::string why = CheckMutation(cas.set(), limits); !why.empty()) return why;
      if (cas.set().key() != cas.key()) return "compare-and-swap sets another key";
      if (cas.expected().size() > limits.max_value_size) {
        return TooLarge("expected value", cas.expected().size(), "max_value_size",
                        limits.max_value_size);
      }
      return "";
    }
    case Command::kSplit:
      // An admin command, proposed by the store itself (store.Split), never through kv.Write.
      return "a split is not a write";
    case Command::BODY_NOT_SET:
      break;
  }
  return "command without a body";
}

}  // namespace rustorium::store
