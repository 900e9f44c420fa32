// Runs a packaged service under an OCI runtime (see runner.h). The runtime's
// config is always rewritten into a private run directory: absolute rootfs
// and volume paths, the user's arguments, the host's resolv.conf. The
// artifact itself is never modified, so it can be run many times at once.
// A private network namespace is replaced by one decant made, so decant can
// relay the service's ports into it for as long as the container runs.
#include "run/runner.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/magic.h>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "packager/oci_config.h"
#include "run/port_forward.h"
#include "common/fs_tree.h"
#include "packager/tar_writer.h"

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
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Runs `runtime ARGS...` quietly (in the hybrid-mode mount namespace when
// needed) and waits for it.
void runtime_quietly(const std::string& runtime, bool hybrid, std::vector<std::string> args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (hybrid && (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                   ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0))
      ::_exit(1);
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

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return normalize_absolute(p);
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return p;
  return normalize_absolute(std::string(cwd) + "/" + p);
}

std::string which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t i = 0;
  while (i <= dirs.size()) {
    size_t j = dirs.find(':', i);
    if (j == std::string::npos) j = dirs.size();
    std::string cand = dirs.substr(i, j - i) + "/" + name;
    if (j > i && ::access(cand.c_str(), X_OK) == 0) return cand;
    i = j + 1;
  }
  return "";
}

Result<json> read_json(const std::string& path) {
  auto text = read_file(path, 16 << 20);
  if (!text) return text.error();
  try {
    return json::parse(*text);
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
}

std::string cache_root(const RunOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* c = std::getenv("DECANT_CACHE")) return std::string(c) + "/run";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/decant/run";
}

// An OCI layout (directory) -> rootfs unpacked into the cache + the runtime
// config the packager stored in it. Digests are checked on the way.
struct Unpacked {
  std::string dir;  // cache dir holding rootfs/ and volumes/
  json config;
};

Result<std::string> blob_path(const std::string& layout, const std::string& digest) {
  if (digest.compare(0, 7, "sha256:") != 0 || digest.size() != 71)
    return bad_input(fmt::format("{}: unsupported digest {}", layout, digest));
  return layout + "/blobs/sha256/" + digest.substr(7);
}

Result<json> read_blob_json(const std::string& layout, const std::string& digest) {
  auto path = blob_path(layout, digest);
  if (!path) return path.error();
  auto sha = sha256_file(*path);
  if (!sha) return sha.error();
  if ("sha256:" + *sha != digest) return bad_input(fmt::format("{}: blob {} does not match its digest", layout, digest));
  return read_json(*path);
}

Result<Unpacked> unpack_layout(const std::string& layout, const std::string& label, const RunOptions& o) {
  auto index = read_json(layout + "/index.json");
  if (!index) return bad_input(fmt::format("{}: not an OCI image layout (no readable index.json)", label));
  std::string manifest_digest;
  try {
    manifest_digest = index->at("manifests").at(0).at("digest").get<std::string>();
  } catch (const json::exception&) {
    return bad_input(fmt::format("{}: index.json lists no manifest", label));
  }
  auto manifest = read_blob_json(layout, manifest_digest);
  if (!manifest) return manifest.error();
  std::string layer_digest;
  try {
    if (manifest->at("layers").size() != 1)
      return bad_input(fmt::format("{}: {} layers; decant run takes the one-layer images decant writes", label,
                                   manifest->at("layers").size()));
    layer_digest = manifest->at("layers").at(0).at("digest").get<std::string>();
  } catch (const json::exception&) {
    return bad_input(fmt::format("{}: malformed manifest {}", label, manifest_digest));
  }

  Unpacked u;
  u.dir = cache_root(o) + "/" + manifest_digest.substr(7, 16);
  std::string done = u.dir + "/.complete";
  if (!exists(done)) {
    auto layer = blob_path(layout, layer_digest);
    if (!layer) return layer.error();
    auto sha = sha256_file(*layer);
    if (!sha) return sha.error();
    if ("sha256:" + *sha != layer_digest)
      return bad_input(fmt::format("{}: layer {} does not match its digest", label, layer_digest));
    Status s = make_directories(cache_root(o));
    if (!s) return s.error();
    remove_tree(u.dir);
    std::string tmp = u.dir + ".tmp-" + std::to_string(::getpid());
    remove_tree(tmp);
    if (::mkdir(tmp.c_str(), 0755) != 0 || ::mkdir((tmp + "/rootfs").c_str(), 0755) != 0)
      return env_error(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
    s = extract_tar(*layer, tmp + "/rootfs");
    if (!s) {
      remove_tree(tmp);
      return s.error();
    }
    if (::rename(tmp.c_str(), u.dir.c_str()) != 0) {
      remove_tree(tmp);
      return env_error(fmt::format("{}: cannot move into the cache: {}", u.dir, std::strerror(errno)));
    }
    s = write_file_atomic(done, manifest_digest + "\n", Overwrite::Replace);
    if (!s) return s.error();
  }
  std::string runtime_json = u.dir + "/rootfs/.decant/runtime.json";
  if (!exists(runtime_json))
    return bad_input(fmt::format("{}: no /.decant/runtime.json in the image: decant run only runs images written by "
                                 "`decant package` (use podman for others)",
                                 label));
  auto cfg = read_json(runtime_json);
  if (!cfg) return cfg.error();
  u.config = *cfg;
  // Volumes of a cached image start as the image has those directories.
  try {
    for (auto& m : u.config.at("mounts")) {
      if (m.value("type", "") != "bind") continue;
      std::string src = m.value("source", "");
      if (src.empty() || src[0] == '/') continue;
      std::string host = u.dir + "/" + src;
      if (exists(host)) continue;
      Status s = make_directories(host);
      if (!s) return s.error();
      struct stat st;
      if (::stat((u.dir + "/rootfs" + m.value("destination", "")).c_str(), &st) == 0) {
        if (::chown(host.c_str(), st.st_uid, st.st_gid) != 0 || ::chmod(host.c_str(), st.st_mode & 07777) != 0)
          return env_error(fmt::format("{}: cannot set owner: {}", host, std::strerror(errno)));
      }
    }
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed /.decant/runtime.json: {}", label, e.what()));
  }
  return u;
}

Result<Unpacked> unpack_archive(const std::string& archive, const RunOptions& o) {
  // The archive is small next to the rootfs; unpack it whole to a scratch dir.
  Status s = make_directories(cache_root(o));
  if (!s) return s.error();
  std::string tmp = cache_root(o) + "/.archive-" + std::to_string(::getpid());
  remove_tree(tmp);
  if (::mkdir(tmp.c_str(), 0700) != 0) return env_error(fmt::format("{}: {}", tmp, std::strerror(errno)));
  s = extract_tar(archive, tmp);
  if (!s) {
    remove_tree(tmp);
    return bad_input(fmt::format("{}: not an OCI archive ({})", archive, s.error().message));
  }
  auto u = unpack_layout(tmp, archive, o);
  remove_tree(tmp);
  return u;
}

// Explains the runtime failures people meet on real hosts.
void explain_failure(const std::string& runtime, const std::string& tail) {
  auto has = [&](const char* s) { return tail.find(s) != std::string::npos; };
  if (has("hybrid mode"))
    std::fprintf(stderr,
                 "decant: %s refuses hosts whose cgroups are in hybrid mode (v1 controllers plus a cgroup2 mount at "
                 "/sys/fs/cgroup/unified). decant runs it without that mount in a private mount namespace; if this "
                 "still fails, boot with systemd.unified_cgroup_hierarchy=1 or use --runtime runc\n",
                 runtime.c_str());
  else if (has("seccomp") && (has("Invalid argument") || has("not supported")))
    std::fprintf(stderr, "decant: the kernel refused the seccomp filter (CONFIG_SECCOMP_FILTER missing?); package "
                         "with enforcement.seccomp.mode: off to run without it\n");
  else if (has("Operation not permitted") && (has("unshare") || has("clone") || has("mount")))
    std::fprintf(stderr, "decant: the kernel refused to create the container's namespaces or mounts; inside another "
                         "container or without root this needs privileges decant does not have\n");
  else if (has("cgroup"))
    std::fprintf(stderr, "decant: %s could not set up cgroups on this host; see its message above\n", runtime.c_str());
}

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
    std::string p = which(preferred);
    if (p.empty()) return env_error(fmt::format("{} is not installed (scripts/install-deps.sh installs it)", preferred));
    return p;
  }
  for (const char* r : {"crun", "runc"}) {
    std::string p = which(r);
    if (!p.empty()) return p;
  }
  return env_error("no OCI runtime found: install crun or runc (scripts/install-deps.sh installs both)");
}

Result<int> run_container(const RunOptions& o) {
  // 1. What are we running?
  std::string art = absolute(o.artifact);
  if (!exists(art)) return bad_input(fmt::format("{}: no such file or directory", o.artifact));
  json config;
  std::string base;  // directory relative mount sources and rootfs hang off
  if (is_dir(art) && exists(art + "/config.json")) {
    auto c = read_json(art + "/config.json");
    if (!c) return c.error();
    config = *c;
    base = art;
  } else if (is_dir(art) && exists(art + "/oci-layout")) {
    auto u = unpack_layout(art, o.artifact, o);
    if (!u) return u.error();
    config = u->config;
    base = u->dir;
  } else if (!is_dir(art)) {
    auto u = unpack_archive(art, o);
    if (!u) return u.error();
    config = u->config;
    base = u->dir;
  } else if (exists(art + "/meta.tar.xz")) {
    return bad_input(fmt::format("{}: an LXC image; run it with lxc-create -t local -- --metadata {}/meta.tar.xz "
                                 "--fstree {}/rootfs.tar.xz, then lxc-start",
                                 o.artifact, o.artifact, o.artifact));
  } else {
    return bad_input(fmt::format("{}: neither an OCI bundle (config.json) nor an OCI image layout", o.artifact));
  }

  std::vector<Publish> requested;
  for (const auto& spec : o.publish) {
    auto p = parse_publish(spec);
    if (!p) return p.error();
    requested.push_back(*p);
  }
  if (o.stop_timeout < 0) return bad_input("--stop-timeout must be 0 or more seconds");

  // 2. Who runs it?
  if (::geteuid() != 0)
    return env_error("decant run needs root: the runtime creates namespaces, mounts and cgroups "
                     "(rootless runs are not supported yet)");
  auto runtime = find_runtime(o.runtime);
  if (!runtime) return runtime.error();
  std::string runtime_name = path_basename(*runtime);

  // 3. A private runtime config with absolute paths and the user's arguments.
  std::string id;
  try {
    std::string name = config.value("hostname", std::string("service"));
    id = o.id.empty() ? fmt::format("decant-{}-{}", name, ::getpid()) : o.id;
    std::string rootfs = config.at("root").at("path").get<std::string>();
    if (rootfs.empty() || rootfs[0] != '/') config["root"]["path"] = base + "/" + rootfs;
    for (auto& m : config.at("mounts")) {
      if (m.value("type", "") != "bind") continue;
      std::string src = m.value("source", "");
      if (!src.empty() && src[0] != '/') m["source"] = base + "/" + src;
    }
    if (!o.args.empty()) {
      auto& args = config.at("process").at("args");
      json next = json::array({args.at(0)});
      for (const auto& a : o.args) next.push_back(a);
      args = next;
    }
    if (exists("/etc/resolv.conf"))
      config["mounts"].push_back({{"destination", "/etc/resolv.conf"},
                                  {"type", "bind"},
                                  {"source", "/etc/resolv.conf"},
                                  {"options", {"rbind", "ro", "nosuid", "nodev", "noexec"}}});
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", o.artifact, e.what()));
  }

  // 3b. An own network namespace: decant makes it, so it can publish ports.
  json* netns_entry = nullptr;
  std::string recorded_ports;
  bool has_recorded = false;
  try {
    for (auto& ns : config.at("linux").at("namespaces"))
      if (ns.value("type", "") == "network") netns_entry = &ns;
    if (config.contains("annotations") && config["annotations"].contains(kPortsAnnotation)) {
      recorded_ports = config["annotations"][kPortsAnnotation].get<std::string>();
      has_recorded = true;
    }
  } catch (const json::exception& e) {
    return bad_input(fmt::format("{}: malformed runtime config: {}", o.artifact, e.what()));
  }
  if (netns_entry && netns_entry->contains("path")) {
    if (!requested.empty())
      return bad_input(fmt::format("{}: --publish needs a network namespace decant creates, but the runtime config "
                                   "already names one ({})",
                                   o.artifact, netns_entry->value("path", "")));
    netns_entry = nullptr;  // joins an existing namespace: none of decant's business
  } else if (!netns_entry && !requested.empty()) {
    return bad_input(fmt::format("{}: --publish: the service shares the host's network (packaged without --network "
                                 "private), so its ports already are the host's",
                                 o.artifact));
  }
  std::unique_ptr<PortForwarder> forwarder;
  Fd netns;
  if (netns_entry) {
    auto recorded = parse_port_list(recorded_ports);
    if (!recorded)
      return bad_input(fmt::format("{}: annotation {}: {}", o.artifact, kPortsAnnotation, recorded.error().message));
    if (!has_recorded && requested.empty())
      std::fprintf(stderr, "decant: note: the service has its own network namespace but %s records no ports "
                           "(no %s annotation: packaged by an older decant?): nothing is published; name ports with "
                           "--publish\n",
                   o.artifact.c_str(), kPortsAnnotation);
    std::vector<std::string> notes;
    auto plan = publish_plan(*recorded, requested, notes);
    if (!plan) return plan.error();
    for (const auto& n : notes) std::fprintf(stderr, "decant: note: %s\n", n.c_str());
    if (!plan->empty()) {
      auto f = PortForwarder::listen(*plan);
      if (!f) return f.error();
      forwarder = std::move(*f);
    }
    auto fd = create_network_namespace();
    if (!fd) return fd.error();
    netns.fd = *fd;
    // The runtime opens our descriptor through /proc: no bind mount that a
    // killed decant would leave behind.
    (*netns_entry)["path"] = fmt::format("/proc/{}/fd/{}", ::getpid(), netns.fd);
    for (const auto& p : *plan)
      std::fprintf(stderr, "decant: publishing %s:%u -> %u/%s of the service\n", p.host_addr.c_str(),
                   static_cast<unsigned>(p.host_port), static_cast<unsigned>(p.port), p.proto.c_str());
  }
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string run_base = std::string(xdg && *xdg ? xdg : "/run") + "/decant";
  Status s = make_directories(run_base);
  if (!s) return s.error();
  std::string run_dir = run_base + "/" + id;
  if (::mkdir(run_dir.c_str(), 0700) != 0)
    return env_error(fmt::format("{}: cannot create the run directory: {}", run_dir, std::strerror(errno)));
  struct Cleanup {
    std::string dir;
    ~Cleanup() { remove_tree(dir); }
  } cleanup{run_dir};
  s = write_file_atomic(run_dir + "/config.json", config.dump(2), Overwrite::Replace);
  if (!s) return s.error();

  // 4. Start the runtime, working around cgroup hybrid mode for crun.
  bool hybrid = runtime_name == "crun" && cgroup_hybrid_mode();
  if (hybrid)
    std::fprintf(stderr, "decant: note: cgroups are in hybrid mode, which crun refuses; running it in a private mount "
                         "namespace without /sys/fs/cgroup/unified\n");
  std::vector<std::string> argv = {*runtime, "run", "--bundle", run_dir, id};
  if (o.verbose) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "decant: %s\n", line.c_str());
  }
  if (forwarder) {
    s = forwarder->start(netns.fd, o.verbose);
    if (!s) return s.error();
  }
  int wake_pipe[2];
  if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  Fd wake_r{wake_pipe[0]}, wake_w{wake_pipe[1]};
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) return env_error(fmt::format("fork: {}", std::strerror(errno)));
  if (child == 0) {
    ::dup2(err_pipe[1], 2);
    if (hybrid) {
      if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0) {
        std::fprintf(stderr, "decant: cannot hide /sys/fs/cgroup/unified (hybrid mode): %s\n", std::strerror(errno));
        ::_exit(125);
      }
    }
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    std::fprintf(stderr, "decant: cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(125);
  }
  ::close(err_pipe[1]);
  g_child = child;
  g_signals = 0;
  g_wake_fd = wake_w.fd;
  struct sigaction sa{}, old_int{}, old_term{}, old_hup{};
  sa.sa_handler = forward_signal;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  ::sigaction(SIGHUP, &sa, &old_hup);

  // Relay the runtime's (and the service's) stderr, keeping its tail so a
  // failure can be explained.
  std::string tail;
  char buf[4096];
  bool killed = false;
  bool stopping = false;
  struct timespec deadline{};
  for (;;) {
    int timeout = -1;
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
        std::fprintf(stderr, "decant: %s: killing the container\n", why);
        runtime_quietly(*runtime, hybrid, {"kill", "--all", id, "KILL"});
        continue;
      }
      timeout = static_cast<int>(ms);
    }
    struct pollfd fds[2] = {{err_pipe[0], POLLIN, 0}, {wake_r.fd, POLLIN, 0}};
    int r = ::poll(fds, 2, timeout);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds[1].revents) {
      while (::read(wake_r.fd, buf, sizeof buf) > 0) {
      }
    }
    if (!fds[0].revents) continue;
    ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = ::write(2, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += w;
    }
    tail.append(buf, static_cast<size_t>(n));
    if (tail.size() > 8192) tail.erase(0, tail.size() - 8192);
  }
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  g_wake_fd = -1;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);

  // 5. Leave no container state behind, whatever happened: the relay stops
  // and the namespace goes with the last descriptor.
  runtime_quietly(*runtime, hybrid, {"delete", "-f", id});
  if (forwarder) forwarder->stop();
  forwarder.reset();
  if (netns.fd >= 0) ::close(netns.fd);
  netns.fd = -1;

  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) explain_failure(runtime_name, tail);
  return code;
}

}  // namespace decant
