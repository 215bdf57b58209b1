// Status and Result<T>: how every Rustorium module reports errors across its boundary.
//
// Nothing throws across a library boundary; functions that can fail return a Status or a
// Result<T>, both [[nodiscard]]. A swallowed error is written out loud with IgnoreError().
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rustorium {

// A code exists only where some caller reacts to it differently from the others.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the caller's input is wrong; retrying the same call cannot help
  kNotFound = 2,            // the thing asked for does not exist
  kCorruption = 3,          // stored or received bytes fail a check
  kIOError = 4,             // the file system or a device failed
  kNotSupported = 5,        // valid request this build or configuration cannot serve
  kFailedPrecondition = 6,  // the system is not in a state that allows the call (wrong key, ...)
  kBusy = 7,                // try again later
  kTimedOut = 8,            // a deadline passed; the outcome may be unknown
  kAborted = 9,             // the operation was cancelled or lost a race
  kInternal = 10,           // a bug: an invariant of ours does not hold
  kPermissionDenied = 11,   // the caller's verified identity may not do this; never retried
};

// Returns the stable lower-case name of a code ("invalid_argument", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status NotSupported(std::string msg) {
    return {StatusCode::kNotSupported, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Busy(std::string msg) { return {StatusCode::kBusy, std::move(msg)}; }
  static Status TimedOut(std::string msg) { return {StatusCode::kTimedOut, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) {
    return {StatusCode::kPermissionDenied, std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }
  bool IsIOError() const { return code_ == StatusCode::kIOError; }
  bool IsFailedPrecondition() const { return code_ == StatusCode::kFailedPrecondition; }
  bool IsPermissionDenied() const { return code_ == StatusCode::kPermissionDenied; }

  // "invalid_argument: key is empty", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("opening /x: ...").
  Status WithContext(std::string_view context) const;

  // Marks an error as deliberately ignored; call sites say why in a comment.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an OK Status without a value");
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Precondition: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace rustorium

#define RUSTORIUM_CONCAT_INNER(a, b) a##b
#define RUSTORIUM_CONCAT(a, b) RUSTORIUM_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::rustorium::Status _rustorium_st = (expr);    \
    if (!_rustorium_st.ok()) return _rustorium_st; \
  } while (0)

// `lhs = value of expr` when expr (a Result) is OK; otherwise returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr)                              \
  auto RUSTORIUM_CONCAT(_rustorium_res_, __LINE__) = (expr);     \
  if (!RUSTORIUM_CONCAT(_rustorium_res_, __LINE__).ok())         \
    return RUSTORIUM_CONCAT(_rustorium_res_, __LINE__).status(); \
  lhs = std::move(RUSTORIUM_CONCAT(_rustorium_res_, __LINE__)).value()
