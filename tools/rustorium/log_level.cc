#include "tools/rustorium/log_level.h"

#include <spdlog/cfg/helpers.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <memory>

#include "base/quote.h"

namespace rustorium::tools {

namespace {

constexpr char kKnownLevels[] = "trace, debug, info, warn, error, critical, off";

bool IsLevel(std::string_view name) {
  const std::string lower = [&] {
    std::string s(name);
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
  }();
  // spdlog's own reading: a name it does not know reads as "off".
  return spdlog::level::from_str(lower) != spdlog::level::off || lower == "off";
}

std::string Trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

std::string CheckLogLevels(std::string_view levels) {
  if (Trimmed(levels).empty()) return "no log level given (" + std::string(kKnownLevels) + ")";
  std::size_t start = 0;
  while (start <= levels.size()) {
    const std::size_t comma = std::min(levels.find(',', start), levels.size());
    const std::string_view part = levels.substr(start, comma - start);
    const std::size_t eq = part.find('=');
    const std::string level = Trimmed(eq == std::string_view::npos ? part : part.substr(eq + 1));
    if (!Trimmed(part).empty() && !IsLevel(level)) {
      return QuoteInput(level) + " is not a log level (" + std::string(kKnownLevels) + ")";
    }
    start = comma + 1;
  }
  return "";
}

void RegisterLogLevelFlag(CLI::App& app) {
  auto level = std::make_shared<std::string>();
  app.add_option("--log-level", *level,
                 "Log level: trace, debug, info, warn, error, critical or off (default: "
                 "$SPDLOG_LEVEL, else info)")
      ->check(CLI::Validator([](std::string& value) { return CheckLogLevels(value); }, "LEVEL"));
  app.parse_complete_callback([level] {
    auto logger = std::make_shared<spdlog::logger>(
        "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    spdlog::set_default_logger(logger);
    std::string levels = *level;
    if (levels.empty()) {
      const char* env = ::getenv("SPDLOG_LEVEL");
      if (env != nullptr && *env != '\0') {
        levels = env;
        if (const std::string why = CheckLogLevels(levels); !why.empty())
          throw CLI::ValidationError("SPDLOG_LEVEL", why);
      }
    } else {
      ::setenv("SPDLOG_LEVEL", levels.c_str(), 1);
    }
    spdlog::set_level(spdlog::level::info);
    if (!levels.empty()) spdlog::cfg::helpers::load_levels(levels);
  });
}

}  // namespace rustorium::tools
