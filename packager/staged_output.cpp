// Scratch directories and atomic renames behind staged_output.h.
#include "packager/staged_output.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/fs_tree.h"

namespace decant {

namespace {
// Live scratch directories, for the interrupt handler thread.
std::mutex scratch_mutex;
// Set by the interrupt handler: no new scratch directory from then on.
std::atomic<bool> stopping{false};
std::set<std::string>& live_scratch() {
  static std::set<std::string> dirs;
  return dirs;
}
void untrack_scratch(const std::string& dir) {
  std::lock_guard<std::mutex> lock(scratch_mutex);
  live_scratch().erase(dir);
}
}  // namespace

Result<StagedOutput> StagedOutput::create(const std::string& final_path, bool force) {
  if (final_path.empty()) return bad_input("empty output path");
  std::string path = final_path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  struct stat st;
  if (!force && ::lstat(path.c_str(), &st) == 0)
    return bad_input(fmt::format("{}: already exists (use --force to replace it)", path));
  std::string dir = path_dirname(path);
  if (dir.empty()) dir = ".";
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: output directory {} does not exist", path, dir));
  std::string tmpl = dir + "/." + path_basename(path) + ".decant-tmp-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  {
    // Created and tracked under the handler's lock, so it never misses one;
    // once the process is ending on a signal, none is made (it would stay).
    std::unique_lock<std::mutex> lock(scratch_mutex);
    if (stopping.load()) {
      lock.unlock();
      for (;;) ::pause();
    }
    if (!::mkdtemp(buf.data()))
      return env_error(fmt::format("{}: cannot create a scratch directory in {}: {}", path, dir, std::strerror(errno)));
    live_scratch().insert(buf.data());
  }
  return StagedOutput(path, buf.data(), force);
}


// Removing a tree is not async-signal-safe, so the signals are blocked in
// every thread and one thread waits for them and cleans up in normal context.
void StagedOutput::remove_scratch_on_interrupt() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) return;
      std::lock_guard<std::mutex> lock(scratch_mutex);
      stopping = true;
      // Other threads still run, and one writing a file may recreate the
      // directories above it: remove until three looks 10 ms apart find
      // nothing left.
      for (int quiet = 0, pass = 0; quiet < 3 && pass < 300; ++pass) {
        bool any = false;
        for (const auto& dir : live_scratch())
          if (::access(dir.c_str(), F_OK) == 0) {
            any = true;
            remove_tree(dir);
          }
        quiet = any ? 0 : quiet + 1;
        ::usleep(10000);
      }
      std::fprintf(stderr, "decant: interrupted (%s); nothing was written\n", strsignal(sig));
      _exit(128 + sig);
    }).detach();
  });
}

StagedOutput::StagedOutput(StagedOutput&& o) noexcept
    : final_(std::move(o.final_)), scratch_(std::move(o.scratch_)), force_(o.force_) {
  o.scratch_.clear();
}

StagedOutput::~StagedOutput() {
  if (scratch_.empty()) return;
  remove_tree(scratch_);
  untrack_scratch(scratch_);
}

Status StagedOutput::commit(const std::string& staged) {
  // Without --force the name must still be free: RENAME_NOREPLACE closes the
  // window between our check at start and now.
  if (!force_) {
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) == 0)
      return Status::success();
    if (errno == EEXIST) return bad_input(fmt::format("{}: already exists (use --force to replace it)", final_));
    return env_error(fmt::format("{}: cannot rename into place: {}", final_, std::strerror(errno)));
  }
  // With --force, swap: the old output moves into scratch (removed with it).
  struct stat st;
  if (::lstat(final_.c_str(), &st) != 0) {
    if (::rename(staged.c_str(), final_.c_str()) != 0)
      return env_error(fmt::format("{}: cannot rename into place: {}", final_, std::strerror(errno)));
    return Status::success();
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) == 0)
    return Status::success();  // the old one now sits at `staged`, inside scratch
  std::string old = scratch_ + "/old";
  if (::rename(final_.c_str(), old.c_str()) != 0)
    return env_error(fmt::format("{}: cannot move the old output aside: {}", final_, std::strerror(errno)));
  if (::rename(staged.c_str(), final_.c_str()) != 0) {
    int e = errno;
    ::rename(old.c_str(), final_.c_str());
    return env_error(fmt::format("{}: cannot rename into place: {}", final_, std::strerror(e)));
  }
  return Status::success();
}

}  // namespace decant
