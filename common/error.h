// The one error convention of decant's libraries (see docs/errors.md): a
// function that can fail returns Result<T> (or Status) carrying either a value
// or an Error with a one-line message and an exit code class. Exceptions are
// thrown only inside parsers and caught at the library's public boundary.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace decant {

// Exit-code classes the CLI maps errors to. Bad input (a file the user gave us
// that is not what it should be) is 2, failures of the environment or of a
// tool decant runs are 1.
enum class ErrorKind { BadInput = 2, Environment = 1 };

struct Error {
  std::string message;  // one line, names the file and the problem
  ErrorKind kind = ErrorKind::BadInput;
};

inline Error bad_input(std::string message) { return Error{std::move(message), ErrorKind::BadInput}; }
inline Error env_error(std::string message) { return Error{std::move(message), ErrorKind::Environment}; }

// The kind of a failed system call, from its errno. A path that is missing,
// of the wrong type or not ours to read is the user's mistake (bad input);
// anything else (EIO, ENOMEM, EMFILE, ENOSPC...) is the machine failing us.
inline ErrorKind errno_kind(int e) {
  switch (e) {
    case ENOENT: case ENOTDIR: case EISDIR: case ELOOP: case ENAMETOOLONG:
    case EACCES: case EPERM: case ENXIO: case ENODEV:
      return ErrorKind::BadInput;
    default:
      return ErrorKind::Environment;
  }
}
// An error about a failed system call whose errno was e.
inline Error errno_error(int e, std::string message) { return Error{std::move(message), errno_kind(e)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  // Requires: ok().
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // Requires: !ok().
  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result for operations that produce nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status success() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace decant
