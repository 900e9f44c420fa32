// Port publishing for `decant run` (see port_forward.h): parsing of the
// recorded port list and of --publish, the service's network namespace, and
// the relay. The relay is one thread with a poll loop: a connection costs two
// sockets and two 64 KiB buffers, not a process.
#include "run/port_forward.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace decant {

namespace {

bool parse_port(const std::string& s, uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

Result<std::vector<PortSpec>> parse_port_annotation(const std::string& text) {
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return bad_input(fmt::format("not a JSON list of ports: {}", text));
  }
  if (!list.is_array()) return bad_input(fmt::format("not a JSON list of ports: {}", text));
  std::vector<PortSpec> out;
  for (const auto& item : list) {
    PortSpec p;
    bool ok = item.is_object() && item.size() == 2 && item.contains("port") && item["port"].is_number_integer() &&
              item["port"].get<int64_t>() >= 1 && item["port"].get<int64_t>() <= 65535 && item.contains("proto") &&
              (item["proto"] == "tcp" || item["proto"] == "udp");
    if (!ok)
      return bad_input(fmt::format("bad port {} (expected {{\"port\": 1-65535, \"proto\": \"tcp\"|\"udp\"}})",
                                   item.dump()));
    p.port = static_cast<uint16_t>(item["port"].get<int64_t>());
    p.proto = item["proto"].get<std::string>();
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

Result<Publish> parse_publish(const std::string& spec) {
  auto bad = [&] {
    return bad_input(fmt::format("--publish {}: expected [ADDR:]HOSTPORT:PORT[/tcp|/udp] or PORT (ports 1-65535, "
                                 "ADDR an IPv4 address)",
                                 spec));
  };
  Publish p;
  std::string rest = spec;
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    p.proto = rest.substr(slash + 1);
    if (p.proto != "tcp" && p.proto != "udp") return bad();
    rest = rest.substr(0, slash);
  }
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    size_t j = rest.find(':', i);
    parts.push_back(rest.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (parts.size() > 3) return bad();
  if (!parse_port(parts.back(), p.port)) return bad();
  if (parts.size() == 1) {
    p.host_port = p.port;
  } else if (!parse_port(parts[parts.size() - 2], p.host_port)) {
    return bad();
  }
  if (parts.size() == 3) {
    struct in_addr a;
    if (parts[0].empty() || ::inet_pton(AF_INET, parts[0].c_str(), &a) != 1) return bad();
    p.host_addr = parts[0];
  }
  return p;
}

Result<std::vector<Publish>> publish_plan(const std::vector<PortSpec>& recorded,
                                          const std::vector<Publish>& requested, std::vector<std::string>& notes) {
  std::vector<Publish> all;
  std::set<std::pair<uint16_t, std::string>> overridden;
  for (const auto& r : requested) overridden.emplace(r.port, r.proto);
  for (const auto& p : recorded) {
    if (overridden.count({p.port, p.proto})) continue;
    Publish d;
    d.host_port = p.port;
    d.port = p.port;
    d.proto = p.proto;
    all.push_back(d);
  }
  all.insert(all.end(), requested.begin(), requested.end());
  std::vector<Publish> out;
  std::map<std::pair<uint16_t, std::string>, const Publish*> host_side;
  for (const auto& p : all) {
    if (p.proto == "udp") {
      notes.push_back(fmt::format("port {}/udp is not published: decant run relays TCP only", p.port));
      continue;
    }
    auto [it, fresh] = host_side.emplace(std::make_pair(p.host_port, p.proto), &p);
    if (!fresh) {
      if (*it->second == p) continue;
      return bad_input(fmt::format("host port {}/{} is published twice (for container ports {} and {}): give one of "
                                   "them another with --publish HOSTPORT:PORT",
                                   p.host_port, p.proto, it->second->port, p.port));
    }
    out.push_back(p);
  }
  return out;
}

Result<int> create_network_namespace() {
  // Namespaces belong to threads: a short-lived thread makes the namespace,
  // so decant's own sockets and the runtime it forks stay on the host.
  int fd = -1;
  std::string error;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      error = errno == EPERM ? "cannot create a network namespace for the service: not permitted (needs root with "
                               "CAP_SYS_ADMIN; inside another container the host may forbid it)"
                             : fmt::format("cannot create a network namespace for the service: {}", std::strerror(errno));
      return;
    }
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
        (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ::ioctl(s, SIOCSIFFLAGS, &ifr) != 0)) {
      error = fmt::format("cannot bring up the loopback of the service's network namespace: {}", std::strerror(errno));
      if (s >= 0) ::close(s);
      return;
    }
    ::close(s);
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) error = fmt::format("/proc/thread-self/ns/net: {}", std::strerror(errno));
  });
  t.join();
  if (fd < 0) return env_error(error);
  return fd;
}

// ---- the relay ----

namespace {

constexpr size_t kBuf = 64 * 1024;

// One direction of a connection: bytes read from `from` wait in buf until
// `to` takes them; EOF is passed on as shutdown(SHUT_WR) once drained.
struct Flow {
  std::unique_ptr<char[]> buf{new char[kBuf]};
  size_t off = 0, len = 0;
  bool eof = false;   // `from` sent FIN
  bool done = false;  // FIN passed on to `to`
};

struct Conn {
  int outer = -1;  // accepted on the host
  int inner = -1;  // to the service, in the namespace
  uint16_t port = 0;
  bool connecting = true;
  bool tried_v6 = false;
  bool dead = false;
  Flow up;    // outer -> inner
  Flow down;  // inner -> outer
};

struct Listener {
  int fd = -1;
  Publish map;
};

int connect_inner(uint16_t port, bool v6) {
  int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int r;
  if (v6) {
    struct sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    a.sin6_port = htons(port);
    r = ::connect(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a);
  } else {
    struct sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    r = ::connect(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a);
  }
  if (r != 0 && errno != EINPROGRESS) {
    int e = errno;
    ::close(s);
    errno = e;
    return -1;
  }
  return s;
}

// Sends what `f` holds to `to`, then reads more from `from` while it can
// (only when `readable`: poll said so); false when the connection is broken.
bool pump(int from, int to, Flow& f, bool readable) {
  for (;;) {
    if (f.len > 0) {
      ssize_t n = ::send(to, f.buf.get() + f.off, f.len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        return false;
      }
      f.off += static_cast<size_t>(n);
      f.len -= static_cast<size_t>(n);
      if (f.len > 0) return true;
      f.off = 0;
    }
    if (f.eof) {
      if (!f.done) {
        ::shutdown(to, SHUT_WR);
        f.done = true;
      }
      return true;
    }
    if (!readable) return true;
    ssize_t n = ::recv(from, f.buf.get(), kBuf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      f.eof = true;
      continue;
    }
    f.len = static_cast<size_t>(n);
  }
}

}  // namespace

struct PortForwarder::Impl {
  std::vector<Listener> listeners;
  int wake[2] = {-1, -1};
  std::thread thread;
  std::function<void(const std::string&)> trouble;

  ~Impl() {
    for (auto& l : listeners)
      if (l.fd >= 0) ::close(l.fd);
    for (int fd : wake)
      if (fd >= 0) ::close(fd);
  }

  void note(const std::string& msg) const {
    if (trouble) trouble(msg);
  }

  void loop(int netns_fd, std::string& start_error, int ready_fd);

  // The relay's state between polls: connections, and whether accepting
  // pauses because descriptors ran out.
  std::vector<std::unique_ptr<Conn>> conns;
  bool accept_paused = false;
  enum Kind { kWake, kListen, kOuter, kInner };
  struct Slot {
    Kind kind;
    size_t index;
  };
  void build_poll_set(std::vector<struct pollfd>& fds, std::vector<Slot>& slots) const;
  void accept_all(const Listener& l);
  void finish_connect(Conn& c);
  void serve(Conn& c, Kind side, short revents);
  void reap();
  void close_all();
};

PortForwarder::PortForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PortForwarder::~PortForwarder() { stop(); }

Result<std::unique_ptr<PortForwarder>> PortForwarder::listen(const std::vector<Publish>& mappings) {
  auto impl = std::make_unique<Impl>();
  if (::pipe2(impl->wake, O_CLOEXEC | O_NONBLOCK) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  for (const auto& m : mappings) {
    // CLOEXEC: the runtime and the service must never inherit a host port.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return env_error(fmt::format("socket: {}", std::strerror(errno)));
    impl->listeners.push_back({fd, m});
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(m.host_port);
    ::inet_pton(AF_INET, m.host_addr.c_str(), &a.sin_addr);
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0) {
      int e = errno;
      if (e == EADDRINUSE)
        return env_error(fmt::format("cannot publish port {}: {}:{} is already in use on the host (map it elsewhere "
                                     "with --publish HOSTPORT:{})",
                                     m.port, m.host_addr, m.host_port, m.port));
      return env_error(fmt::format("cannot publish port {} on {}:{}: {}", m.port, m.host_addr, m.host_port,
                                   std::strerror(e)));
    }
    if (::listen(fd, 128) != 0)
      return env_error(fmt::format("cannot listen on {}:{}: {}", m.host_addr, m.host_port, std::strerror(errno)));
  }
  return std::unique_ptr<PortForwarder>(new PortForwarder(std::move(impl)));
}

Status PortForwarder::start(int netns_fd, std::function<void(const std::string&)> trouble) {
  impl_->trouble = std::move(trouble);
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return env_error(fmt::format("pipe: {}", std::strerror(errno)));
  std::string error;
  // Signals stay with the main thread, which forwards them to the runtime.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl, netns_fd, &error, w = ready[1]] { impl->loop(netns_fd, error, w); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  char c = 0;
  ssize_t n;
  while ((n = ::read(ready[0], &c, 1)) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (n != 1 || c != 'y') {
    impl_->thread.join();
    return env_error(error.empty() ? std::string("the port relay did not start") : error);
  }
  return Status::success();
}

void PortForwarder::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  char c = 'q';
  while (::write(impl_->wake[1], &c, 1) < 0 && errno == EINTR) {
  }
  impl_->thread.join();
}

void PortForwarder::Impl::loop(int netns_fd, std::string& start_error, int ready_fd) {
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    start_error = fmt::format("cannot join the service's network namespace: {}", std::strerror(errno));
    ::close(ready_fd);
    return;
  }
  // Each connection holds two descriptors; the usual soft limit of 1024
  // would refuse a busy service long before the hard limit.
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  char y = 'y';
  ssize_t ignored = ::write(ready_fd, &y, 1);
  (void)ignored;
  ::close(ready_fd);

  std::vector<struct pollfd> fds;
  std::vector<Slot> slots;
  for (;;) {
    build_poll_set(fds, slots);
    int n = ::poll(fds.data(), fds.size(), accept_paused ? 100 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    accept_paused = false;
    bool quit = false;
    for (size_t k = 0; k < fds.size() && !quit; ++k) {
      short re = fds[k].revents;
      if (re == 0) continue;
      const Slot& slot = slots[k];
      if (slot.kind == kWake)
        quit = true;
      else if (slot.kind == kListen)
        accept_all(listeners[slot.index]);
      else if (!conns[slot.index]->dead)
        serve(*conns[slot.index], slot.kind, re);
    }
    if (quit) break;
    reap();
  }
  close_all();
}

void PortForwarder::Impl::build_poll_set(std::vector<struct pollfd>& fds, std::vector<Slot>& slots) const {
  fds.clear();
  slots.clear();
  fds.push_back({wake[0], POLLIN, 0});
  slots.push_back({kWake, 0});
  if (!accept_paused)
    for (size_t i = 0; i < listeners.size(); ++i) {
      fds.push_back({listeners[i].fd, POLLIN, 0});
      slots.push_back({kListen, i});
    }
  for (size_t i = 0; i < conns.size(); ++i) {
    const Conn& c = *conns[i];
    if (c.connecting) {
      fds.push_back({c.inner, POLLOUT, 0});
      slots.push_back({kInner, i});
      continue;
    }
    short oe = 0, ie = 0;
    if (!c.up.eof && c.up.len == 0) oe |= POLLIN;
    if (c.down.len > 0) oe |= POLLOUT;
    if (!c.down.eof && c.down.len == 0) ie |= POLLIN;
    if (c.up.len > 0) ie |= POLLOUT;
    // A side we want nothing from is left out (fd -1): a half-closed socket
    // reports POLLHUP forever and would spin the loop.
    fds.push_back({oe ? c.outer : -1, oe, 0});
    slots.push_back({kOuter, i});
    fds.push_back({ie ? c.inner : -1, ie, 0});
    slots.push_back({kInner, i});
  }
}

void PortForwarder::Impl::accept_all(const Listener& l) {
  for (;;) {
    int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        note(fmt::format("port {}: cannot accept more connections now: {}", l.map.host_port, std::strerror(errno)));
        accept_paused = true;
      }
      return;
    }
    int in = connect_inner(l.map.port, false);
    if (in < 0) {
      note(fmt::format("port {}: cannot reach the service: {}", l.map.port, std::strerror(errno)));
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->outer = fd;
    c->inner = in;
    c->port = l.map.port;
    conns.push_back(std::move(c));
  }
}

void PortForwarder::Impl::finish_connect(Conn& c) {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(c.inner, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == 0) {
    c.connecting = false;
    return;
  }
  ::close(c.inner);
  c.inner = -1;
  // A service bound only to [::1] or [::] with v6only still answers there.
  if (err == ECONNREFUSED && !c.tried_v6) {
    c.tried_v6 = true;
    c.inner = connect_inner(c.port, true);
  }
  if (c.inner < 0) {
    note(fmt::format("port {}: the service refused the connection: {}", c.port, std::strerror(err)));
    c.dead = true;
  }
}

void PortForwarder::Impl::serve(Conn& c, Kind side, short re) {
  if (c.connecting) {
    finish_connect(c);
    return;
  }
  // A reset loses what is in flight anyway: drop both sides at once.
  if (re & POLLERR) {
    c.dead = true;
    return;
  }
  bool readable = re & (POLLIN | POLLHUP);
  bool ok = side == kOuter ? pump(c.outer, c.inner, c.up, readable) && pump(c.inner, c.outer, c.down, false)
                           : pump(c.inner, c.outer, c.down, readable) && pump(c.outer, c.inner, c.up, false);
  if (!ok || (c.up.done && c.down.done)) c.dead = true;
}

void PortForwarder::Impl::reap() {
  for (size_t i = 0; i < conns.size();) {
    Conn& c = *conns[i];
    if (!c.dead) {
      ++i;
      continue;
    }
    if (c.outer >= 0) ::close(c.outer);
    if (c.inner >= 0) ::close(c.inner);
    conns[i] = std::move(conns.back());
    conns.pop_back();
  }
}

void PortForwarder::Impl::close_all() {
  for (auto& c : conns) {
    if (c->outer >= 0) ::close(c->outer);
    if (c->inner >= 0) ::close(c->inner);
  }
  conns.clear();
  for (auto& l : listeners) {
    ::close(l.fd);
    l.fd = -1;
  }
}

}  // namespace decant
