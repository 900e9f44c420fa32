// All-or-nothing outputs: a package is built in a scratch directory next to
// its final name and renamed into place only when complete, so a failed or
// interrupted run leaves nothing behind and never clobbers what was there
// unless the user asked for --force.
#pragma once

#include <string>

#include "common/error.h"

namespace decant {

class StagedOutput {
 public:
  // Fails if final_path exists and !force, or its directory is not writable.
  static Result<StagedOutput> create(const std::string& final_path, bool force);
  StagedOutput(StagedOutput&& o) noexcept;
  StagedOutput& operator=(StagedOutput&&) = delete;
  ~StagedOutput();  // removes the scratch directory and everything in it

  // From now on SIGINT, SIGTERM and SIGHUP remove every live scratch
  // directory and end the process (exit 128+signal), so an interrupted
  // package run leaves nothing behind. Call before starting other threads.
  static void remove_scratch_on_interrupt();

  // Scratch directory on the same filesystem as the final path.
  const std::string& scratch() const { return scratch_; }
  // Moves staged (a file or directory inside scratch()) to the final path,
  // replacing an existing one only when force was given.
  Status commit(const std::string& staged);

 private:
  StagedOutput(std::string final_path, std::string scratch, bool force)
      : final_(std::move(final_path)), scratch_(std::move(scratch)), force_(force) {}
  std::string final_, scratch_;
  bool force_ = false;
};

}  // namespace decant
