//===- Status.h - Error values for the attnc runtime ------------*- C++ -*-===//
//
// The runtime never throws across its API: every fallible function returns a
// Status (success or an error message) or a Result<T> (a value or an error
// message).  Messages are complete sentences meant for the user, e.g.
// "argument 'k': dim 2 (N) is 17 but 'q' bound N = 16".
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_STATUS_H
#define ATTN_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace attn::rt {

/// Success, or an error with a human-readable message.
class [[nodiscard]] Status {
public:
  /// Returns a success value.
  static Status success() { return Status(); }
  /// Returns an error carrying `message`.
  static Status error(std::string message) {
    Status s;
    s.failed = true;
    s.msg = std::move(message);
    return s;
  }

  bool ok() const { return !failed; }
  explicit operator bool() const { return ok(); }
  /// The error message; empty on success.
  const std::string &message() const { return msg; }

  /// Returns a copy whose message is prefixed with `context` and ": ".
  Status withContext(const std::string &context) const {
    if (ok())
      return *this;
    return error(context + ": " + msg);
  }

private:
  Status() = default;
  bool failed = false;
  std::string msg;
};

/// A value of type T, or an error message.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : val(std::move(value)) {}
  /// Builds an error result; `status` must be an error.
  Result(Status status) : msg(status.message()) {
    assert(!status.ok() && "Result built from a success Status");
    if (msg.empty())
      msg = "unknown error";
  }

  bool ok() const { return val.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return msg; }
  Status status() const {
    return ok() ? Status::success() : Status::error(msg);
  }

  T &operator*() {
    assert(ok());
    return *val;
  }
  const T &operator*() const {
    assert(ok());
    return *val;
  }
  T *operator->() {
    assert(ok());
    return &*val;
  }
  const T *operator->() const {
    assert(ok());
    return &*val;
  }
  /// Moves the value out.
  T take() {
    assert(ok());
    return std::move(*val);
  }

private:
  std::optional<T> val;
  std::string msg;
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_STATUS_H
