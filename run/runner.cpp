// Runs a packaged service under an OCI runtime (see runner.h). The runtime's
// config is always rewritten into a private run directory: absolute rootfs
// and volume paths, the user's arguments, the host's resolv.conf. The
// artifact itself is never modified, so it can be run many times at once.
// A private network namespace is replaced by one decant made, so decant can
// relay the service's ports into it for as long as the container runs.
#include "run/runner.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/magic.h>
#include <memory>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/host_paths.h"
#include "packager/init_payload.h"
#include "packager/oci_config.h"
#include "common/fs_tree.h"
#include "packager/staged_output.h"
#include "run/artifact.h"
#include "run/config_check.h"
#include "run/port_forward.h"

namespace decant {

namespace {

using nlohmann::json;

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_signals = 0;
volatile sig_atomic_t g_wake_fd = -1;

// The first signal goes to the runtime, which passes it to the service; a
// service that ignores it (PID 1 without a handler) is killed on the second
// or when the stop timeout runs out. The wake pipe ends the main loop's poll
// whichever thread took the signal.
void forward_signal(int sig) {
  int saved = errno;
  ++g_signals;
  if (g_child > 0 && g_signals == 1) ::kill(g_child, sig);
  if (g_wake_fd >= 0) {
    char c = 's';
    ssize_t ignored = ::write(g_wake_fd, &c, 1);
    (void)ignored;
  }
  errno = saved;
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// DECANT_TRACE_START=1 prints one line per start-up stage on stderr with
// the CLOCK_MONOTONIC time (bench/start_bench.sh's breakdown). snprintf and
// write(2) only, so the runtime's child can trace between clone and exec.
bool g_trace = false;
void trace(const char* stage) {
  if (!g_trace) return;
  struct timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, "decant-start: %lld.%06ld %s\n", static_cast<long long>(t.tv_sec),
                        t.tv_nsec / 1000, stage);
  if (n > 0) {
    ssize_t ignored = ::write(STDERR_FILENO, buf, static_cast<size_t>(n));
    (void)ignored;
  }
}

void note(const RunOptions& o, const std::string& line) {
  if (o.note) o.note(line);
}

// In a forked child about to exec the runtime: crun refuses hybrid mode, so
// it runs in a private mount namespace without the cgroup2 mount. Returns
// errno on failure, 0 on success.
int hide_unified_cgroup() {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0)
    return errno;
  return 0;
}

// Runs `runtime ARGS...` quietly (in the hybrid-mode mount namespace when
// needed) and waits for it.
void runtime_quietly(const std::string& runtime, bool hybrid, std::vector<std::string> args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (hybrid && hide_unified_cgroup() != 0) ::_exit(1);
    std::vector<char*> argv{const_cast<char*>(runtime.c_str())};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(1);
  }
  if (pid > 0)
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

std::string cache_root(const RunOptions& o) { return o.cache_dir.empty() ? cache_dir() + "/run" : o.cache_dir; }

// Explains the runtime failures people meet on real hosts; "" when the
// tail says nothing decant recognizes.
std::string explain_failure(const std::string& runtime, const std::string& tail) {
  auto has = [&](const char* s) { return tail.find(s) != std::string::npos; };
  if (has("hybrid mode"))
    return fmt::format("{} refuses hosts whose cgroups are in hybrid mode (v1 controllers plus a cgroup2 mount at "
                       "/sys/fs/cgroup/unified). decant runs it without that mount in a private mount namespace; if "
                       "this still fails, boot with systemd.unified_cgroup_hierarchy=1 or use --runtime runc",
                       runtime);
  if (has("seccomp") && (has("Invalid argument") || has("not supported")))
    return "the kernel refused the seccomp filter (CONFIG_SECCOMP_FILTER missing?); package with "
           "enforcement.seccomp.mode: off to run without it";
  if (has("Operation not permitted") && (has("unshare") || has("clone") || has("mount")))
    return "the kernel refused to create the container's namespaces or mounts; inside another container or "
           "without root this needs privileges decant does not have";
  if (has("cgroup")) return fmt::format("{} could not set up cgroups on this host; see its message above", runtime);
  return "";
}

// The hostname as part of a container id and run directory name: only
// when it is a plain name.
std::string container_name(const json& config) {
  auto h = config.find("hostname");
  if (h == config.end() || !h->is_string()) return "service";
  std::string name = h->get<std::string>();
  bool plain = !name.empty() && name.size() <= 64 && name[0] != '.' &&
               name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                   std::string::npos;
  return plain ? name : "service";
}

// The artifact's config made runnable from a private directory: absolute
// rootfs and volume paths, the user's arguments, the host's resolv.conf.
// Relative paths were checked to stay inside base (config_check.h) unless
// the artifact is trusted, which then means as given.
Status localize_config(json& config, const std::string& base, const RunOptions& o) {
  try {
    std::string rootfs = config.at("root").at("path").get<std::string>();
    if (rootfs.empty() || rootfs[0] != '/') config["root"]["path"] = base + "/" + rootfs;
    for (auto& m : config.at("mounts")) {
      if (m.value("type", "") != "bind") continue;
      std::string src = m.value("source", "");
      if (!src.empty() && src[0] != '/') m["source"] = base + "/" + src;
    }
    if (!o.args.empty()) {
      auto& args = config.at("process").at("args");
      // The user's arguments replace the service's, after its program:
      // behind /.decant/init that is the word after the init's "--".
      size_t keep = 1;
      if (args.at(0) == "/.decant/init")
        for (size_t i = 1; i + 1 < args.size(); ++i)
          if (args[i] == "--") {
            keep = i + 2;
            break;
          }
      json next = json::array();
      for (size_t i = 0; i < keep; ++i) next.push_back(args.at(i));
      for (const auto& a : o.args) next.push_back(a);
      args = next;
    }
    struct stat st;
    if (::stat("/etc/resolv.conf", &st) == 0)
      config["mounts"].push_back({{"destination", "/etc/resolv.conf"},
                                  {"type", "bind"},
                                  {"source", "/etc/resolv.conf"},
                                  {"options", {"rbind", "ro", "nosuid", "nodev", "noexec"}}});
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", o.artifact, e.what()));
  }
  return Status::success();
}

// What the service's network needs while it runs: decant's namespace and the
// relay into it (both empty when the service shares the host's network or
// joins a namespace named in a trusted config).
struct Network {
  std::unique_ptr<PortForwarder> forwarder;
  Fd netns;
};

// The ports to publish, or an error when --publish cannot apply.
Result<std::vector<Publish>> plan_ports(const json& config, const std::vector<Publish>& requested,
                                        const RunOptions& o) {
  std::vector<PortSpec> recorded;
  bool has_recorded = false;
  try {
    if (config.contains("annotations") && config["annotations"].contains(kPortsAnnotation)) {
      auto r = parse_port_annotation(config["annotations"][kPortsAnnotation].get<std::string>());
      if (!r) return bad_input(fmt::format("{}: annotation {}: {}", o.artifact, kPortsAnnotation, r.error().message));
      recorded = *r;
      has_recorded = true;
    }
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: annotation {} is not a string", o.artifact, kPortsAnnotation));
  }
  if (!has_recorded && requested.empty())
    note(o, fmt::format("note: the service has its own network namespace but {} records no ports (no {} "
                        "annotation: packaged by an older decant?): nothing is published; name ports with --publish",
                        o.artifact, kPortsAnnotation));
  std::vector<std::string> notes;
  auto plan = publish_plan(recorded, requested, notes);
  if (!plan) return plan.error();
  for (const auto& n : notes) note(o, "note: " + n);
  return plan;
}

Result<Network> setup_network(json& config, const std::vector<Publish>& requested, const RunOptions& o) {
  json* entry = nullptr;
  try {
    for (auto& ns : config.at("linux").at("namespaces"))
      if (ns.value("type", "") == "network") entry = &ns;
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", o.artifact, e.what()));
  }
  Network net;
  if (entry && entry->contains("path")) {
    if (!requested.empty())
      return bad_input(fmt::format("{}: --publish needs a network namespace decant creates, but the runtime config "
                                   "already names one ({})",
                                   o.artifact, entry->value("path", "")));
    return net;  // joins an existing namespace (a trusted config): none of decant's business
  }
  if (!entry) {
    if (requested.empty()) return net;
    return bad_input(fmt::format("{}: --publish: the service shares the host's network (packaged without --network "
                                 "private), so its ports already are the host's",
                                 o.artifact));
  }
  auto plan = plan_ports(config, requested, o);
  if (!plan) return plan.error();
  if (!plan->empty()) {
    auto f = PortForwarder::listen(*plan);
    if (!f) return f.error();
    net.forwarder = std::move(*f);
  }
  auto fd = create_network_namespace();
  if (!fd) return fd.error();
  net.netns = Fd(*fd);
  // The runtime opens our descriptor through /proc: no bind mount that a
  // killed decant would leave behind.
  (*entry)["path"] = fmt::format("/proc/{}/fd/{}", ::getpid(), net.netns.fd);
  for (const auto& p : *plan)
    note(o, fmt::format("publishing {}:{} -> {}/{} of the service", p.host_addr, p.host_port, p.port, p.proto));
  return net;
}

// The private run directory holding the rewritten config.json; removed when
// the value goes.
struct RunDir {
  std::string dir;
  RunDir() = default;
  RunDir(RunDir&& o) noexcept : dir(std::move(o.dir)) { o.dir.clear(); }
  RunDir& operator=(RunDir&&) = delete;
  ~RunDir() {
    if (!dir.empty()) remove_tree(dir);
  }
};

Result<RunDir> write_run_dir(const json& config, const std::string& id) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string run_base = std::string(xdg && *xdg ? xdg : "/run") + "/decant";
  Status s = make_directories(run_base);
  if (!s) return s.error();
  RunDir rd;
  std::string dir = run_base + "/" + id;
  if (::mkdir(dir.c_str(), 0700) != 0)
    return env_error(fmt::format("{}: cannot create the run directory: {}", dir, std::strerror(errno)));
  rd.dir = dir;
  s = write_file_atomic(dir + "/config.json", config.dump(2), Overwrite::Replace);
  if (!s) return s.error();
  return rd;
}

// A started runtime: its pid and the read end of its stderr.
struct Started {
  pid_t pid = -1;
  Fd err;
};

// What the runtime's child needs between clone and exec, all prepared
// beforehand: it shares decant's memory, so it only makes system calls.
struct SpawnArgs {
  char** argv;
  int err_w, status_w;
  bool hybrid;
  sigset_t mask;  // decant's signal mask, which the runtime gets back
};

int spawn_child(void* p) {
  auto* a = static_cast<SpawnArgs*>(p);
  ::dup2(a->err_w, 2);
  int stage_errno[2] = {0, 0};
  if (a->hybrid && (stage_errno[1] = hide_unified_cgroup()) != 0) {
    stage_errno[0] = 1;
  } else {
    trace("exec-runtime");
    ::sigprocmask(SIG_SETMASK, &a->mask, nullptr);
    ::execv(a->argv[0], a->argv);
    stage_errno[0] = 2;
    stage_errno[1] = errno;
  }
  ssize_t ignored = ::write(a->status_w, stage_errno, sizeof stage_errno);
  (void)ignored;
  ::_exit(125);
}

// Starts the runtime with stderr into a pipe. A failure before exec (hiding
// the cgroup2 mount, exec itself) comes back over a CLOEXEC pipe as an
// error, so nothing here prints. The child shares decant's memory until it
// execs (CLONE_VM | CLONE_VFORK, as posix_spawn does): copying the page
// tables of a process linked with LIEF, Capstone and libarchive for a fork
// cost more than everything else decant does before the runtime runs.
// Signals stay blocked until the child has its own image, so no handler of
// decant's runs on the shared stack.
Result<Started> start_runtime(const std::vector<std::string>& argv, bool hybrid) {
  int err_pipe[2], status_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  Fd status_r(status_pipe[0]), status_w(status_pipe[1]);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  SpawnArgs args{cargv.data(), err_w.fd, status_w.fd, hybrid, {}};
  std::vector<char> stack(64 * 1024);
  std::fflush(nullptr);
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &args.mask);
  pid_t child = ::clone(spawn_child, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &args.mask, nullptr);
  if (child < 0) return env_error(fmt::format("clone: {}", std::strerror(clone_errno)));
  status_w = Fd();
  err_w = Fd();
  int stage_errno[2];
  ssize_t n;
  while ((n = ::read(status_r.fd, stage_errno, sizeof stage_errno)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof stage_errno)) {
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (stage_errno[0] == 1)
      return env_error(fmt::format("cannot hide /sys/fs/cgroup/unified (hybrid mode): {}",
                                   std::strerror(stage_errno[1])));
    return env_error(fmt::format("cannot run {}: {}", argv[0], std::strerror(stage_errno[1])));
  }
  return Started{child, std::move(err_r)};
}

// Relays the runtime's (and the service's) stderr until it closes, keeping
// its tail so a failure can be explained, and stops the container on
// signals (see forward_signal). Returns the tail.
// The learn records directory (RunOptions::learn_dir) bound into the
// container and named to the shim.
void add_learn_mount(json& config, const RunOptions& o) {
  config["mounts"].push_back({{"destination", kLearnMountPoint},
                              {"type", "bind"},
                              {"source", o.learn_dir},
                              {"options", {"rbind", "rw", "nosuid", "nodev", "noexec"}}});
  json& env = config["process"]["env"];
  json kept = json::array();
  for (const auto& e : env)
    if (!e.is_string() || e.get<std::string>().rfind("DECANT_LEARN=", 0) != 0) kept.push_back(e);
  kept.push_back(std::string("DECANT_LEARN=") + kLearnMountPoint);
  env = kept;
}

// RunOptions::workload, in its own process group so that it can be ended
// with everything it started when the service stops first.
Result<pid_t> start_workload(const std::string& command) {
  pid_t pid = ::fork();
  if (pid < 0) return env_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

// What ends a run besides the service itself: the stop-after time, the
// workload's end. Checked on every pass of supervise's loop.
struct StopWhen {
  struct timespec started{};
  double after = 0;
  pid_t workload = -1;
  int workload_status = -1;

  // Milliseconds until the next check (-1: none needed).
  int poll_ms() const { return after > 0 || workload > 0 ? 200 : -1; }
  // True once the service should be stopped.
  bool due(const RunOptions& o) {
    if (workload > 0) {
      int st = 0;
      if (::waitpid(workload, &st, WNOHANG) == workload) {
        workload = -1;
        workload_status = st;
        note(o, "note: the workload ended; stopping the service");
        return true;
      }
    }
    if (after <= 0) return false;
    struct timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (static_cast<double>(now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9 < after) return false;
    after = 0;
    note(o, "note: the time given ran out; stopping the service");
    return true;
  }
  // The service ended first: the workload has nothing left to talk to.
  void end_workload() {
    if (workload <= 0) return;
    ::kill(-workload, SIGTERM);
    while (::waitpid(workload, &workload_status, 0) < 0 && errno == EINTR) {
    }
    workload = -1;
  }
};

std::string supervise(int err_fd, int wake_fd, const std::string& runtime, bool hybrid, const std::string& id,
                      const RunOptions& o, StopWhen& stop_when) {
  std::string tail;
  char buf[4096];
  bool killed = false, stopping = false;
  struct timespec deadline{};
  for (;;) {
    int timeout = stop_when.poll_ms();
    if (g_signals == 0 && stop_when.due(o)) {
      g_signals = 1;
      if (g_child > 0) ::kill(g_child, SIGTERM);
    }
    if (g_signals >= 1 && !killed) {
      struct timespec now;
      ::clock_gettime(CLOCK_MONOTONIC, &now);
      if (!stopping) {
        stopping = true;
        deadline = now;
        deadline.tv_sec += o.stop_timeout;
      }
      long ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
      const char* why = g_signals >= 2 ? "second signal" : ms <= 0 ? "the service did not stop in time" : nullptr;
      if (why) {
        killed = true;
        note(o, fmt::format("{}: killing the container", why));
        runtime_quietly(runtime, hybrid, {"kill", "--all", id, "KILL"});
        continue;
      }
      timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
    }
    struct pollfd fds[2] = {{err_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int r = ::poll(fds, 2, timeout);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds[1].revents)
      while (::read(wake_fd, buf, sizeof buf) > 0) {
      }
    if (!fds[0].revents) continue;
    ssize_t n = ::read(err_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // The service's own output, passed through as it comes.
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(STDERR_FILENO, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += w;
    }
    tail.append(buf, static_cast<size_t>(n));
    if (tail.size() > 8192) tail.erase(0, tail.size() - 8192);
  }
  return tail;
}

struct RuntimeExit {
  int status = 0;            // the runtime's wait status
  std::string tail;          // the end of its stderr
  int workload_status = -1;  // RunOptions::workload's, -1 when none ran
};

// Runs the runtime on the prepared run directory until it exits.
Result<RuntimeExit> run_runtime(const std::string& runtime, bool hybrid, const std::string& run_dir,
                                                const std::string& id, Network& net, const RunOptions& o) {
  std::vector<std::string> argv = {runtime, "run", "--bundle", run_dir, id};
  if (o.verbose) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    note(o, line);
  }
  if (net.forwarder) {
    Status s = net.forwarder->start(net.netns.fd, o.verbose ? o.note : NoteSink());
    if (!s) return s.error();
  }
  int wake_pipe[2];
  if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  Fd wake_r(wake_pipe[0]), wake_w(wake_pipe[1]);
  auto started = start_runtime(argv, hybrid);
  if (!started) return started.error();
  g_wake_fd = wake_w.fd;
  g_child = started->pid;
  // A stop that came while the run was being prepared (SignalGuard held it).
  if (g_signals > 0) ::kill(started->pid, SIGTERM);
  StopWhen stop_when;
  ::clock_gettime(CLOCK_MONOTONIC, &stop_when.started);
  stop_when.after = o.stop_after;
  if (!o.workload.empty()) {
    auto w = start_workload(o.workload);
    if (!w) {
      ::kill(started->pid, SIGTERM);
      note(o, w.error().message);
    } else {
      stop_when.workload = *w;
    }
  }
  RuntimeExit exit;
  exit.tail = supervise(started->err.fd, wake_r.fd, runtime, hybrid, id, o, stop_when);
  while (::waitpid(started->pid, &exit.status, 0) < 0 && errno == EINTR) {
  }
  stop_when.end_workload();
  exit.workload_status = stop_when.workload_status;
  g_child = 0;
  g_wake_fd = -1;
  return exit;
}

// From the run directory's creation until it and the container are gone,
// INT, TERM and HUP are forwarded to the runtime (or held while there is
// none yet) instead of ending decant half-way: a stop arriving between the
// runtime's exit and `delete -f` used to leave /run/decant/<id> behind.
class SignalGuard {
 public:
  SignalGuard() {
    g_signals = 0;
    struct sigaction sa{};
    sa.sa_handler = forward_signal;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    ::sigaction(SIGHUP, &sa, &old_hup_);
  }
  ~SignalGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_int_{}, old_term_{}, old_hup_{};
};

}  // namespace

bool cgroup_hybrid_mode() {
  struct statfs root, unified;
  if (::statfs("/sys/fs/cgroup", &root) != 0 || root.f_type == CGROUP2_SUPER_MAGIC) return false;
  return ::statfs("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC;
}

Result<std::string> find_runtime(const std::string& preferred) {
  if (!preferred.empty()) {
    if (preferred != "crun" && preferred != "runc")
      return bad_input(fmt::format("unknown runtime {} (crun or runc)", preferred));
    std::string p = find_executable(preferred);
    if (p.empty()) return env_error(fmt::format("{} is not installed (scripts/install-deps.sh installs it)", preferred));
    return p;
  }
  for (const char* r : {"crun", "runc"}) {
    std::string p = find_executable(r);
    if (!p.empty()) return p;
  }
  return env_error("no OCI runtime found: install crun or runc (scripts/install-deps.sh installs both)");
}

Result<int> run_container(const RunOptions& o) {
  auto outcome = run_container_outcome(o);
  if (!outcome) return outcome.error();
  return outcome->code;
}

Result<std::string> artifact_profile(const std::string& artifact, const std::string& cache_dir) {
  RunOptions o;
  o.cache_dir = cache_dir;
  auto art = open_artifact(artifact, artifact, cache_root(o));
  if (!art) return art.error();
  std::string rootfs;
  try {
    rootfs = art->config.at("root").at("path").get<std::string>();
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", artifact, e.what()));
  }
  if (rootfs.empty() || rootfs[0] != '/') rootfs = art->base + "/" + rootfs;
  std::string path = rootfs + "/.decant/profile.json";
  if (::access(path.c_str(), F_OK) != 0)
    return bad_input(fmt::format("{}: carries no decant profile (/.decant/profile.json): not made by decant", artifact));
  return read_file(path);
}

int effective_stop_timeout(int given, const json& config) {
  if (given >= 0) return given;
  std::vector<std::string> args;
  if (config.is_object() && config.contains("process") && config["process"].is_object() &&
      config["process"].contains("args") && config["process"]["args"].is_array())
    for (const auto& a : config["process"]["args"])
      if (a.is_string()) args.push_back(a.get<std::string>());
  int grace = runtime_stop_grace(args);
  return grace ? grace : kInitStopTimeout;
}

Result<RunOutcome> run_container_outcome(const RunOptions& options) {
  RunOptions o = options;  // its stop timeout resolved against the artifact below
  const char* tr = std::getenv("DECANT_TRACE_START");
  g_trace = tr && *tr && std::strcmp(tr, "0") != 0;
  trace("run");
  // 1. What are we running, and may it run as it asks?
  std::vector<Publish> requested;
  for (const auto& spec : o.publish) {
    auto p = parse_publish(spec);
    if (!p) return p.error();
    requested.push_back(*p);
  }
  if (o.stop_timeout < -1) return bad_input("--stop-timeout must be 0 or more seconds");
  auto art = open_artifact(o.artifact, o.artifact, cache_root(o));
  if (!art) return art.error();
  // Unless the user gave one: the artifact's decant-init grace and a margin,
  // so that the init's SIGKILL comes first and its exit status is the run's.
  o.stop_timeout = effective_stop_timeout(o.stop_timeout, art->config);
  trace("opened");
  Status s = o.trust_bundle ? Status::success() : check_runtime_config(art->config, art->base, o.artifact);
  if (!s) return s.error();

  // 2. Who runs it?
  if (::geteuid() != 0)
    return env_error("decant run needs root: the runtime creates namespaces, mounts and cgroups "
                     "(rootless runs are not supported yet)");
  trace("checked");
  s = prepare_volumes(*art, o.artifact);
  if (!s) return s.error();
  if (o.trust_bundle)
    note(o, fmt::format("note: --trust-bundle: running {} with its runtime config unchecked", o.artifact));
  auto runtime = find_runtime(o.runtime);
  if (!runtime) return runtime.error();
  std::string runtime_name = path_basename(*runtime);

  // 3. A private runtime config with absolute paths, the user's arguments
  //    and, for an own network namespace, decant's namespace and relay.
  json& config = art->config;
  s = localize_config(config, art->base, o);
  if (!s) return s.error();
  if (!o.learn_dir.empty()) add_learn_mount(config, o);
  std::string id = o.id.empty() ? fmt::format("decant-{}-{}", container_name(config), ::getpid()) : o.id;
  auto net = setup_network(config, requested, o);
  if (!net) return net.error();
  SignalGuard signals;  // declared before run_dir: it outlives the run directory's removal
  auto run_dir = write_run_dir(config, id);
  if (!run_dir) return run_dir.error();
  trace("prepared");

  // 4. Start the runtime, working around cgroup hybrid mode for crun.
  bool hybrid = runtime_name == "crun" && cgroup_hybrid_mode();
  if (hybrid)
    note(o, "note: cgroups are in hybrid mode, which crun refuses; running it in a private mount namespace without "
            "/sys/fs/cgroup/unified");
  auto ran = run_runtime(*runtime, hybrid, run_dir->dir, id, *net, o);

  // 5. Leave no container state behind, whatever happened: the relay stops
  //    and the namespace goes with the last descriptor.
  runtime_quietly(*runtime, hybrid, {"delete", "-f", id});
  if (net->forwarder) net->forwarder->stop();
  net->forwarder.reset();
  net->netns = Fd();
  if (!ran) return ran.error();

  int status = ran->status;
  RunOutcome outcome;
  outcome.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.workload_status = ran->workload_status;
  if (outcome.code != 0) {
    std::string why = explain_failure(runtime_name, ran->tail);
    if (!why.empty()) note(o, why);
  }
  return outcome;
}

}  // namespace decant
