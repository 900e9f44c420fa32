// The learn supervisor (see supervisor.h): fork, a child that installs the
// notifying filter and sends its listener fd back over a socket before it
// execs the command, and a parent loop that answers notifications, reaps
// children and enforces the timeout. The child's one message on stderr (the
// exec failed) is the only output: nothing else can report from there.
#include "learn/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/host_paths.h"

namespace decant {

namespace {

volatile sig_atomic_t g_child_group = 0;

void forward_signal(int sig) {
  if (g_child_group > 0) kill(-g_child_group, sig);
}

// Forwards the signals a user or init sends to decant to the command for
// as long as it lives, then puts the previous handlers back.
class SignalForwarding {
 public:
  explicit SignalForwarding(pid_t group) {
    g_child_group = group;
    struct sigaction sa = {};
    sa.sa_handler = forward_signal;
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~SignalForwarding() {
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &old_[i], nullptr);
    g_child_group = 0;
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> old_{};
};

// Sends fd (or an error text when fd < 0) over the socket.
void send_listener(int sock, int fd, const std::string& err) {
  char tag = fd >= 0 ? 'F' : 'E';
  std::string payload = std::string(1, tag) + err;
  struct iovec iov = {payload.data(), payload.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  (void)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

// Receives what send_listener sent: the fd, or -1 with err filled.
int receive_listener(int sock, std::string& err) {
  struct pollfd p = {sock, POLLIN, 0};
  if (poll(&p, 1, 30000) <= 0) {
    err = "the child did not report its seccomp listener in time";
    return -1;
  }
  char buf[1024];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) {
    err = "the child exited before it could install the learn filter";
    return -1;
  }
  if (buf[0] == 'F') {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        return fd;
      }
    err = "no listener fd arrived";
    return -1;
  }
  err.assign(buf + 1, static_cast<size_t>(n - 1));
  return -1;
}

[[noreturn]] void run_child(const SuperviseOptions& o, int sock) {
  setpgid(0, 0);
  if (!o.shim.empty()) {
    std::string preload = o.shim;
    if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
    setenv("LD_PRELOAD", preload.c_str(), 1);
  }
  setenv("DECANT_PLAN", o.plan.c_str(), 1);
  setenv("DECANT_LEARN", o.records_dir.c_str(), 1);
  unsetenv("DECANT_SHIM_SECCOMP");
  std::vector<char*> argv;
  for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (o.notify) {
    SeccompSpec s = *o.notify;
    s.notify_sendmsg_fd = sock;
    auto fd = load_seccomp_notify(s);
    // From here on every syscall outside the allowlist waits for the parent.
    send_listener(sock, fd ? *fd : -1, fd ? "" : fd.error().message);
    if (fd) close(*fd);
  } else {
    send_listener(sock, -1, "");
  }
  close(sock);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "decant: learn: cannot run %s: %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

// Answers the notifications of one listener (every syscall continues) and
// counts them.
class Listener {
 public:
  explicit Listener(int fd) : fd_(fd) {
    if (fd_ >= 0 && seccomp_notify_alloc(&req_, &resp_) != 0) close_fd();
  }
  ~Listener() {
    close_fd();
    if (req_) seccomp_notify_free(req_, resp_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool open() const { return fd_ >= 0; }
  // Waits up to timeout_ms; true when a notification was handled (call
  // again before reaping: a blocked caller cannot exit).
  bool serve(int timeout_ms, std::map<int, ObservedSyscall>& seen) {
    struct pollfd p = {fd_, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r > 0 && (p.revents & POLLIN)) {
      std::memset(req_, 0, sizeof *req_);
      if (seccomp_notify_receive(fd_, req_) == 0) {
        ObservedSyscall& o = seen[req_->data.nr];
        if (o.count++ == 0) o.first_pid = static_cast<int>(req_->pid);
        std::memset(resp_, 0, sizeof *resp_);
        resp_->id = req_->id;
        resp_->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        seccomp_notify_respond(fd_, resp_);  // ENOENT: the caller died meanwhile
      }
      return true;
    }
    if (r > 0 && (p.revents & (POLLHUP | POLLERR))) close_fd();
    return false;
  }

 private:
  void close_fd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
  struct seccomp_notif* req_ = nullptr;
  struct seccomp_notif_resp* resp_ = nullptr;
};

// Serves the listener and reaps children until none is left; stops the
// command's group when the timeout passes.
void watch(pid_t child, Listener& listener, const SuperviseOptions& o, Supervision& out) {
  auto start = std::chrono::steady_clock::now();
  bool termed = false, killed = false;
  for (;;) {
    if (listener.open()) {
      if (listener.serve(50, out.syscalls)) continue;  // drain before reaping
    } else {
      poll(nullptr, 0, 50);
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
      if (w == child) out.wait_status = st;
    if (w < 0 && errno == ECHILD) break;
    if (o.timeout > 0) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!termed && elapsed > o.timeout) {
        out.notes.push_back(fmt::format("learn: --timeout {:.0f}s reached, stopping the command", o.timeout));
        kill(-child, SIGTERM);
        termed = true;
      } else if (termed && !killed && elapsed > o.timeout + 5) {
        kill(-child, SIGKILL);
        killed = true;
      }
    }
  }
}

}  // namespace

std::string native_arch() {
  struct utsname u;
  return uname(&u) == 0 ? u.machine : "x86_64";
}

Result<RecordsDir> RecordsDir::prepare(const std::string& given) {
  if (given.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmpdir ? tmpdir : "/tmp") + "/decant-learn.XXXXXX";
    if (!mkdtemp(tmpl.data())) return env_error(fmt::format("learn: mkdtemp: {}", std::strerror(errno)));
    return RecordsDir(tmpl, true);
  }
  std::string dir = absolute_path(given);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return env_error(fmt::format("learn: cannot create {}: {}", dir, ec.message()));
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".jsonl")
      return bad_input(fmt::format("learn: {} already holds records; give an empty directory", dir));
  return RecordsDir(dir, false);
}

RecordsDir::~RecordsDir() {
  if (!temporary_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::optional<SeccompSpec>> notify_spec_for(const Profile& profile, std::string* warning) {
  auto base = seccomp_spec_from_profile(profile);
  if (!base) return base.error();
  std::string arch = base->arch, native = native_arch();
  if (arch != native && !(arch == "amd64" && native == "x86_64")) {
    *warning = fmt::format("learn: profile arch {} is not this machine's {}: syscalls not observed", arch, native);
    return std::optional<SeccompSpec>();
  }
  if (seccomp_api_get() < 6) {
    *warning = "learn: libseccomp/kernel without user notification: syscalls not observed";
    return std::optional<SeccompSpec>();
  }
  base->mode = "notify";
  return std::optional<SeccompSpec>(std::move(*base));
}

Result<Supervision> supervise(const SuperviseOptions& o) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return env_error(fmt::format("learn: socketpair: {}", std::strerror(errno)));
  // Daemons that fork into the background become our children again, so
  // learning lasts until the whole process tree is gone.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return env_error(fmt::format("learn: fork: {}", std::strerror(e)));
  }
  if (child == 0) {
    close(sv[0]);
    run_child(o, sv[1]);
  }
  close(sv[1]);
  setpgid(child, child);
  SignalForwarding forwarding(child);

  Supervision out;
  std::string why;
  int fd = receive_listener(sv[0], why);
  close(sv[0]);
  if (fd < 0 && o.notify) out.warnings.push_back("learn: cannot observe syscalls: " + why);
  Listener listener(fd);
  watch(child, listener, o, out);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  return out;
}

std::string syscall_records(const std::string& arch, const std::map<int, ObservedSyscall>& syscalls) {
  std::string out;
  for (const auto& [nr, o] : syscalls) {
    std::string name = syscall_name(arch, nr);
    if (name.empty()) name = fmt::format("syscall_{}", nr);
    nlohmann::ordered_json r;
    r["op"] = "syscall";
    r["name"] = name;
    r["nr"] = nr;
    r["pid"] = o.first_pid;
    r["count"] = o.count;
    out += r.dump() + "\n";
  }
  return out;
}

}  // namespace decant
