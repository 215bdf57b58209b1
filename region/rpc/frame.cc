#include "region/rpc/frame.h"

#include "base/codec.h"

namespace rustorium::rpc {

Status AppendFrame(const Envelope& envelope, std::string& out, std::size_t max_frame_bytes) {
  const std::size_t size = envelope.ByteSizeLong();
  if (size > max_frame_bytes) {
    return Status::InvalidArgument("frame of " + std::to_string(size) +
                                   " bytes exceeds the maximum of " +
                                   std::to_string(max_frame_bytes));
  }
  const std::size_t at = out.size();
  PutFixed32BE(out, static_cast<uint32_t>(size));
  out.resize(at + kFrameHeaderBytes + size);
  if (!envelope.SerializeToArray(out.data() + at + kFrameHeaderBytes, static_cast<int>(size))) {
    out.resize(at);
    return Status::Internal("cannot serialize an envelope");
  }
  return Status::OK();
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (!error_.ok()) return;
  // Drop what was consumed before growing, so the buffer holds at most one frame and a bit.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<bool> FrameDecoder::Next(Envelope& out) {
  if (!error_.ok()) return error_;
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return false;
  const std::string_view at = std::string_view(buffer_).substr(consumed_);
  const std::size_t size = GetFixed32BE(at);
  const auto* p = reinterpret_cast<const unsigned char*>(at.data());
  if (size > max_frame_bytes_) {
    error_ = Status::InvalidArgument("frame of " + std::to_string(size) +
                                     " bytes exceeds the maximum of " +
                                     std::to_string(max_frame_bytes_));
    return error_;
  }
  if (available < kFrameHeaderBytes + size) return false;
  out.Clear();
  if (!out.ParseFromArray(p + kFrameHeaderBytes, static_cast<int>(size))) {
    error_ = Status::Corruption("frame is not a valid envelope");
    return error_;
  }
  if (out.kind() == KIND_UNSPECIFIED || !Kind_IsValid(out.kind())) {
    error_ = Status::Corruption("envelope has no valid kind");
    return error_;
  }
  consumed_ += kFrameHeaderBytes + size;
  return true;
}

}  // namespace rustorium::rpc
