// The closure-wide half of code analysis (see code_analysis.h): per-object
// summaries in, profile facts out. Objects are summarized in parallel (or
// loaded from the cache); everything program-specific — import binding,
// reachability, evidence paths — happens here and is cheap.
#include "analyzer/code/code_analysis.h"

#include <seccomp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <set>
#include <thread>
#include <cstdio>

#include <fmt/format.h>

#include "analyzer/code/code_cache.h"
#include "analyzer/code/config_hints.h"
#include "analyzer/code/object_summary.h"
#include "common/file_util.h"

namespace decant {

std::string syscall_name_x86_64(int number) {
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, number);
  if (!n) return {};
  std::string s(n);
  std::free(n);
  return s;
}

int syscall_number_x86_64(const std::string& name) {
  return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
}

namespace {

// Syscalls made outside the program's own code paths: by the container
// runtime between installing the filter and exec'ing the program, by the
// kernel on the program's behalf, and by every glibc process start (these
// are also found statically in ld.so and libc; listing them keeps a profile
// correct even when an unusual loader hides them).
struct FixedSyscall {
  const char* name;
  const char* why;
};
const FixedSyscall kRuntimeSyscalls[] = {
    {"execve", "runtime: the container runtime execs the program after installing the filter"},
    {"futex", "runtime: runc's Go runtime may run between installing the filter and execve"},
    {"rt_sigreturn", "runtime: the kernel's signal return path for any installed handler"},
    {"exit", "runtime: thread exit"},
    {"exit_group", "runtime: process exit"},
    {"brk", "runtime: ld.so and malloc initialization"},
    {"arch_prctl", "runtime: ld.so sets up TLS"},
    {"mmap", "runtime: ld.so maps the program's libraries"},
    {"mprotect", "runtime: ld.so applies RELRO"},
    {"munmap", "runtime: ld.so"},
    {"openat", "runtime: ld.so opens libraries"},
    {"read", "runtime: ld.so reads ELF headers"},
    {"pread64", "runtime: ld.so reads program headers"},
    {"close", "runtime: ld.so"},
    {"fstat", "runtime: ld.so"},
    {"newfstatat", "runtime: ld.so (glibc >= 2.33)"},
    {"access", "runtime: ld.so checks /etc/ld.so.preload"},
    {"set_tid_address", "runtime: libc start-up"},
    {"set_robust_list", "runtime: libc start-up"},
    {"rseq", "runtime: libc start-up (glibc >= 2.35)"},
    {"prlimit64", "runtime: libc start-up reads the stack limit"},
    {"rt_sigaction", "runtime: libc start-up"},
    {"rt_sigprocmask", "runtime: libc start-up"},
    {"getrandom", "runtime: malloc start-up (glibc >= 2.36)"},
};

struct Node {
  uint32_t obj, fn;
  bool operator<(const Node& o) const { return obj != o.obj ? obj < o.obj : fn < o.fn; }
};

bool is_glibc_object(const std::string& soname) {
  static const char* names[] = {"libc.so.6", "libpthread.so.0", "ld-linux-x86-64.so.2", "librt.so.1",
                                "libdl.so.2", "libm.so.6", "libresolv.so.2", "libnsl.so.1",
                                "libanl.so.1", "libutil.so.1", "libBrokenLocale.so.1", "libmvec.so.1"};
  for (auto n : names)
    if (soname == n) return true;
  return soname.compare(0, 7, "libnss_") == 0;
}

class ClosureAnalysis {
 public:
  ClosureAnalysis(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& o)
      : root_(root), closure_(closure), p_(p), o_(o) {
    cache_root_ = o.cache_root.empty() ? default_cache_root() : o.cache_root;
  }

  Status run(CodeStats& stats) {
    auto t0 = std::chrono::steady_clock::now();
    summarize(0);
    reach();
    size_t before = closure_.objects.size();
    add_dlopen_libraries();
    if (closure_.objects.size() > before) {
      summarize(before);
      reach();
    }
    fill_syscalls();
    fill_literals();
    fill_hazards();
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats.objects = summaries_.size();
    stats.cache_hits = cache_hits_;
    stats.instructions = disassembled_;
    stats.code_bytes = code_bytes_;
    stats.reachable_functions = reachable_.size();
    for (auto& s : summaries_) stats.total_functions += s.functions.size();
    return Status::success();
  }

 private:
  std::string object_name(size_t i) const {
    const LoadedObject& o = closure_.objects[i];
    if (i == 0) return path_basename(p_.binary.path);
    if (o.elf && !o.elf->soname.empty()) return o.elf->soname;
    return path_basename(o.canonical_path);
  }

  // Summaries for objects [from, end): cache or fresh, in parallel.
  void summarize(size_t from) {
    size_t n = closure_.objects.size();
    summaries_.resize(n);
    std::atomic<size_t> next{from};
    std::atomic<size_t> hits{0};
    std::atomic<uint64_t> insns{0}, bytes{0};
    auto work = [&] {
      for (size_t i = next++; i < n; i = next++) {
        std::string host = root_.host_path(closure_.objects[i].canonical_path);
        const std::string& sha = closure_.objects[i].elf->sha256;  // hashed when the closure read it
        if (o_.use_cache) {
          if (auto cached = load_cached_summary(cache_root_, sha)) {
            summaries_[i] = std::move(*cached);
            ++hits;
            continue;
          }
        }
        auto view = read_code_view(host, closure_.objects[i].canonical_path);
        ObjectSummary s;
        if (!view) s.error = view.error().message;
        else s = summarize_object(*view);
        s.sha256 = sha;
        insns += s.instructions;
        bytes += s.code_bytes;
        if (o_.use_cache) store_cached_summary(cache_root_, s);
        summaries_[i] = std::move(s);
      }
    };
    unsigned threads = o_.threads ? o_.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<unsigned>(threads, static_cast<unsigned>(n - from));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    cache_hits_ += hits;
    disassembled_ += insns;
    code_bytes_ += bytes;
  }

  // Binds an import of object `from` the way ld.so does: the first object
  // in load order defining the name with a compatible version.
  std::optional<Node> bind(const ImportRef& imp) const {
    auto it = exports_.find(imp.name);
    if (it == exports_.end()) return std::nullopt;
    const ExportRef* fallback = nullptr;
    Node fallback_node{};
    for (auto& [obj, idx] : it->second) {
      const ExportRef& e = summaries_[obj].exports[idx];
      bool match = imp.version.empty() ? e.default_version : (e.version == imp.version || e.version.empty());
      if (match) return Node{obj, e.function};
      if (!fallback) {
        fallback = &e;
        fallback_node = Node{obj, e.function};
      }
    }
    if (fallback) return fallback_node;
    return std::nullopt;
  }

  // The data item an import names, when it is a variable holding pointers.
  std::optional<Node> bind_data(const ImportRef& imp) const {
    auto it = data_exports_.find(imp.name);
    if (it == data_exports_.end()) return std::nullopt;
    std::optional<Node> fallback;
    for (auto& [obj, idx] : it->second) {
      const ExportRef& e = summaries_[obj].data_exports[idx];
      bool match = imp.version.empty() ? e.default_version : (e.version == imp.version || e.version.empty());
      if (match) return Node{obj, e.function};
      if (!fallback) fallback = Node{obj, e.function};
    }
    return fallback;
  }

  // Functions reachable from the entry points (docs/code-analysis.md):
  // calls, imports and live data items, to a fixpoint. A data item is live
  // once reachable code refers to it, a live item points to it, or nothing
  // visible refers to it (root_items); its code pointers are then reachable,
  // with the referring function as their parent in evidence paths.
  void reach() {
    exports_.clear();
    data_exports_.clear();
    for (uint32_t o = 0; o < summaries_.size(); ++o) {
      for (uint32_t k = 0; k < summaries_[o].exports.size(); ++k)
        exports_[summaries_[o].exports[k].name].push_back({o, k});
      for (uint32_t k = 0; k < summaries_[o].data_exports.size(); ++k)
        data_exports_[summaries_[o].data_exports[k].name].push_back({o, k});
    }
    reachable_.clear();
    live_items_.clear();
    parent_.clear();
    std::deque<Node> queue;
    const Node none{UINT32_MAX, UINT32_MAX};
    auto visit = [&](Node n, Node from, std::string how) {
      if (!reachable_.insert(n).second) return;
      parent_[n] = {from, std::move(how)};
      queue.push_back(n);
    };
    // Items are walked on their own stack; `from` is the function (or none)
    // that made the first of a chain of items live.
    std::vector<std::tuple<Node, Node, std::string>> items;
    auto visit_item = [&](Node item, Node from, std::string how) {
      if (live_items_.insert(item).second) items.push_back({item, from, std::move(how)});
    };
    auto drain_items = [&] {
      while (!items.empty()) {
        auto [item, from, how] = items.back();
        items.pop_back();
        const ObjectSummary& s = summaries_[item.obj];
        const DataItem& d = s.items[item.fn];
        std::string via = from.obj == UINT32_MAX ? how : fmt::format("via data at {:#x}", d.addr);
        for (uint32_t f : d.functions) visit({item.obj, f}, from, via);
        for (uint32_t t : d.items) visit_item({item.obj, t}, from, how);
        for (uint32_t i : d.imports) {
          if (auto t = bind(s.imports[i])) visit(*t, from, via);
          if (auto t = bind_data(s.imports[i])) visit_item(*t, from, how);
        }
      }
    };
    for (uint32_t o = 0; o < summaries_.size(); ++o) {
      const ObjectSummary& s = summaries_[o];
      const LoadedObject& lo = closure_.objects[o];
      bool runs_entry = o == 0 || lo.found_via == "interpreter";
      if (runs_entry && s.entry_function >= 0)
        visit({o, static_cast<uint32_t>(s.entry_function)}, none, "entry point");
      for (uint32_t r : s.roots) visit({o, r}, none, "init/fini, IRELATIVE resolver or address stored in data");
      for (uint32_t r : s.root_items)
        visit_item({o, r}, none, fmt::format("address stored in data at {:#x} that no visible code reads", s.items[r].addr));
      // Only what dlopen() itself returns is open to dlsym(): the DT_NEEDED
      // libraries a plugin pulls in are ordinary libraries.
      if (dlopen_targets_.count(o)) {
        for (auto& e : s.exports) visit({o, e.function}, none, "export of a dlopen()ed library");
        for (auto& e : s.data_exports) visit_item({o, e.function}, none, "data export of a dlopen()ed library");
      }
      for (uint32_t ri : s.root_imports) {
        std::string how = fmt::format("address of {} stored in data of {}", s.imports[ri].name, object_name(o));
        if (auto t = bind(s.imports[ri])) visit(*t, none, how);
        if (auto t = bind_data(s.imports[ri])) visit_item(*t, none, how);
      }
    }
    drain_items();
    while (!queue.empty()) {
      Node n = queue.front();
      queue.pop_front();
      const ObjectSummary& s = summaries_[n.obj];
      const FunctionSummary& f = s.functions[n.fn];
      for (uint32_t c : f.calls) visit({n.obj, c}, n, "");
      for (uint32_t i : f.imports) {
        if (auto t = bind(s.imports[i])) visit(*t, n, "import");
        if (auto t = bind_data(s.imports[i])) visit_item(*t, n, "");
      }
      for (uint32_t d : f.data) visit_item({n.obj, d}, n, "");
      drain_items();
    }
  }

  std::string node_name(Node n) const {
    return fmt::format("{}:{}", object_name(n.obj), summaries_[n.obj].function_name(n.fn));
  }

  // "libc.so.6:__socket <- redis-server:anetTcpServer <- … <- redis-server:_start (entry point)".
  std::string path_to(Node n) const {
    std::vector<std::string> hops;
    std::string root_how;
    Node cur = n;
    for (int guard = 0; guard < 10000; ++guard) {
      hops.push_back(node_name(cur));
      auto it = parent_.find(cur);
      if (it == parent_.end()) break;
      if (it->second.first.obj == UINT32_MAX) {
        root_how = it->second.second;
        break;
      }
      if (!it->second.second.empty() && it->second.second != "import") hops.back() += " (" + it->second.second + ")";
      cur = it->second.first;
    }
    if (hops.size() > 6) {
      hops.erase(hops.begin() + 3, hops.end() - 2);
      hops.insert(hops.begin() + 3, "…");
    }
    std::string s;
    for (size_t i = 0; i < hops.size(); ++i) s += (i ? " <- " : "") + hops[i];
    if (!root_how.empty()) s += " (" + root_how + ")";
    return s;
  }

  void add_syscall(int nr, const std::string& evidence) {
    std::string name = syscall_name_x86_64(nr);
    if (name.empty()) {
      unresolved_.push_back(fmt::format("static: number {} is not an x86-64 syscall: {}", nr, evidence));
      return;
    }
    auto& ev = evidence_[name];
    if (ev.size() < 2) ev.push_back(evidence);
  }

  void fill_syscalls() {
    for (const Node& n : reachable_) {
      const ObjectSummary& s = summaries_[n.obj];
      const FunctionSummary& f = s.functions[n.fn];
      for (auto& u : f.syscalls) {
        if (evidence_.count(syscall_name_x86_64(u.number)) && evidence_[syscall_name_x86_64(u.number)].size() >= 2)
          continue;
        add_syscall(u.number, fmt::format("static: {}+{:#x} in {}", object_name(n.obj), u.site, path_to(n)));
      }
      for (uint64_t site : f.unresolved)
        unresolved_.push_back(fmt::format("static: syscall number not recovered at {}+{:#x} in {}", object_name(n.obj),
                                          site, path_to(n)));
      // Numbers passed to a syscall()-like function of another object.
      std::set<uint32_t> with_args;
      for (auto& c : f.import_args) {
        auto t = bind(s.imports[c.import]);
        if (!t || summaries_[t->obj].functions[t->fn].number_param != kRdi) continue;
        with_args.insert(c.import);
        for (int64_t v : c.values)
          add_syscall(static_cast<int>(v), fmt::format("static: {}({}) at {}+{:#x} in {}", s.imports[c.import].name, v,
                                                       object_name(n.obj), c.site, path_to(n)));
      }
      for (uint32_t i : f.imports) {
        if (with_args.count(i)) continue;
        auto t = bind(s.imports[i]);
        if (t && summaries_[t->obj].functions[t->fn].number_param != kNoReg && t->obj != n.obj)
          unresolved_.push_back(fmt::format("static: {} called with a non-constant number in {}", s.imports[i].name,
                                            path_to(n)));
      }
    }
    for (auto& fixed : kRuntimeSyscalls) {
      if (syscall_number_x86_64(fixed.name) < 0) continue;
      auto& ev = evidence_[fixed.name];
      ev.push_back(fixed.why);
    }
    p_.syscalls.arch = "x86_64";
    p_.syscalls.allow.clear();
    for (auto& [name, ev] : evidence_) p_.syscalls.allow.push_back(name);
    std::sort(p_.syscalls.allow.begin(), p_.syscalls.allow.end());
    p_.syscalls.evidence = evidence_;
    p_.syscalls.unresolved_sites = unresolved_.size();
    if (!unresolved_.empty()) {
      Evidence ev(unresolved_.begin(), unresolved_.begin() + std::min<size_t>(unresolved_.size(), 20));
      if (unresolved_.size() > 20) ev.push_back(fmt::format("… and {} more", unresolved_.size() - 20));
      p_.syscalls.evidence["(unresolved)"] = ev;
    }
  }

  void add_hazard(const std::string& id, const std::string& severity, const std::string& message,
                  const std::string& evidence) {
    for (auto& h : p_.hazards)
      if (h.id == id) {
        if (h.evidence.size() < 10) h.evidence.push_back(evidence);
        return;
      }
    p_.hazards.push_back({id, severity, message, {evidence}});
  }

  void fill_hazards() {
    for (uint32_t o = 0; o < summaries_.size(); ++o) {
      const ObjectSummary& s = summaries_[o];
      if (!s.error.empty())
        add_hazard("code-not-analyzed", "warning",
                   "machine code of an object could not be analyzed; its syscalls are missing from the allowlist",
                   fmt::format("static: {}: {}", object_name(o), s.error));
      bool glibc = o != 0 && is_glibc_object(object_name(o));
      bool app_static = o == 0 && p_.binary.linkage != "dynamic";
      for (uint32_t f = 0; f < s.functions.size(); ++f) {
        const FunctionSummary& fn = s.functions[f];
        for (uint64_t a : fn.vsyscall)
          add_hazard("vsyscall", "error",
                     "calls the legacy vsyscall page; kernels booted with vsyscall=none (the default on many "
                     "distributions) kill the process",
                     fmt::format("static: {}+{:#x} in {} branches to or loads the vsyscall page", object_name(o), a,
                                 s.function_name(f)));
        if (glibc || app_static || !reachable_.count({o, f})) continue;
        for (uint64_t a : fn.raw_sites) {
          std::string nr;
          for (auto& u : fn.syscalls)
            if (u.site == a) nr = syscall_name_x86_64(u.number);
          add_hazard("raw-syscall", "warning",
                     "the application makes system calls without libc; the LD_PRELOAD shim cannot redirect them "
                     "(the seccomp filter still covers them)",
                     fmt::format("static: syscall instruction at {}+{:#x} in {}{}", object_name(o), a,
                                 s.function_name(f), nr.empty() ? "" : " (" + nr + ")"));
        }
      }
    }
  }

  // Literal facts of reachable functions (or of data alone) become profile facts.
  void fill_literals();
  void add_dlopen_libraries();

  const GuestRoot& root_;
  Closure& closure_;
  Profile& p_;
  const CodeOptions& o_;
  std::string cache_root_;
  std::vector<ObjectSummary> summaries_;
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> exports_;
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> data_exports_;
  std::set<Node> reachable_;
  std::set<Node> live_items_;  // (object, index into items)
  std::set<size_t> app_plugins_;  // objects the program itself dlopen()s
  std::set<size_t> dlopen_targets_;  // objects some dlopen() call names (their exports are roots)
  std::map<Node, std::pair<Node, std::string>> parent_;
  std::map<std::string, Evidence> evidence_;
  std::vector<std::string> unresolved_;
  size_t cache_hits_ = 0;
  uint64_t disassembled_ = 0, code_bytes_ = 0;
};

}  // namespace

// Facts from literals: only the program's own code and its dlopen()ed
// plugins speak for the program; a path inside libcrypto is not a file this
// service needs. Literals of unreachable functions are dropped.
void ClosureAnalysis::fill_literals() {
  static const std::set<std::string> socket_apis{
      "socket", "bind", "listen", "accept", "accept4", "connect", "getaddrinfo", "gethostbyname", "gethostbyname2",
      "gethostbyname_r", "getnameinfo", "gethostbyaddr", "getservbyname", "sendto", "recvfrom", "sendmsg",
      "recvmsg", "send", "recv", "setsockopt", "getsockopt", "getpeername", "getsockname", "shutdown",
      "socketpair", "inet_aton", "inet_addr", "inet_pton", "inet_ntop", "inet_ntoa", "htons", "ntohs"};
  std::set<std::string> apis;
  for (const Node& n : reachable_) {
    if (n.obj != 0) continue;
    const ObjectSummary& s = summaries_[0];
    for (uint32_t i : s.functions[n.fn].imports)
      if (socket_apis.count(s.imports[i].name)) apis.insert(s.imports[i].name);
    if (socket_apis.count(s.functions[n.fn].name)) apis.insert(s.functions[n.fn].name);  // static binaries
  }
  p_.network.apis.assign(apis.begin(), apis.end());
  std::string default_role = apis.count("bind") || apis.count("listen") ? "listen"
                             : apis.count("connect")                    ? "connect"
                                                                        : "listen";
  std::map<std::string, unsigned> services;
  if (auto text = root_.read_file("/etc/services", 4 << 20)) {
    size_t i = 0;
    while (i < text->size()) {
      size_t e = text->find('\n', i);
      if (e == std::string::npos) e = text->size();
      std::string line = text->substr(i, e - i);
      i = e + 1;
      char name[64], proto[16];
      unsigned port;
      if (line.empty() || line[0] == '#') continue;
      if (sscanf(line.c_str(), "%63s %u/%15s", name, &port, proto) == 3 && !services.count(name)) services[name] = port;
    }
  }
  auto add_listen = [&](uint16_t port, const std::string& conf, const std::string& ev) {
    for (auto& l : p_.network.listen)
      if (l.port == port) {
        if (l.evidence.size() < 4) l.evidence.push_back(ev);
        if (conf == "high") l.confidence = conf;
        return;
      }
    ListenFact l;
    l.port = port;
    l.confidence = conf;
    l.evidence = {ev};
    p_.network.listen.push_back(std::move(l));
  };
  auto add_connect = [&](const std::string& host, uint16_t port, const std::string& conf, const std::string& ev) {
    for (auto& c : p_.network.connect)
      if (c.port == port && c.host == host) {
        if (c.evidence.size() < 4) c.evidence.push_back(ev);
        return;
      }
    ConnectFact c;
    c.host = host;
    c.port = port;
    c.confidence = conf;
    c.evidence = {ev};
    p_.network.connect.push_back(std::move(c));
  };
  std::vector<std::pair<std::string, std::string>> hosts;  // host, evidence
  std::vector<std::pair<uint16_t, std::string>> connect_ports;
  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    if (o != 0 && !app_plugins_.count(o)) continue;
    const ObjectSummary& s = summaries_[o];
    for (const LiteralRef& l : s.literals) {
      if (l.function != UINT32_MAX && !reachable_.count({o, l.function})) continue;
      std::string ev = l.evidence;
      if (o != 0 && ev.compare(0, 8, "static: ") == 0) ev = "static: " + object_name(o) + ": " + ev.substr(8);
      switch (l.kind) {
        case LiteralRef::Path: {
          bool merged = false;
          for (auto& f : p_.files)
            if (f.path == l.value) {
              if (l.hint == "write") f.access = "write";
              if (f.evidence.size() < 4) f.evidence.push_back(ev);
              merged = true;
            }
          // A literal names a path the code may use, not one it needs: when
          // the guest has no such file, packaging must not insist on it.
          if (!merged) p_.files.push_back({l.value, l.hint, !root_.exists(l.value), {ev}});
          break;
        }
        case LiteralRef::Service: {
          auto it = services.find(l.value);
          if (it == services.end() || it->second == 0 || it->second > 65535) break;
          ev += fmt::format(" (/etc/services: {} {})", l.value, it->second);
          if (default_role == "connect") connect_ports.push_back({static_cast<uint16_t>(it->second), ev});
          else add_listen(static_cast<uint16_t>(it->second), "medium", ev);
          break;
        }
        case LiteralRef::Port: {
          uint16_t port = static_cast<uint16_t>(std::stoul(l.value));
          std::string role = l.hint.empty() ? default_role : l.hint;
          if (role == "connect") connect_ports.push_back({port, ev});
          else add_listen(port, l.confidence, ev);
          break;
        }
        case LiteralRef::Host:
          // Wildcard and loopback addresses are where a server listens, not
          // a remote peer a migration has to reach.
          if (l.hint == "listen" || l.value == "0.0.0.0" || l.value == "::" || l.value == "::1" ||
              l.value.compare(0, 4, "127.") == 0 || l.value == "localhost")
            break;
          hosts.push_back({l.value, ev});
          break;
        case LiteralRef::Dlopen:
          break;
      }
    }
  }
  // A host and a connect port of the same program belong together when
  // there is one of each; otherwise they are listed apart.
  if (hosts.size() == 1 && connect_ports.size() >= 1) {
    for (auto& [port, pev] : connect_ports) {
      add_connect(hosts[0].first, port, "medium", pev);
      p_.network.connect.back().evidence.push_back(hosts[0].second);
    }
  } else {
    for (auto& [host, ev] : hosts) add_connect(host, 0, "low", ev);
    for (auto& [port, ev] : connect_ports) add_connect("", port, "medium", ev);
  }
  // Ports the program reads from its configuration (config_hints.h).
  if (default_role == "listen" && !apis.empty()) add_config_ports(root_, p_);
}

// Libraries the program loads with dlopen(): names read from the code
// (sonames, absolute paths, plugin directories) and, for glibc's NSS, the
// modules /etc/nsswitch.conf names once a lookup function is reachable.
void ClosureAnalysis::add_dlopen_libraries() {
  std::set<std::string> known;
  for (auto& o : closure_.objects) {
    known.insert(o.canonical_path);
    for (auto& n : o.names) known.insert(n);
    if (o.elf && !o.elf->soname.empty()) known.insert(o.elf->soname);
  }
  std::vector<std::string> dirs = closure_.loader.ld_so_conf_dirs;
  dirs.insert(dirs.end(), closure_.loader.system_dirs.begin(), closure_.loader.system_dirs.end());
  auto find_library = [&](const std::string& name) -> std::string {
    if (name.empty()) return {};
    if (name[0] == '/') {
      auto c = root_.resolve(name);
      return c && root_.is_regular_file(*c) ? *c : std::string();
    }
    for (auto& d : dirs) {
      auto c = root_.resolve(d + "/" + name);
      if (c && root_.is_regular_file(*c)) return *c;
    }
    return {};
  };
  ElfCache elf_cache;
  auto add_library = [&](const std::string& canonical, const std::string& requested, size_t loader,
                         const std::string& evidence) {
    if (known.count(canonical)) {
      // Already loaded (a DT_NEEDED library, say): dlopen() returns it and
      // dlsym() may fetch any of its exports.
      for (size_t k = 0; k < closure_.objects.size(); ++k)
        if (closure_.objects[k].canonical_path == canonical) dlopen_targets_.insert(k);
      return;
    }
    auto elf = elf_cache.get(root_, canonical);
    if (!elf || (*elf)->ident.machine != closure_.objects[0].elf->ident.machine) return;
    Closure sub = resolve_closure(root_, canonical, canonical, *elf, elf_cache);
    for (size_t k = 0; k < sub.objects.size(); ++k) {
      LoadedObject lo = sub.objects[k];
      if (known.count(lo.canonical_path)) continue;
      bool is_plugin = k == 0;
      lo.found_via = "dlopen";
      lo.needed_by = {is_plugin ? closure_.objects[loader].canonical_path : canonical};
      if (is_plugin) lo.names = {requested};
      if (is_plugin && loader == 0) app_plugins_.insert(closure_.objects.size());
      if (is_plugin) dlopen_targets_.insert(closure_.objects.size());
      known.insert(lo.canonical_path);
      Library lib;
      lib.soname = lo.elf->soname.empty() ? path_basename(lo.canonical_path) : lo.elf->soname;
      lib.path = lo.canonical_path;
      lib.opened_as = lo.found_path;
      lib.needed_by = lo.needed_by;
      lib.found_via = "dlopen";
      lib.evidence = {is_plugin ? evidence : fmt::format("static: DT_NEEDED of dlopen()ed {}", canonical)};
      p_.libraries.push_back(std::move(lib));
      closure_.objects.push_back(std::move(lo));
    }
  };

  for (uint32_t o = 0; o < summaries_.size(); ++o) {
    const ObjectSummary& s = summaries_[o];
    bool calls_dlopen = false;
    for (const Node& n : reachable_)
      if (n.obj == o)
        for (uint32_t i : s.functions[n.fn].imports)
          if (s.imports[i].name == "dlopen" || s.imports[i].name == "dlmopen") calls_dlopen = true;
    if (o == 0)
      for (const Node& n : reachable_)
        if (n.obj == 0 && s.functions[n.fn].name == "dlopen") calls_dlopen = true;  // static binaries
    if (!calls_dlopen) continue;
    bool any = false;
    for (const LiteralRef& l : s.literals) {
      if (l.kind != LiteralRef::Dlopen) continue;
      if (l.function != UINT32_MAX && !reachable_.count({o, l.function})) continue;
      std::string ev = fmt::format("static: {}: {}", object_name(o), l.evidence.substr(8));
      if (l.hint == "dir") {
        // Plugin directories only for the program itself: a library's own
        // module directory (PAM, SASL, OpenSSL engines) depends on its
        // configuration, not on its code (docs/code-analysis.md).
        if (o != 0 && !app_plugins_.count(o)) continue;
        auto c = root_.resolve(l.value);
        if (!c || !root_.is_directory(*c)) continue;
        auto entries = root_.list_directory(*c);
        if (!entries) continue;
        size_t added = 0;
        for (auto& e : *entries)
          if (e.size() > 3 && e.compare(e.size() - 3, 3, ".so") == 0 && added < 128) {
            auto lib = find_library(*c + "/" + e);
            if (!lib.empty()) {
              add_library(lib, *c + "/" + e, o, ev + " (plugin directory)");
              ++added;
              any = true;
            }
          }
        continue;
      }
      any = true;
      if (known.count(l.value)) {
        for (size_t k = 0; k < closure_.objects.size(); ++k) {
          const LoadedObject& lo = closure_.objects[k];
          bool named = lo.canonical_path == l.value || (lo.elf && lo.elf->soname == l.value) ||
                       std::find(lo.names.begin(), lo.names.end(), l.value) != lo.names.end();
          if (named) dlopen_targets_.insert(k);
        }
        continue;
      }
      std::string lib = find_library(l.value);
      if (lib.empty()) {
        add_hazard("dlopen-unresolved", "warning",
                   "a library the program loads with dlopen() is not in the guest; the code path using it will fail",
                   fmt::format("{} not found in the guest", ev));
        continue;
      }
      add_library(lib, l.value, o, ev);
    }
    if (!any && !is_glibc_object(object_name(o)))
      add_hazard("dlopen-unresolved", "warning",
                 "the program calls dlopen() with a name computed at run time; the libraries it loads are not in the "
                 "profile (add them by hand or run learn mode)",
                 fmt::format("static: {} calls dlopen() and no library name was found in its code", object_name(o)));
  }

  // glibc NSS modules, loaded by libc on the first user/host lookup.
  static const std::set<std::string> nss_entry{
      "getpwnam", "getpwuid", "getpwnam_r", "getpwuid_r", "getgrnam", "getgrgid", "getgrnam_r", "getgrgid_r",
      "initgroups", "getgrouplist", "getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r",
      "gethostbyname2_r", "gethostbyaddr", "getnameinfo", "getservbyname", "getservbyname_r", "getservbyport",
      "getprotobyname", "getprotobynumber", "getspnam", "getspnam_r", "getpwent", "getgrent", "getspent"};
  std::string trigger;
  for (const Node& n : reachable_) {
    const auto& name = summaries_[n.obj].functions[n.fn].name;
    if (nss_entry.count(name) && is_glibc_object(object_name(n.obj))) {
      trigger = node_name(n);
      break;
    }
  }
  if (trigger.empty()) return;
  auto conf = root_.read_file("/etc/nsswitch.conf", 1 << 20);
  std::string text = conf ? *conf : "passwd: files\ngroup: files\nhosts: files dns\n";
  std::set<std::string> services;
  size_t i = 0;
  while (i < text.size()) {
    size_t e = text.find('\n', i);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(i, e - i);
    i = e + 1;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string rest = line.substr(colon + 1), word;
    for (size_t k = 0; k <= rest.size(); ++k) {
      char c = k < rest.size() ? rest[k] : ' ';
      if (isalnum(static_cast<unsigned char>(c)) || c == '_') word += c;
      else {
        if (c == '[') {  // skip [NOTFOUND=return]
          size_t close = rest.find(']', k);
          k = close == std::string::npos ? rest.size() : close;
        }
        if (!word.empty()) services.insert(word);
        word.clear();
      }
    }
  }
  size_t libc = 0;
  for (size_t k = 0; k < closure_.objects.size(); ++k)
    if (object_name(k) == "libc.so.6") libc = k;
  for (auto& svc : services) {
    std::string name = "libnss_" + svc + ".so.2";
    std::string lib = find_library(name);
    if (!lib.empty())
      add_library(lib, name, libc,
                  fmt::format("static: NSS module for \"{}\" in /etc/nsswitch.conf; {} is reachable", svc, trigger));
  }
}

Status analyze_code(const GuestRoot& root, Closure& closure, Profile& p, const CodeOptions& options,
                    CodeStats* stats) {
  if (!options.enabled || closure.objects.empty()) return Status::success();
  CodeStats local;
  CodeStats& st = stats ? *stats : local;
  ClosureAnalysis a(root, closure, p, options);
  Status result = a.run(st);
  // For bench/code_bench.sh: one line of measurements on stderr.
  if (const char* e = std::getenv("DECANT_CODE_STATS"); e && *e == '1')
    fmt::print(stderr, "code analysis: seconds={:.3f} objects={} cache_hits={} instructions={} code_bytes={} functions={} reachable={}\n",
               st.seconds, st.objects, st.cache_hits, st.instructions, st.code_bytes, st.total_functions,
               st.reachable_functions);
  return result;
}

}  // namespace decant
