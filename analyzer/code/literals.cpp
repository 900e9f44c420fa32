// Literal facts of one object: strings its code references (paths, host
// names, port strings, dlopen names, service names) and port numbers stored
// as immediates into a sockaddr. A literal is attributed to the function
// whose instruction references it, so the closure step can keep only facts
// of reachable code; the function's callees (two levels) tell what the
// literal is for: a host name near gethostbyname(), a port near bind().
#include <arpa/inet.h>
#include <elf.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "analyzer/code/literals.h"
#include "common/text.h"

namespace decant {

namespace {

bool printable(const std::string& s) {
  if (s.size() < 2 || s.size() > 512) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

bool starts_with(const std::string& s, const char* p) { return s.compare(0, strlen(p), p) == 0; }

// A configuration carried as text rather than a message: printable lines,
// at least eight, three in four of them short (a directive and a value or
// two, a brace) and not ending like prose or a usage line. A usage text's
// "-p <num>   TCP port (default: 11211)" has too many words to pass.
}  // namespace

bool is_config_text(const std::string& s) {
  if (s.size() < 64) return false;
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c >= 0x7f) return false;
  size_t lines_seen = 0, shaped = 0;
  for (std::string_view raw : lines(s)) {
    std::string line = trim(std::string(raw));
    if (line.empty()) continue;
    ++lines_seen;
    size_t words = 0;
    for (size_t at = 0; (at = line.find_first_not_of(" \t", at)) != std::string::npos; ++words)
      at = line.find_first_of(" \t", at);
    char last = line.back();
    if (words <= 4 && last != '.' && last != ':' && last != ',') ++shaped;
  }
  return lines_seen >= 8 && shaped * 4 >= lines_seen * 3;
}

namespace {

bool is_path_literal(const std::string& s) {
  static const char* prefixes[] = {"/etc/", "/var/", "/opt/", "/usr/local/", "/tmp/", "/home/", "/srv/", "/run/"};
  if (s.find('%') != std::string::npos || s.find(' ') != std::string::npos || s.find('\n') != std::string::npos)
    return false;
  for (auto p : prefixes)
    if (starts_with(s, p) && s.size() > strlen(p)) return true;
  // A program's own data (/usr/share/squid/errors), one level below the
  // shared trees themselves (/usr/share/locale is every program's).
  const size_t share = strlen("/usr/share/");
  if (starts_with(s, "/usr/share/") && s.size() > share) {
    size_t slash = s.find('/', share);
    return slash != std::string::npos && slash > share && slash + 1 < s.size();
  }
  return false;
}

// "DIRECTIVE /path", a configuration default compiled into the program
// (squid's "mime_table /usr/share/squid/mime.conf"): the path, else "".
std::string default_directive_path(const std::string& s) {
  size_t sp = s.find(' ');
  if (sp == std::string::npos || sp == 0 || sp > 40) return "";
  for (size_t i = 0; i < sp; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.') || (i == 0 && !std::isalpha(c))) return "";
  }
  std::string path = s.substr(sp + 1);
  // Helper programs too ("unlinkd_program /usr/lib/squid/unlinkd"): what
  // the guest has there decides later whether it is run or read.
  static const char* programs[] = {"/usr/lib/", "/usr/libexec/", "/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"};
  bool program = std::any_of(std::begin(programs), std::end(programs), [&](const char* d) {
    return starts_with(path, d) && path.size() > strlen(d) && path.find_first_of(" %\n") == std::string::npos;
  });
  return program || is_path_literal(path) ? path : "";
}

std::string access_by_prefix(const std::string& s) {
  static const char* writable[] = {"/var/log/", "/var/run/", "/run/", "/tmp/", "/var/tmp/", "/var/spool/",
                                   "/var/lib/", "/var/cache/", "/home/"};
  for (auto p : writable)
    if (starts_with(s, p)) return "write";
  return "read";
}

bool is_fopen_mode(const std::string& s) {
  if (s.empty() || s.size() > 4 || (s[0] != 'r' && s[0] != 'w' && s[0] != 'a')) return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] != '+' && s[i] != 'b' && s[i] != 'e' && s[i] != 'x' && s[i] != 't') return false;
  return true;
}

bool is_soname_like(const std::string& s) {
  if (s.find('%') != std::string::npos || s.find(' ') != std::string::npos) return false;
  std::string base = s.substr(s.rfind('/') == std::string::npos ? 0 : s.rfind('/') + 1);
  if (base.size() < 4) return false;
  size_t so = base.find(".so");
  if (so == std::string::npos || so == 0) return false;
  std::string rest = base.substr(so + 3);
  for (char c : rest)
    if (!isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  return true;
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return true;
  return s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_hostname(const std::string& s) {
  if (s.size() < 4 || s.size() > 253 || s.find('.') == std::string::npos) return false;
  if (s.front() == '.' || s.back() == '.' || s.front() == '-') return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  std::string tld = s.substr(s.rfind('.') + 1);
  if (tld.size() < 2) return false;
  for (char c : tld)
    if (!isalpha(static_cast<unsigned char>(c))) return false;
  // File names, not hosts.
  static const char* exts[] = {"so", "conf", "cfg", "txt", "log", "pid", "sock", "html", "htm", "json", "xml",
                               "yaml", "yml", "ini", "db", "dat", "lock", "tmp", "bak", "gz", "c", "h", "cpp",
                               "cc", "py", "sh", "pl", "pem", "crt", "key", "rdb", "aof", "lua", "js", "css",
                               "png", "jpg", "gif", "so", "mo", "po"};
  for (auto e : exts)
    if (tld == e) return false;
  if (starts_with(s, "lib")) return false;
  return true;
}

// "8080", ":21", "0.0.0.0:5432", "[::]:80" -> port; 0 when not a port string.
unsigned port_of_string(const std::string& s) {
  size_t colon = s.rfind(':');
  std::string digits = colon == std::string::npos ? s : s.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return 0;
  for (char c : digits)
    if (!isdigit(static_cast<unsigned char>(c))) return 0;
  unsigned v = static_cast<unsigned>(std::stoul(digits));
  if (v == 0 || v > 65535) return 0;
  if (colon != std::string::npos) {
    std::string host = s.substr(0, colon);
    if (!host.empty() && host != "*" && !is_ip_literal(host) && !is_hostname(host) &&
        !(host.front() == '[' && host.back() == ']'))
      return 0;
  }
  return v;
}

uint16_t bswap16(uint64_t v) { return static_cast<uint16_t>(((v & 0xff) << 8) | ((v >> 8) & 0xff)); }

const std::set<std::string>& resolver_names() {
  static const std::set<std::string> n{"gethostbyname", "gethostbyname2", "gethostbyname_r", "gethostbyname2_r",
                                       "getaddrinfo", "inet_aton", "inet_addr", "inet_pton", "getnameinfo",
                                       "res_query", "res_search", "gethostbyaddr"};
  return n;
}

bool has_any(const std::set<std::string>& names, std::initializer_list<const char*> want) {
  for (auto w : want)
    if (names.count(w)) return true;
  return false;
}

std::string socket_role(const std::set<std::string>& names) {
  if (has_any(names, {"bind", "listen", "accept", "accept4"})) return "listen";
  if (has_any(names, {"connect"})) return "connect";
  return "";
}

// One object's literal scan, a function at a time. What a function calls
// (near1: directly; near2: also through one more level) is computed only
// when a literal needs it.
class LiteralScanner {
 public:
  LiteralScanner(const CodeView& view, const std::vector<Insn>& insns, const std::vector<size_t>& first,
                 ObjectSummary& s)
      : view_(view), insns_(insns), first_(first), s_(s), rodata_(view.rodata()) {}

  void run() {
    const size_t nfn = s_.functions.size();
    find_port_setters();
    for (size_t f = 0; f < nfn && f + 1 < first_.size(); ++f) scan_function(f);
  }

 private:
  bool in_rodata(uint64_t a) const {
    for (auto* sec : rodata_)
      if (a >= sec->addr && a - sec->addr < sec->size) return true;
    return false;
  }

  // Writable data the program starts with (a `static char text[]`).
  bool in_data(uint64_t a) const {
    const CodeSection* sec = view_.section_at(a);
    return sec && sec->type == SHT_PROGBITS && (sec->flags & SHF_WRITE) && !(sec->flags & SHF_EXECINSTR) &&
           sec->name == ".data";
  }

  // A long string at `a` that is a configuration (BIND's default options,
  // parsed under the user's named.conf): kept whole, read by the
  // configuration stage for the program's default listen ports.
  void compiled_config(size_t i, uint64_t a) {
    std::string text = view_.c_string(a, 64 << 10);
    if (!is_config_text(text)) return;
    add({LiteralRef::ConfigText, text, "", "high",
         fmt::format("static: compiled-in configuration ({} bytes) at {:#x} referenced at {:#x}", text.size(), a,
                     insns_[i].addr),
         static_cast<uint32_t>(f_)});
  }

  // Names function f calls directly.
  std::set<std::string> direct_names(size_t f) const {
    std::set<std::string> n;
    for (uint32_t i : s_.functions[f].imports) n.insert(s_.imports[i].name);
    for (uint32_t c : s_.functions[f].calls)
      if (!s_.functions[c].name.empty()) n.insert(s_.functions[c].name);
    return n;
  }

  std::set<std::string> names_depth2(size_t f) const {
    std::set<std::string> n = direct_names(f);
    for (uint32_t c : s_.functions[f].calls) {
      auto more = direct_names(c);
      n.insert(more.begin(), more.end());
    }
    return n;
  }

  void ensure() {
    if (computed_) return;
    near1_ = direct_names(f_);
    near2_ = names_depth2(f_);
    computed_ = true;
  }

  void add(LiteralRef r) {
    if (!seen_.insert({static_cast<int>(r.kind), r.value, r.function}).second) return;
    s_.literals.push_back(std::move(r));
  }

  void scan_function(size_t f) {
    f_ = f;
    computed_ = false;
    near1_.clear();
    near2_.clear();
    // Stores of 16-bit immediates by offset, for the sockaddr_in pattern.
    fill_stores16(f);
    for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
      const Insn& in = insns_[i];
      if (in.op == Op::StoreImm && (in.width == 2 || in.width == 4)) sockaddr_port(in);
      runtime_ports(i);
      // Strings referenced by this instruction.
      uint64_t a = 0;
      if (in.op == Op::Lea && in.ref) a = in.ref;
      else if (view_.type == 2 /* ET_EXEC */ && in.has_imm && in.imm > 0) a = static_cast<uint64_t>(in.imm);
      if (!a) continue;
      bool rodata = in_rodata(a);
      if (!rodata && !in_data(a)) continue;
      std::string str = view_.c_string(a, 512);
      if (str.empty()) compiled_config(i, a);
      else if (rodata && printable(str)) string_literal(i, a, str);
    }
    // Constant arguments of an out-of-line htons().
    for (auto& c : s_.functions[f].import_args) {
      if (s_.imports[c.import].name != "htons") continue;
      ensure();
      for (int64_t v : c.values)
        if (v > 0 && v < 65536)
          add({LiteralRef::Port, std::to_string(v), socket_role(near2_), "medium",
               fmt::format("static: htons({}) at {:#x}", v, c.site), static_cast<uint32_t>(f)});
    }
  }

  // --- Ports that reach sin_port at run time -------------------------------
  // A program's default port often lives in a global (vsftpd's
  // `tunable_listen_port = 21`, overridden by its configuration) and is
  // byte-swapped into the sockaddr only when the socket is bound, inline or
  // in a small setter (`sin_port = htons(port)` through a parameter). The
  // constant is a port only along that path: a global's constant whose load
  // is swapped and stored at sockaddr+2 (or passed to such a setter), in a
  // function that binds or listens within two call levels.

  static bool is_arg_reg(int r) { return r == kRdi || r == kRsi || r == kRdx || r == kRcx || r == kR8 || r == kR9; }

  // The instruction, in [from, i), that last wrote register r, scanning at
  // most `limit` back and not across a call; SIZE_MAX when none.
  size_t last_write(size_t from, size_t i, int r, size_t limit) const {
    for (size_t k = i; k > from && i - k < limit;) {
      --k;
      if (insns_[k].flow == Flow::Call || insns_[k].flow == Flow::Ret || insns_[k].flow == Flow::Jump)
        return SIZE_MAX;
      if (writes_reg(insns_[k], r) || insns_[k].dst == r) return k;
    }
    return SIZE_MAX;
  }

  // After the Swap16 of r at i: the 16-bit store of r into a sockaddr's
  // port (offset 2 from a pointer, or 2 past a family store); the store's
  // index, else SIZE_MAX.
  size_t port_store_after(size_t f, size_t i, int r) const {
    for (size_t k = i + 1; k < first_[f + 1] && k <= i + 4; ++k) {
      const Insn& st = insns_[k];
      if (st.op == Op::StoreReg && st.src == r && st.width == 2) {
        bool family_before = stores16_.count({st.mem_base, st.disp - 2}) &&
                             (stores16_.at({st.mem_base, st.disp - 2}) == 2 || stores16_.at({st.mem_base, st.disp - 2}) == 10);
        bool field_of_pointer = st.mem_base != kNoReg && st.mem_base != kRsp && st.disp == 2;
        return family_before || field_of_pointer ? k : SIZE_MAX;
      }
      if (writes_reg(st, r) || st.flow != Flow::None) return SIZE_MAX;
    }
    return SIZE_MAX;
  }

  // Functions that store a byte-swapped argument into a sockaddr's port,
  // by entry address (the argument's register), and the constants every
  // global is assigned (mov $imm, global).
  void find_port_setters() {
    for (size_t f = 0; f < s_.functions.size() && f + 1 < first_.size(); ++f) {
      f_ = f;
      fill_stores16(f);
      for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
        const Insn& in = insns_[i];
        if (in.op == Op::StoreImm && in.mem_base == kNoReg && in.ref && (in.width == 2 || in.width == 4))
          global_consts_[in.ref].insert(in.imm);
        if (in.op != Op::Swap16 || !is_arg_reg(in.dst)) continue;
        bool written = false;
        for (size_t k = first_[f]; k < i && !written; ++k) written = writes_reg(insns_[k], in.dst) || insns_[k].dst == in.dst;
        if (!written && port_store_after(f, i, in.dst) != SIZE_MAX) setters_[s_.functions[f].addr] = in.dst;
      }
    }
  }

  void fill_stores16(size_t f) {
    stores16_.clear();
    for (size_t i = first_[f]; i < first_[f + 1]; ++i) {
      const Insn& in = insns_[i];
      if (in.op == Op::StoreImm && in.width == 2) stores16_[{in.mem_base, in.disp}] = in.imm & 0xffff;
    }
  }

  // The value loaded by insns_[k] when it is a global's constant default:
  // what `mov $imm, global` stores, else the global's initial value.
  std::set<uint16_t> global_default(const Insn& load) const {
    std::set<uint16_t> out;
    if (load.op != Op::LoadMem || (load.width != 2 && load.width != 4)) return out;
    auto it = global_consts_.find(load.ref);
    if (it != global_consts_.end()) {
      for (int64_t v : it->second)
        if (v > 0 && v < 65536) out.insert(static_cast<uint16_t>(v));
      return out;
    }
    if (const uint8_t* b = view_.at(load.ref, load.width)) {
      uint32_t v = b[0] | (b[1] << 8) | (load.width == 4 ? (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24) : 0);
      if (v > 0 && v < 65536) out.insert(static_cast<uint16_t>(v));
    }
    return out;
  }

  void add_default_port(uint16_t port, const std::string& how) {
    ensure();
    if (socket_role(near2_) != "listen") return;
    add({LiteralRef::DefaultPort, std::to_string(port), "listen", "high", "static: " + how,
         static_cast<uint32_t>(f_)});
  }

  // In function f_: a global's default swapped into sin_port inline, or
  // handed to a port setter.
  void runtime_ports(size_t i) {
    const Insn& in = insns_[i];
    const size_t from = first_[f_];
    if (in.op == Op::Swap16 && port_store_after(f_, i, in.dst) != SIZE_MAX) {
      size_t k = last_write(from, i, in.dst, 16);
      if (k == SIZE_MAX) return;
      for (uint16_t port : global_default(insns_[k]))
        add_default_port(port, fmt::format("{} in the global at {:#x}, loaded at {:#x} and stored to sockaddr sin_port "
                                           "byte-swapped at {:#x}",
                                           port, insns_[k].ref, insns_[k].addr, in.addr));
      return;
    }
    if (in.flow != Flow::Call || !in.target) return;
    auto setter = setters_.find(in.target);
    if (setter == setters_.end()) return;
    size_t k = last_write(from, i, setter->second, 12);
    if (k == SIZE_MAX) return;
    const Insn& arg = insns_[k];
    if (arg.op == Op::MovImm && arg.imm > 0 && arg.imm < 65536)
      add_default_port(static_cast<uint16_t>(arg.imm),
                       fmt::format("{} passed at {:#x} to {:#x}, which stores it to sockaddr sin_port byte-swapped",
                                   arg.imm, in.addr, in.target));
    for (uint16_t port : global_default(arg))
      add_default_port(port, fmt::format("{} in the global at {:#x}, passed at {:#x} to {:#x}, which stores it to "
                                         "sockaddr sin_port byte-swapped",
                                         port, arg.ref, in.addr, in.target));
  }

  // Ports stored into sockaddr_in.sin_port / sin6_port.
  void sockaddr_port(const Insn& in) {
    uint64_t imm = static_cast<uint64_t>(in.imm);
    uint16_t port = 0;
    std::string confidence;
    bool is_family = in.width == 2 && (imm == 1 || imm == 2 || imm == 10) &&
                     stores16_.count({in.mem_base, in.disp + 2});
    if (is_family || (in.width == 2 && imm <= 10)) {
      // sin_family (AF_UNIX/AF_INET/AF_INET6) itself, not a port.
    } else if (in.width == 2) {
      auto fam = stores16_.find({in.mem_base, in.disp - 2});
      if (fam != stores16_.end() && (fam->second == 2 || fam->second == 10)) {
        port = bswap16(imm);
        confidence = "high";
      } else {
        ensure();
        if (!socket_role(near1_).empty()) {
          port = bswap16(imm);
          confidence = "medium";
        }
      }
    } else if ((imm & 0xffff) == 2 || (imm & 0xffff) == 10) {
      ensure();
      if (!socket_role(near2_).empty()) {
        port = bswap16(imm >> 16);
        confidence = "high";
      }
    }
    if (port) {
      ensure();
      std::string render = in.width == 2 ? fmt::format("movw ${:#x}", imm & 0xffff) : fmt::format("movl ${:#x}", imm & 0xffffffff);
      add({LiteralRef::Port, std::to_string(port), socket_role(near2_), confidence,
           fmt::format("static: immediate {} stored to sockaddr sin_port at {:#x} ({} = htons({}))", render,
                       in.addr, in.width == 2 ? "port" : "family|port", port),
           static_cast<uint32_t>(f_)});
    }
  }

  // What the string `str` at `a`, referenced by insns_[i], is: a dlopen
  // name, a plugin directory, a path, a host, a port or a service name.
  void string_literal(size_t i, uint64_t a, const std::string& str) {
    const Insn& in = insns_[i];
    const size_t f = f_;
    // A module search path ("./?.so;/usr/lib/x86_64-linux-gnu/lua/5.1/?.so",
    // Lua's cpath): an embedded interpreter dlopen()s DIR/<module>.so for
    // whatever its scripts require, so each directory is a plugin directory.
    if (str.find("/?.so") != std::string::npos) {
      ensure();
      for (const std::string& entry : split(str, ';')) {
        if (entry.size() < 6 || entry[0] != '/' || entry.compare(entry.size() - 5, 5, "/?.so") != 0) continue;
        add({LiteralRef::Dlopen, entry.substr(0, entry.size() - 5), "search-path", "medium",
             fmt::format("static: module search path \"{}\" at {:#x} referenced at {:#x}", str, a, in.addr),
             static_cast<uint32_t>(f)});
      }
      return;
    }
    if (is_soname_like(str)) {
      ensure();
      bool near_dlopen = has_any(near1_, {"dlopen", "__libc_dlopen_mode", "dlmopen"});
      add({LiteralRef::Dlopen, str, "", near_dlopen ? "high" : "medium",
           fmt::format("static: string \"{}\" at {:#x} referenced at {:#x}{}", str, a, in.addr,
                       near_dlopen ? " before dlopen()" : ""),
           static_cast<uint32_t>(f)});
      return;
    }
    // A library directory in a program that loads plugins by computed name.
    if ((starts_with(str, "/usr/lib/") || starts_with(str, "/lib/") || starts_with(str, "/usr/local/lib/")) &&
        str.find('%') == std::string::npos && str.find(' ') == std::string::npos) {
      ensure();
      if (has_any(near2_, {"dlopen"}) || s_.imports.end() != std::find_if(s_.imports.begin(), s_.imports.end(),
                                                                       [](auto& im) { return im.name == "dlopen"; }))
        add({LiteralRef::Dlopen, str, "dir", "low",
             fmt::format("static: directory \"{}\" referenced at {:#x} in a program that calls dlopen()", str, in.addr),
             static_cast<uint32_t>(f)});
      return;
    }
    if (std::string path = default_directive_path(str); !path.empty()) {
      add({LiteralRef::Path, path, access_by_prefix(path), "medium",
           fmt::format("static: built-in configuration default \"{}\" at {:#x} referenced at {:#x}", str, a, in.addr),
           static_cast<uint32_t>(f)});
      return;
    }
    if (is_path_literal(str)) {
      std::string access = access_by_prefix(str), why;
      // A fopen() mode literal loaded right after the path decides.
      for (size_t k = i + 1; k < first_[f + 1] && k <= i + 12; ++k) {
        const Insn& m = insns_[k];
        uint64_t ma = m.op == Op::Lea ? m.ref : 0;
        if (ma && in_rodata(ma)) {
          std::string mode = view_.c_string(ma, 8);
          if (is_fopen_mode(mode)) {
            access = mode[0] == 'r' && mode.find('+') == std::string::npos ? "read" : "write";
            why = fmt::format(", fopen mode \"{}\"", mode);
            break;
          }
        }
        if (m.flow == Flow::Call) break;
      }
      add({LiteralRef::Path, str, access, why.empty() ? "medium" : "high",
           fmt::format("static: .rodata \"{}\" referenced at {:#x}{}", str, in.addr, why), static_cast<uint32_t>(f)});
      return;
    }
    ensure();
    bool near_resolver = false;
    for (auto& n : resolver_names())
      if (near2_.count(n)) near_resolver = true;
    if ((is_ip_literal(str) || is_hostname(str)) && (near_resolver || !socket_role(near2_).empty())) {
      add({LiteralRef::Host, str, socket_role(near2_), near_resolver ? "medium" : "low",
           fmt::format("static: string \"{}\" referenced at {:#x}{}", str, in.addr,
                       near_resolver ? " near a resolver call" : ""),
           static_cast<uint32_t>(f)});
      return;
    }
    // A port string is a port only with evidence that it reaches a socket
    // call: within two call levels of its function, a service lookup
    // (getaddrinfo's service argument, getservbyname) *and* a socket call,
    // or a host part ("0.0.0.0:5432") near a resolver or socket call. A
    // "200" or "500" in a reply table has neither.
    unsigned port = port_of_string(str);
    bool lookup = has_any(near2_, {"getaddrinfo", "getservbyname", "getservbyname_r"}) && !socket_role(near2_).empty();
    bool host_port = str.find(':') != std::string::npos && (near_resolver || !socket_role(near2_).empty());
    if (port && (lookup || host_port)) {
      add({LiteralRef::Port, std::to_string(port), socket_role(near2_), host_port ? "medium" : "low",
           fmt::format("static: string \"{}\" referenced at {:#x}{}", str, in.addr,
                       host_port ? " near a socket call" : " near a service lookup and a socket call"),
           static_cast<uint32_t>(f)});
      return;
    }
    // A service name is a listen port only when the lookup's function also
    // binds (hint "listen"); one that only connects or says nothing stays
    // out of the listen ports (literal_facts.cpp).
    if (has_any(near1_, {"getservbyname", "getservbyname_r", "getaddrinfo"}) && str.size() < 32 &&
        std::all_of(str.begin(), str.end(), [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '-'; }))
      add({LiteralRef::Service, str, socket_role(near2_), "medium",
           fmt::format("static: service name \"{}\" referenced at {:#x} near {}", str, in.addr,
                       has_any(near1_, {"getaddrinfo"}) ? "getaddrinfo()" : "getservbyname()"),
           static_cast<uint32_t>(f)});
  }

  const CodeView& view_;
  const std::vector<Insn>& insns_;
  const std::vector<size_t>& first_;
  ObjectSummary& s_;
  std::vector<const CodeSection*> rodata_;
  std::set<std::tuple<int, std::string, uint32_t>> seen_;
  size_t f_ = 0;  // the function being scanned, and what it calls
  bool computed_ = false;
  std::set<std::string> near1_, near2_;
  std::map<std::pair<int, int32_t>, int64_t> stores16_;
  std::map<uint64_t, int8_t> setters_;                 // entry address -> the argument swapped into sin_port
  std::map<uint64_t, std::set<int64_t>> global_consts_;  // global -> constants stored to it
};

}  // namespace

void extract_literals(const CodeView& view, const std::vector<Insn>& insns, const std::vector<size_t>& first,
                      ObjectSummary& s) {
  LiteralScanner(view, insns, first, s).run();
}

}  // namespace decant
