// The link-rules parser (region/rpc/link_filter.h): a file's text. It may refuse, never
// crash; what it accepts, written out again, parses to the same rules.
#include <string>
#include <string_view>

#include "region/rpc/link_filter.h"
#include "tests/fuzz/fuzz_driver.h"

using rustorium::rpc::LinkFilter;

std::vector<std::string> FuzzSeeds() {
  return {"drop 127.0.0.1:20162\n", "delay 127.0.0.1:20163 250\n# comment\n\ndrop [::1]:7\n",
          "delay 1.2.3.4:5 x\n"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rules = LinkFilter::Parse(input);
  if (!rules.ok()) return 0;
  std::string again;
  for (const auto& [address, rule] : *rules) {
    if (rule.drop) again += "drop " + address + "\n";
    if (rule.delay.count() > 0)
      again += "delay " + address + " " + std::to_string(rule.delay.count()) + "\n";
  }
  auto reparsed = LinkFilter::Parse(again);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->size() <= rules->size());
  for (const auto& [address, rule] : *reparsed) {
    const auto& original = rules->at(address);
    FUZZ_CHECK(original.drop == rule.drop && original.delay == rule.delay);
  }
  return 0;
}
