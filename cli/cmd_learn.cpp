// `decant learn [--profile P] -o OBSERVED -- CMD ARGS...`: runs a command and
// all its descendants with the shim in learn mode (files, binds, connects and
// lookups recorded per process as JSON lines) under a seccomp filter whose
// default action is a user notification, so every syscall outside the static
// allowlist is observed by this supervisor and let through unchanged
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE). The records are merged into the profile
// with observed: evidence; syscalls the static allowlist lacked are printed as
// analyzer misses. The command's own behaviour is not changed by learning,
// except that the shim's redirects from the profile apply.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "cli/command.h"
#include "common/file_util.h"
#include "policy/plan.h"
#include "learn/plan_learn.h"
#include "policy/seccomp.h"

namespace decant {
namespace {

struct LearnArgs {
  std::string profile, output, records, shim, format = "yaml";
  std::vector<std::string> command;
  double timeout = 0;
  bool force = false;
};

volatile sig_atomic_t g_child_group = 0;

void forward_signal(int sig) {
  if (g_child_group > 0) kill(-g_child_group, sig);
}

std::string absolute(const std::string& p) {
  std::error_code ec;
  auto a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

std::string find_shim(const std::string& given) {
  if (!given.empty()) return absolute(given);
  if (const char* e = std::getenv("DECANT_SHIM"); e && *e) return absolute(e);
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  std::string dir = path_dirname(buf);
  for (const std::string& c : {dir + "/libdecant-shim.so", dir + "/../lib/decant/libdecant-shim.so"})
    if (access(c.c_str(), R_OK) == 0) return absolute(c);
  return "";
}

std::string native_arch() {
  struct utsname u;
  return uname(&u) == 0 ? u.machine : "x86_64";
}

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

// The check execvp(3) will make, done before anything is started or
// written, so a mistyped command is an error rather than an empty profile.
bool executable_on_path(const std::string& command) {
  auto runnable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (command.find('/') != std::string::npos) return runnable(command);
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t i = 0; i <= dirs.size();) {
    size_t j = dirs.find(':', i);
    if (j == std::string::npos) j = dirs.size();
    std::string dir = j > i ? dirs.substr(i, j - i) : ".";
    if (runnable(dir + "/" + command)) return true;
    i = j + 1;
  }
  return false;
}

[[noreturn]] void run_child(const LearnArgs& args, const std::string& shim, const std::string& plan,
                            const std::string& records, const SeccompSpec* spec, int sock) {
  setpgid(0, 0);
  std::string preload = shim;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("DECANT_PLAN", plan.c_str(), 1);
  setenv("DECANT_LEARN", records.c_str(), 1);
  unsetenv("DECANT_SHIM_SECCOMP");
  std::vector<char*> argv;
  for (const auto& a : args.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (spec) {
    SeccompSpec s = *spec;
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

struct Observed {
  int first_pid = 0;
  long count = 0;
};

int run_learn(const LearnArgs& args) {
  if (args.command.empty()) return fail(bad_input("learn: no command given (decant learn -o OUT -- CMD ARGS...)"));
  if (!executable_on_path(args.command.front()))
    return fail(bad_input(fmt::format("learn: {}: command not found or not executable", args.command.front())));
  std::string shim = find_shim(args.shim);
  if (shim.empty() || access(shim.c_str(), R_OK) != 0)
    return fail(env_error(fmt::format("learn: cannot find libdecant-shim.so{} (give --shim)",
                                      shim.empty() ? "" : " at " + shim)));
  Profile profile;
  if (!args.profile.empty()) {
    auto p = load_profile(args.profile);
    if (!p) return fail(p.error());
    profile = std::move(*p);
  } else {
    profile.metadata.name = path_basename(args.command[0]);
    profile.metadata.generator = "decant 0.1.0";
    profile.binary.path = args.command[0];
    profile.binary.arch = native_arch();
    profile.entrypoint = args.command;
    profile.syscalls.arch = native_arch();
  }
  if (!args.output.empty() && args.output != "-" && !args.force && access(args.output.c_str(), F_OK) == 0)
    return fail(bad_input(fmt::format("{}: already exists (use --force to replace it)", args.output)));

  // Where the shim writes its records.
  std::string records;
  bool temp_records = args.records.empty();
  if (temp_records) {
    std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/decant-learn.XXXXXX";
    if (!mkdtemp(tmpl.data())) return fail(env_error(fmt::format("learn: mkdtemp: {}", std::strerror(errno))));
    records = tmpl;
  } else {
    records = absolute(args.records);
    std::error_code ec;
    std::filesystem::create_directories(records, ec);
    if (ec) return fail(env_error(fmt::format("learn: cannot create {}: {}", records, ec.message())));
    for (const auto& e : std::filesystem::directory_iterator(records, ec))
      if (e.path().extension() == ".jsonl")
        return fail(bad_input(fmt::format("learn: {} already holds records; give an empty directory", records)));
  }
  auto cleanup = [&] {
    if (temp_records) {
      std::error_code ec;
      std::filesystem::remove_all(records, ec);
    }
  };

  PlanOptions po;
  po.learn = true;
  auto plan = compile_plan(profile, po);
  if (!plan) return cleanup(), fail(plan.error());
  std::string plan_path = records + "/plan";
  if (Status s = write_file_atomic(plan_path, plan->text, Overwrite::Replace); !s) return cleanup(), fail(s.error());

  // The filter that notifies instead of denying.
  std::unique_ptr<SeccompSpec> spec;
  auto base = seccomp_spec_from_profile(profile);
  if (!base) return cleanup(), fail(base.error());
  std::string arch = base->arch;
  if (arch != native_arch() && !(arch == "amd64" && native_arch() == "x86_64")) {
    std::fprintf(stderr, "decant: warning: learn: profile arch %s is not this machine's %s: syscalls not observed\n",
                 arch.c_str(), native_arch().c_str());
  } else if (seccomp_api_get() < 6) {
    std::fprintf(stderr, "decant: warning: learn: libseccomp/kernel without user notification: syscalls not observed\n");
  } else {
    spec = std::make_unique<SeccompSpec>(*base);
    spec->mode = "notify";
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return cleanup(), fail(env_error(fmt::format("learn: socketpair: {}", std::strerror(errno))));
  // Daemons that fork into the background become our children again, so
  // learning lasts until the whole process tree is gone.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) return cleanup(), fail(env_error(fmt::format("learn: fork: {}", std::strerror(errno))));
  if (child == 0) {
    close(sv[0]);
    run_child(args, shim, plan_path, records, spec.get(), sv[1]);
  }
  close(sv[1]);
  setpgid(child, child);
  g_child_group = child;
  struct sigaction sa = {};
  sa.sa_handler = forward_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  std::string why;
  int listener = receive_listener(sv[0], why);
  close(sv[0]);
  if (listener < 0 && spec) {
    std::fprintf(stderr, "decant: warning: learn: cannot observe syscalls: %s\n", why.c_str());
    spec.reset();
  }

  std::map<int, Observed> seen;
  struct seccomp_notif* req = nullptr;
  struct seccomp_notif_resp* resp = nullptr;
  if (listener >= 0 && seccomp_notify_alloc(&req, &resp) != 0) {
    close(listener);
    listener = -1;
  }
  int child_status = 0;
  auto start = std::chrono::steady_clock::now();
  bool termed = false, killed = false;
  for (;;) {
    if (listener >= 0) {
      struct pollfd p = {listener, POLLIN, 0};
      int r = poll(&p, 1, 50);
      if (r > 0 && (p.revents & POLLIN)) {
        std::memset(req, 0, sizeof *req);
        if (seccomp_notify_receive(listener, req) == 0) {
          Observed& o = seen[req->data.nr];
          if (o.count++ == 0) o.first_pid = static_cast<int>(req->pid);
          std::memset(resp, 0, sizeof *resp);
          resp->id = req->id;
          resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
          seccomp_notify_respond(listener, resp);  // ENOENT: the caller died meanwhile
        }
        continue;  // drain before reaping
      }
      if (r > 0 && (p.revents & (POLLHUP | POLLERR))) {
        close(listener);
        listener = -1;
      }
    } else {
      poll(nullptr, 0, 50);
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
      if (w == child) child_status = st;
    if (w < 0 && errno == ECHILD) break;
    if (args.timeout > 0) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!termed && elapsed > args.timeout) {
        std::fprintf(stderr, "decant: learn: --timeout %.0fs reached, stopping the command\n", args.timeout);
        kill(-child, SIGTERM);
        termed = true;
      } else if (termed && !killed && elapsed > args.timeout + 5) {
        kill(-child, SIGKILL);
        killed = true;
      }
    }
  }
  if (listener >= 0) close(listener);
  if (req) seccomp_notify_free(req, resp);
  g_child_group = 0;

  // The supervisor's own records, next to the shim's.
  std::string sup;
  for (const auto& [nr, o] : seen) {
    std::string name = syscall_name(arch, nr);
    if (name.empty()) name = fmt::format("syscall_{}", nr);
    sup += fmt::format("{{\"op\":\"syscall\",\"name\":\"{}\",\"nr\":{},\"pid\":{},\"count\":{}}}\n", name, nr,
                       o.first_pid, o.count);
  }
  if (Status s = write_file_atomic(records + "/supervisor.jsonl", sup, Overwrite::Replace); !s)
    return cleanup(), fail(s.error());

  bool had_allowlist = !profile.syscalls.allow.empty();
  auto summary = merge_learn_dir(records, profile);
  cleanup();
  if (!summary) return fail(summary.error());
  for (const auto& w : summary->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  for (const auto& m : summary->analyzer_misses)
    std::fprintf(stderr,
                 "decant: analyzer miss: syscall '%s' observed in learn mode but missing from the static allowlist\n",
                 m.c_str());
  if (!had_allowlist && !seen.empty())
    std::fprintf(stderr, "decant: note: no static allowlist in the profile; %zu observed syscalls added to syscalls.allow\n",
                 seen.size());
  std::fprintf(stderr, "decant: learn: %zu records from %zu processes, %zu syscalls outside the allowlist\n",
               summary->records, summary->processes, seen.size());
  if (WIFEXITED(child_status) && WEXITSTATUS(child_status) != 0)
    std::fprintf(stderr, "decant: note: the command exited with status %d\n", WEXITSTATUS(child_status));
  else if (WIFSIGNALED(child_status))
    std::fprintf(stderr, "decant: note: the command was killed by signal %d\n", WTERMSIG(child_status));
  ProfileFormat format = args.format == "json" ? ProfileFormat::Json : ProfileFormat::Yaml;
  return emit(serialize(profile, format), args.output, true);
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<LearnArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "learn", "run a command under the shim in learn mode and merge what it did into a profile");
                              cmd->add_option("--profile", args->profile,
                                              "profile to start from (its redirects apply while learning)");
                              cmd->add_option("-o,--output", args->output, "write the merged profile to FILE")
                                  ->required();
                              cmd->add_option("--records", args->records,
                                              "keep the raw JSON-lines records in this (empty) directory");
                              cmd->add_option("--shim", args->shim, "path of libdecant-shim.so (default: next to decant)");
                              cmd->add_option("--format", args->format, "output format: yaml (default) or json")
                                  ->check(CLI::IsMember({"yaml", "json"}));
                              cmd->add_option("--timeout", args->timeout,
                                              "stop the command (SIGTERM, then SIGKILL) after SECONDS");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              cmd->add_option("command", args->command, "command and arguments (after --)")
                                  ->required();
                              return [args] { return run_learn(*args); };
                            },
                            40}};

}  // namespace
}  // namespace decant
