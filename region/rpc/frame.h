// Framing of rpc.proto's Envelope on a byte stream: a 4-byte big-endian length, then the
// envelope's protobuf encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "region/rpc/rpc.pb.h"

namespace rustorium::rpc {

inline constexpr std::size_t kFrameHeaderBytes = 4;
// The default maximum frame (header excluded): above it a frame is refused.
inline constexpr std::size_t kDefaultMaxFrameBytes = 16 << 20;

// Appends the frame of `envelope` to `out`. InvalidArgument when the encoding exceeds
// `max_frame_bytes` (nothing appended).
Status AppendFrame(const Envelope& envelope, std::string& out,
                   std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

// Splits a byte stream into envelopes. Feed bytes as they arrive, then call Next until it
// yields nothing. After an error the stream is unusable (the connection must be closed): the
// decoder keeps returning that error. Not thread-safe.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  void Feed(std::string_view bytes);

  // The next complete envelope in `out` (true), or false when more bytes are needed.
  // Errors: InvalidArgument for a frame above the maximum (refused as soon as its header is
  // read, before its body arrives), Corruption for a body that is not a valid envelope or
  // whose kind is unspecified or unknown.
  Result<bool> Next(Envelope& out);

  // Bytes received but not yet returned as envelopes.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  Status error_;
};

}  // namespace rustorium::rpc
