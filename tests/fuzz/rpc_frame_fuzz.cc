// The RPC frame decoder: bytes from any peer, split at any point. It may refuse, never crash;
// what it accepts re-encodes to a frame that decodes to the same envelope.
#include <string>
#include <string_view>

#include "region/rpc/frame.h"
#include "tests/fuzz/fuzz_driver.h"

using rustorium::rpc::Envelope;
using rustorium::rpc::FrameDecoder;

std::vector<std::string> FuzzSeeds() {
  Envelope e;
  e.set_id(3);
  e.set_kind(rustorium::rpc::REQUEST);
  e.set_method("kv.Put");
  e.set_timeout_ms(100);
  e.set_payload("key=value");
  std::string one, two;
  (void)rustorium::rpc::AppendFrame(e, one);
  e.set_kind(rustorium::rpc::ONE_WAY);
  e.set_group_id(77);
  two = one;
  (void)rustorium::rpc::AppendFrame(e, two);
  return {one, two, std::string("\x00\x00\x00\x00", 4)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FrameDecoder decoder(/*max_frame_bytes=*/4096);
  // Feed in two pieces split at a point chosen by the input itself.
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  decoder.Feed(input.substr(0, split));
  Envelope e;
  for (int piece = 0; piece < 2; ++piece) {
    for (;;) {
      auto r = decoder.Next(e);
      if (!r.ok() || !*r) break;
      std::string again;
      FUZZ_CHECK(rustorium::rpc::AppendFrame(e, again, 4096).ok());
      FrameDecoder check(4096);
      check.Feed(again);
      Envelope e2;
      auto r2 = check.Next(e2);
      FUZZ_CHECK(r2.ok() && *r2);
      FUZZ_CHECK(e2.SerializeAsString() == e.SerializeAsString());
    }
    if (piece == 0) decoder.Feed(input.substr(split));
  }
  return 0;
}
