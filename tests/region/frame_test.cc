#include "region/rpc/frame.h"

#include <gtest/gtest.h>

#include <random>

namespace rustorium::rpc {
namespace {

Envelope Request(uint64_t id, std::string payload) {
  Envelope e;
  e.set_id(id);
  e.set_kind(REQUEST);
  e.set_method("kv.Get");
  e.set_timeout_ms(250);
  e.set_payload(std::move(payload));
  return e;
}

bool Same(const Envelope& a, const Envelope& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

TEST(Frame, RoundTripWhateverTheChunking) {
  std::mt19937_64 rng(1);
  std::vector<Envelope> sent;
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    Envelope e = Request(i + 1, std::string(rng() % 3000, static_cast<char>(i)));
    if (i % 5 == 0) {
      e.set_kind(ONE_WAY);
      e.set_group_id(rng());
    }
    ASSERT_TRUE(AppendFrame(e, stream).ok());
    sent.push_back(e);
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, stream.size()}) {
    FrameDecoder decoder;
    std::vector<Envelope> got;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      decoder.Feed(std::string_view(stream).substr(at, chunk));
      Envelope e;
      for (;;) {
        auto r = decoder.Next(e);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (!*r) break;
        got.push_back(e);
      }
    }
    ASSERT_EQ(got.size(), sent.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_TRUE(Same(got[i], sent[i])) << i;
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

TEST(Frame, OversizedFrameIsRefusedAtItsHeader) {
  FrameDecoder decoder(/*max_frame_bytes=*/1024);
  // A header announcing 1 MiB: refused before any body byte arrives.
  decoder.Feed(std::string("\x00\x10\x00\x00", 4));
  Envelope e;
  auto r = decoder.Next(e);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  // The decoder stays failed: the connection must be closed.
  std::string good;
  ASSERT_TRUE(AppendFrame(Request(1, "x"), good).ok());
  decoder.Feed(good);
  EXPECT_FALSE(decoder.Next(e).ok());
  // The sender refuses too.
  std::string out;
  EXPECT_TRUE(AppendFrame(Request(1, std::string(2000, 'x')), out, 1024).IsInvalidArgument());
  EXPECT_TRUE(out.empty());
}

TEST(Frame, GarbageAndUnspecifiedKindsAreRefused) {
  {
    FrameDecoder decoder;
    decoder.Feed(std::string("\x00\x00\x00\x03\xff\xff\xff", 7));  // a truncated varint field
    Envelope e;
    EXPECT_TRUE(decoder.Next(e).status().IsCorruption());
  }
  {
    Envelope unspecified;
    unspecified.set_id(9);
    std::string stream;
    ASSERT_TRUE(AppendFrame(unspecified, stream).ok());
    FrameDecoder decoder;
    decoder.Feed(stream);
    Envelope e;
    EXPECT_TRUE(decoder.Next(e).status().IsCorruption());
  }
  {
    Envelope unknown = Request(1, "");
    unknown.set_kind(static_cast<Kind>(42));
    std::string stream;
    ASSERT_TRUE(AppendFrame(unknown, stream).ok());
    FrameDecoder decoder;
    decoder.Feed(stream);
    Envelope e;
    EXPECT_TRUE(decoder.Next(e).status().IsCorruption());
  }
}

TEST(Frame, PartialFrameWaitsForMoreBytes) {
  std::string stream;
  ASSERT_TRUE(AppendFrame(Request(7, "payload"), stream).ok());
  FrameDecoder decoder;
  decoder.Feed(stream.substr(0, stream.size() - 1));
  Envelope e;
  auto r = decoder.Next(e);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  decoder.Feed(stream.substr(stream.size() - 1));
  r = decoder.Next(e);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(e.id(), 7u);
  EXPECT_EQ(e.payload(), "payload");
}

}  // namespace
}  // namespace rustorium::rpc
