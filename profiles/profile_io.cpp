// Reading and writing redirect profiles. Writing goes through one ordered JSON
// tree (so YAML and JSON always agree on field names and order); reading goes
// through yaml-cpp for both formats, because JSON is YAML and yaml-cpp keeps
// line numbers, which hand-edited profiles need in their error messages.
// Strings are bytes (old guests have Latin-1 file names): bytes that are not
// UTF-8 travel as escapes (docs/profile.md, "Bytes that are not UTF-8").
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "common/file_util.h"
#include "profiles/profile.h"

namespace decant {

using ojson = nlohmann::ordered_json;

// ---------------------------------------------------------------- equality
// Member-wise equality, spelled once per struct through a field list, so the
// round-trip test can catch a field that the writer forgets.
#define DECANT_EQ_FIELD(f) &&a.f == b.f
#define DECANT_EXPAND(x) x
#define DECANT_FE_1(m, x) m(x)
#define DECANT_FE_2(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_1(m, __VA_ARGS__))
#define DECANT_FE_3(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_2(m, __VA_ARGS__))
#define DECANT_FE_4(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_3(m, __VA_ARGS__))
#define DECANT_FE_5(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_4(m, __VA_ARGS__))
#define DECANT_FE_6(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_5(m, __VA_ARGS__))
#define DECANT_FE_7(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_6(m, __VA_ARGS__))
#define DECANT_FE_8(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_7(m, __VA_ARGS__))
#define DECANT_FE_9(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_8(m, __VA_ARGS__))
#define DECANT_FE_10(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_9(m, __VA_ARGS__))
#define DECANT_FE_11(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_10(m, __VA_ARGS__))
#define DECANT_FE_12(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_11(m, __VA_ARGS__))
#define DECANT_FE_13(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_12(m, __VA_ARGS__))
#define DECANT_FE_14(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_13(m, __VA_ARGS__))
#define DECANT_FE_15(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_14(m, __VA_ARGS__))
#define DECANT_FE_16(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_15(m, __VA_ARGS__))
#define DECANT_FE_17(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_16(m, __VA_ARGS__))
#define DECANT_FE_18(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_17(m, __VA_ARGS__))
#define DECANT_FE_19(m, x, ...) m(x) DECANT_EXPAND(DECANT_FE_18(m, __VA_ARGS__))
#define DECANT_GET_FE(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, NAME, ...) NAME
#define DECANT_FOR_EACH(m, ...)                                                                              \
  DECANT_EXPAND(DECANT_GET_FE(__VA_ARGS__, DECANT_FE_19, DECANT_FE_18, DECANT_FE_17, DECANT_FE_16,         \
                              DECANT_FE_15, DECANT_FE_14, DECANT_FE_13, DECANT_FE_12, DECANT_FE_11,        \
                              DECANT_FE_10, DECANT_FE_9, DECANT_FE_8, DECANT_FE_7, DECANT_FE_6, DECANT_FE_5, \
                              DECANT_FE_4, DECANT_FE_3, DECANT_FE_2, DECANT_FE_1)(m, __VA_ARGS__))
#define DECANT_DEFINE_EQ(T, ...) \
  bool T::operator==(const T& b) const { const T& a = *this; return true DECANT_FOR_EACH(DECANT_EQ_FIELD, __VA_ARGS__); }

DECANT_DEFINE_EQ(OsInfo, id, version, pretty)
DECANT_DEFINE_EQ(LibcInfo, name, version, path)
DECANT_DEFINE_EQ(SourceInfo, root, os, libc)
DECANT_DEFINE_EQ(BinaryInfo, path, arch, elf_class, linkage, pie, interpreter, sha256, build_id, size, soname, needed,
                 rpath, runpath)
DECANT_DEFINE_EQ(Requires, glibc, kernel, versions, evidence)
DECANT_DEFINE_EQ(Library, soname, path, opened_as, needed_by, found_via, evidence)
DECANT_DEFINE_EQ(MissingLibrary, soname, needed_by)
DECANT_DEFINE_EQ(FileFact, path, access, optional, evidence)
DECANT_DEFINE_EQ(ListenFact, port, proto, address, confidence, evidence)
DECANT_DEFINE_EQ(ConnectFact, host, port, proto, confidence, evidence)
DECANT_DEFINE_EQ(Network, apis, listen, connect)
DECANT_DEFINE_EQ(Syscalls, arch, allow, unresolved_sites, evidence)
DECANT_DEFINE_EQ(Hazard, id, severity, message, evidence)
DECANT_DEFINE_EQ(PathRedirect, from, to)
DECANT_DEFINE_EQ(PortRedirect, from, to, proto, address)
DECANT_DEFINE_EQ(HostRedirect, from, to)
DECANT_DEFINE_EQ(Identity, uname_release, uname_version, uname_machine, hostname)
DECANT_DEFINE_EQ(Redirects, paths, ports, hosts, identity)
DECANT_DEFINE_EQ(SeccompPolicy, mode, default_action, errno_name)
DECANT_DEFINE_EQ(Enforcement, seccomp, proxy)
DECANT_DEFINE_EQ(ServiceInfo, type, pidfile, runtime_directories, runtime_directory_mode, stop_timeout, evidence)
DECANT_DEFINE_EQ(Metadata, name, generator)
DECANT_DEFINE_EQ(Profile, api_version, kind, metadata, source, binary, entrypoint, user, workdir, env, service,
                 requires_, libraries, missing_libraries, files, network, syscalls, hazards, redirects, enforcement)

// ------------------------------------------------------------ byte escapes
namespace {

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) starting at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
  auto at = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  unsigned c = at(i);
  auto cont = [&](size_t k) { return (at(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned d = at(i + 1);
    if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F)) return 0;
    return cont(i + 1) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned d = at(i + 1);
    if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d > 0x8F)) return 0;
    return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// U+EF80..U+EFFF (private use) stand for the bytes 0x80..0xFF, as in MirOS
// OPTU-8. Their UTF-8 form is EE BE|BF xx.
bool is_byte_escape(const std::string& s, size_t i) {
  return i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEE &&
         (static_cast<unsigned char>(s[i + 1]) & 0xFE) == 0xBE && (static_cast<unsigned char>(s[i + 2]) & 0xC0) == 0x80;
}
unsigned char escaped_byte(const std::string& s, size_t i) {
  return static_cast<unsigned char>(0x80 | ((s[i + 1] & 1) << 6) | (s[i + 2] & 0x3F));
}
void append_byte_escape(std::string& out, unsigned char b) {
  out += '\xEE';
  out += static_cast<char>(0xBE | (b >> 6 & 1));
  out += static_cast<char>(0x80 | (b & 0x3F));
}

// Every byte that is not part of a UTF-8 character becomes its escape, and
// so does each byte of a genuine U+EF80..U+EFFF, so that decoding is exact.
// A string that is UTF-8 without those code points comes back unchanged.
std::string encode_bytes(const std::string& s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) return s;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0 || is_byte_escape(s, i)) {
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) append_byte_escape(out, static_cast<unsigned char>(s[i + k]));
      i += std::max<size_t>(n, 1);
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string decode_bytes(const std::string& s) {
  if (s.find('\xEE') == std::string::npos) return s;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_byte_escape(s, i)) {
      out += static_cast<char>(escaped_byte(s, i));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool has_byte_escape(const std::string& s) {
  for (size_t i = s.find('\xEE'); i != std::string::npos; i = s.find('\xEE', i + 1))
    if (is_byte_escape(s, i)) return true;
  return false;
}

// In the written text the escapes are spelled \uefXX (JSON, and YAML
// double-quoted scalars), so a reader sees the byte's value in the last two
// digits and every JSON or YAML tool reads the file.
std::string spell_byte_escapes(std::string text) {
  if (!has_byte_escape(text)) return text;
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_byte_escape(text, i)) {
      unsigned char b = escaped_byte(text, i);
      out += "\\uef";
      out += digits[b >> 4];
      out += digits[b & 15];
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Encodes every string and key of a tree built from profile bytes.
void encode_tree(ojson& j) {
  if (j.is_string()) {
    std::string& s = j.get_ref<std::string&>();
    s = encode_bytes(s);
  } else if (j.is_array()) {
    for (auto& e : j) encode_tree(e);
  } else if (j.is_object()) {
    bool keys_change = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      encode_tree(it.value());
      keys_change = keys_change || encode_bytes(it.key()) != it.key();
    }
    if (keys_change) {
      ojson copy = ojson::object();
      for (auto it = j.begin(); it != j.end(); ++it) copy[encode_bytes(it.key())] = std::move(it.value());
      j = std::move(copy);
    }
  }
}

}  // namespace

bool is_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// ------------------------------------------------------------------ writer
namespace {

void put_if(ojson& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
void put_if(ojson& j, const char* key, const Evidence& v) {
  if (!v.empty()) j[key] = v;
}

ojson evidence_map(const std::map<std::string, Evidence>& m) {
  ojson j = ojson::object();
  for (auto& [k, v] : m) j[k] = v;
  return j;
}

ojson source_tree(const Profile& p) {
  ojson src = ojson::object();
  put_if(src, "root", p.source.root);
  ojson os = ojson::object();
  put_if(os, "id", p.source.os.id);
  put_if(os, "version", p.source.os.version);
  put_if(os, "pretty", p.source.os.pretty);
  src["os"] = os;
  ojson libc = ojson::object();
  put_if(libc, "name", p.source.libc.name);
  put_if(libc, "version", p.source.libc.version);
  put_if(libc, "path", p.source.libc.path);
  src["libc"] = libc;
  return src;
}

ojson binary_tree(const Profile& p) {
  const BinaryInfo& b = p.binary;
  ojson bin = ojson::object();
  bin["path"] = b.path;
  put_if(bin, "arch", b.arch);
  put_if(bin, "class", b.elf_class);
  put_if(bin, "linkage", b.linkage);
  bin["pie"] = b.pie;
  put_if(bin, "interpreter", b.interpreter);
  put_if(bin, "sha256", b.sha256);
  put_if(bin, "build_id", b.build_id);
  bin["size"] = b.size;
  put_if(bin, "soname", b.soname);
  bin["needed"] = b.needed;
  if (!b.rpath.empty()) bin["rpath"] = b.rpath;
  if (!b.runpath.empty()) bin["runpath"] = b.runpath;
  return bin;
}

void put_closure(ojson& j, const Profile& p) {
  j["libraries"] = ojson::array();
  for (auto& l : p.libraries) {
    ojson e;
    e["soname"] = l.soname;
    e["path"] = l.path;
    put_if(e, "opened_as", l.opened_as);
    e["needed_by"] = l.needed_by;
    put_if(e, "found_via", l.found_via);
    put_if(e, "evidence", l.evidence);
    j["libraries"].push_back(e);
  }
  j["missing_libraries"] = ojson::array();
  for (auto& m : p.missing_libraries) {
    ojson e;
    e["soname"] = m.soname;
    e["needed_by"] = m.needed_by;
    j["missing_libraries"].push_back(e);
  }
  j["files"] = ojson::array();
  for (auto& f : p.files) {
    ojson e;
    e["path"] = f.path;
    e["access"] = f.access;
    if (f.optional) e["optional"] = true;
    e["evidence"] = f.evidence;
    j["files"].push_back(e);
  }
}

ojson network_tree(const Profile& p) {
  ojson net = ojson::object();
  if (!p.network.apis.empty()) net["apis"] = p.network.apis;
  net["listen"] = ojson::array();
  for (auto& l : p.network.listen) {
    ojson e;
    e["port"] = l.port;
    e["proto"] = l.proto;
    put_if(e, "address", l.address);
    put_if(e, "confidence", l.confidence);
    e["evidence"] = l.evidence;
    net["listen"].push_back(e);
  }
  net["connect"] = ojson::array();
  for (auto& c : p.network.connect) {
    ojson e;
    put_if(e, "host", c.host);
    e["port"] = c.port;
    e["proto"] = c.proto;
    put_if(e, "confidence", c.confidence);
    e["evidence"] = c.evidence;
    net["connect"].push_back(e);
  }
  return net;
}

ojson redirects_tree(const Profile& p) {
  ojson red = ojson::object();
  red["paths"] = ojson::array();
  for (auto& r : p.redirects.paths) red["paths"].push_back(ojson{{"from", r.from}, {"to", r.to}});
  red["ports"] = ojson::array();
  for (auto& r : p.redirects.ports) {
    ojson e{{"from", r.from}, {"to", r.to}, {"proto", r.proto}};
    put_if(e, "address", r.address);
    red["ports"].push_back(e);
  }
  red["hosts"] = ojson::array();
  for (auto& r : p.redirects.hosts) red["hosts"].push_back(ojson{{"from", r.from}, {"to", r.to}});
  ojson id = ojson::object();
  put_if(id, "uname_release", p.redirects.identity.uname_release);
  put_if(id, "uname_version", p.redirects.identity.uname_version);
  put_if(id, "uname_machine", p.redirects.identity.uname_machine);
  put_if(id, "hostname", p.redirects.identity.hostname);
  red["identity"] = id;
  return red;
}

ojson build_tree(const Profile& p) {
  ojson j;
  j["apiVersion"] = p.api_version;
  j["kind"] = p.kind;
  j["metadata"] = ojson::object();
  j["metadata"]["name"] = p.metadata.name;
  put_if(j["metadata"], "generator", p.metadata.generator);

  j["source"] = source_tree(p);
  j["binary"] = binary_tree(p);
  j["entrypoint"] = p.entrypoint;
  put_if(j, "user", p.user);
  put_if(j, "workdir", p.workdir);
  j["env"] = ojson::object();
  for (auto& [k, v] : p.env) j["env"][k] = v;
  ojson svc = ojson::object();
  put_if(svc, "type", p.service.type);
  put_if(svc, "pidfile", p.service.pidfile);
  if (!p.service.runtime_directories.empty()) svc["runtime_directories"] = p.service.runtime_directories;
  put_if(svc, "runtime_directory_mode", p.service.runtime_directory_mode);
  if (p.service.stop_timeout) svc["stop_timeout"] = p.service.stop_timeout;
  put_if(svc, "evidence", p.service.evidence);
  j["service"] = svc;

  ojson req = ojson::object();
  put_if(req, "glibc", p.requires_.glibc);
  put_if(req, "kernel", p.requires_.kernel);
  req["versions"] = ojson::object();
  for (auto& [k, v] : p.requires_.versions) req["versions"][k] = v;
  if (!p.requires_.evidence.empty()) req["evidence"] = evidence_map(p.requires_.evidence);
  j["requires"] = req;

  put_closure(j, p);
  j["network"] = network_tree(p);

  ojson sc = ojson::object();
  put_if(sc, "arch", p.syscalls.arch);
  sc["allow"] = p.syscalls.allow;
  sc["unresolved_sites"] = p.syscalls.unresolved_sites;
  sc["evidence"] = evidence_map(p.syscalls.evidence);
  j["syscalls"] = sc;

  j["hazards"] = ojson::array();
  for (auto& h : p.hazards) {
    ojson e;
    e["id"] = h.id;
    e["severity"] = h.severity;
    e["message"] = h.message;
    e["evidence"] = h.evidence;
    j["hazards"].push_back(e);
  }

  j["redirects"] = redirects_tree(p);

  ojson enf = ojson::object();
  enf["seccomp"] = ojson{{"mode", p.enforcement.seccomp.mode},
                         {"default_action", p.enforcement.seccomp.default_action},
                         {"errno", p.enforcement.seccomp.errno_name}};
  enf["proxy"] = p.enforcement.proxy;
  j["enforcement"] = enf;
  return j;
}

// A plain YAML scalar that a YAML 1.1 or 1.2 reader would not take as a string
// must be quoted, or a version "2.30" becomes a float in a user's script.
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::regex special(
      R"(^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$)");
  static const std::regex number(R"(^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$)");
  static const std::regex other_number(R"(^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+|[0-9:]+)$)");
  return std::regex_match(s, special) || std::regex_match(s, number) || std::regex_match(s, other_number);
}

bool is_scalar_array(const ojson& a) {
  return std::all_of(a.begin(), a.end(), [](const ojson& e) { return !e.is_object() && !e.is_array(); });
}

void emit_yaml(YAML::Emitter& out, const ojson& j) {
  switch (j.type()) {
    case ojson::value_t::object:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key;
        if (has_byte_escape(it.key())) out << YAML::DoubleQuoted;
        out << it.key() << YAML::Value;
        emit_yaml(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case ojson::value_t::array: {
      size_t width = 0;
      for (auto& e : j) width += e.is_string() ? e.get_ref<const std::string&>().size() + 2 : 8;
      bool flow = is_scalar_array(j) && width < 90;
      out << (flow ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (auto& e : j) emit_yaml(out, e);
      out << YAML::EndSeq;
      break;
    }
    case ojson::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      // Byte escapes are spelled \uefXX afterwards, which only a
      // double-quoted scalar reads as an escape.
      if (needs_quotes(s) || has_byte_escape(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case ojson::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      break;
    case ojson::value_t::number_unsigned:
      out << j.get<uint64_t>();
      break;
    case ojson::value_t::number_integer:
      out << j.get<int64_t>();
      break;
    case ojson::value_t::number_float:
      out << j.get<double>();
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

namespace {
// After encode_tree every string is UTF-8, so dump() cannot throw.
ojson encoded_tree(const Profile& profile) {
  ojson j = build_tree(profile);
  encode_tree(j);
  return j;
}
}  // namespace

std::string to_json(const Profile& profile) { return spell_byte_escapes(encoded_tree(profile).dump(2) + "\n"); }

std::string to_yaml(const Profile& profile) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit_yaml(out, encoded_tree(profile));
  return spell_byte_escapes(std::string(out.c_str(), out.size()) + "\n");
}

std::string serialize(const Profile& profile, ProfileFormat format) {
  return format == ProfileFormat::Json ? to_json(profile) : to_yaml(profile);
}

// ------------------------------------------------------------------ reader
namespace {

struct SchemaError {
  std::string message;
};

// A map node being read: remembers which keys were consumed so that any key
// left over (a typo in a hand-edited profile) is reported with its line.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string where) : node_(node), where_(std::move(where)) {
    if (!node_.IsMap()) fail(node_, where_, "expected a mapping");
  }

  // Lookups go through a const node: yaml-cpp's non-const operator[] would
  // insert the key it looks for.
  YAML::Node take(const std::string& key) {
    used_.insert(key);
    const YAML::Node& n = node_;
    return n[key];
  }
  bool has(const std::string& key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }

  void str(const std::string& key, std::string& out, bool required = false) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) missing_.push_back(key);
      return;
    }
    out = scalar(n, sub(key));
  }
  // A guest path: '.', '..', '//' and a trailing '/' are resolved here,
  // once, as the shim resolves what the application asks for, so every stage
  // sees the same spelling. A '..' that would climb above / is an error.
  // Relative paths are kept (validate_profile says where they are refused).
  void path(const std::string& key, std::string& out, bool required = false) {
    str(key, out, required);
    if (!out.empty() && out[0] == '/') out = normalized(out, take(key), sub(key));
  }
  static std::string normalized(const std::string& p, const YAML::Node& n, const std::string& where) {
    size_t depth = 0;
    for (size_t i = 0; i <= p.size();) {
      size_t j = std::min(p.find('/', i), p.size());
      std::string comp = p.substr(i, j - i);
      if (comp == "..") {
        if (depth == 0) fail(n, where, fmt::format("'{}' climbs above /", p));
        --depth;
      } else if (!comp.empty() && comp != ".") {
        ++depth;
      }
      i = j + 1;
    }
    return normalize_absolute(p);
  }
  void boolean(const std::string& key, bool& out) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    std::string s = scalar(n, sub(key));
    if (s == "true") out = true;
    else if (s == "false") out = false;
    else fail(n, sub(key), fmt::format("expected true or false, got '{}'", s));
  }
  template <typename Int>
  void integer(const std::string& key, Int& out, uint64_t max, bool required = false) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) missing_.push_back(key);
      return;
    }
    std::string s = scalar(n, sub(key));
    if (s.empty() || !std::all_of(s.begin(), s.end(), ::isdigit) || s.size() > 19)
      fail(n, sub(key), fmt::format("expected a non-negative integer, got '{}'", s));
    uint64_t v = std::stoull(s);
    if (v > max) fail(n, sub(key), fmt::format("value {} out of range (max {})", v, max));
    out = static_cast<Int>(v);
  }
  // A list of guest paths, each normalized as path() does.
  void paths(const std::string& key, std::vector<std::string>& out) {
    strings(key, out);
    const YAML::Node n = take(key);
    for (size_t i = 0; i < out.size(); ++i)
      if (!out[i].empty() && out[i][0] == '/')
        out[i] = normalized(out[i], n[i], fmt::format("{}[{}]", sub(key), i));
  }
  void strings(const std::string& key, std::vector<std::string>& out) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    out = string_list(n, sub(key));
  }
  void string_map(const std::string& key, std::map<std::string, std::string>& out) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsMap()) fail(n, sub(key), "expected a mapping");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string k = scalar(it->first, sub(key));
      out[k] = scalar(it->second, sub(key) + "." + k);
    }
  }
  void evidence_map(const std::string& key, std::map<std::string, Evidence>& out) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsMap()) fail(n, sub(key), "expected a mapping");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string k = scalar(it->first, sub(key));
      out[k] = string_list(it->second, sub(key) + "." + k);
    }
  }
  template <typename T, typename F>
  void list(const std::string& key, std::vector<T>& out, F read_item) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsSequence()) fail(n, sub(key), "expected a list");
    for (size_t i = 0; i < n.size(); ++i) {
      MapReader item(n[i], fmt::format("{}[{}]", sub(key), i));
      T value;
      read_item(item, value);
      item.finish();
      out.push_back(std::move(value));
    }
  }
  template <typename F>
  void object(const std::string& key, F read_fields) {
    YAML::Node n = take(key);
    if (!n.IsDefined() || n.IsNull()) return;
    MapReader r(n, sub(key));
    read_fields(r);
    r.finish();
  }

  // Unknown and duplicate keys are reported before missing ones: a missing
  // required field is most often the typo that the unknown key reveals.
  void finish() const {
    std::set<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string k = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      std::string name = where_.empty() ? k : where_ + "." + k;
      if (!used_.count(k)) fail(it->first, where_, fmt::format("unknown field '{}'", name), true);
      if (!seen.insert(k).second) fail(it->first, where_, fmt::format("duplicate field '{}'", name), true);
    }
    if (!missing_.empty()) fail(node_, where_, fmt::format("missing required field '{}'", missing_.front()));
  }

  [[noreturn]] static void fail(const YAML::Node& n, const std::string& where, const std::string& what,
                                bool what_has_name = false) {
    int line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
    std::string msg = what_has_name || where.empty() ? what : fmt::format("field '{}': {}", where, what);
    throw SchemaError{line > 0 ? fmt::format("line {}: {}", line, msg) : msg};
  }
  const std::string& where() const { return where_; }
  const YAML::Node& node() const { return node_; }

 private:
  std::string sub(const std::string& key) const { return where_.empty() ? key : where_ + "." + key; }
  static std::string scalar(const YAML::Node& n, const std::string& where) {
    if (!n.IsScalar()) fail(n, where, "expected a scalar value");
    // No field has a use for NUL, and every consumer (paths, plan, runtime
    // configs) would cut the string there.
    if (n.Scalar().find('\0') != std::string::npos) fail(n, where, "contains a NUL byte");
    return decode_bytes(n.Scalar());
  }
  static std::vector<std::string> string_list(const YAML::Node& n, const std::string& where) {
    if (!n.IsSequence()) fail(n, where, "expected a list");
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) out.push_back(scalar(n[i], fmt::format("{}[{}]", where, i)));
    return out;
  }

  YAML::Node node_;
  std::string where_;
  std::set<std::string> used_;
  std::vector<std::string> missing_;
};

Profile read_tree(const YAML::Node& root) {
  Profile p;
  MapReader r(root, "");
  r.str("apiVersion", p.api_version, true);
  if (p.api_version != "decant/v1")
    MapReader::fail(r.take("apiVersion"), "apiVersion", fmt::format("unsupported '{}' (expected decant/v1)", p.api_version));
  r.str("kind", p.kind, true);
  if (p.kind != "Profile") MapReader::fail(r.take("kind"), "kind", fmt::format("expected Profile, got '{}'", p.kind));
  r.object("metadata", [&](MapReader& m) {
    m.str("name", p.metadata.name);
    m.str("generator", p.metadata.generator);
  });
  r.object("source", [&](MapReader& s) {
    s.str("root", p.source.root);
    s.object("os", [&](MapReader& o) {
      o.str("id", p.source.os.id);
      o.str("version", p.source.os.version);
      o.str("pretty", p.source.os.pretty);
    });
    s.object("libc", [&](MapReader& l) {
      l.str("name", p.source.libc.name);
      l.str("version", p.source.libc.version);
      l.path("path", p.source.libc.path);
    });
  });
  r.object("binary", [&](MapReader& b) {
    BinaryInfo& x = p.binary;
    b.path("path", x.path, true);
    b.str("arch", x.arch);
    b.str("class", x.elf_class);
    b.str("linkage", x.linkage);
    b.boolean("pie", x.pie);
    b.str("interpreter", x.interpreter);
    b.str("sha256", x.sha256);
    b.str("build_id", x.build_id);
    b.integer("size", x.size, UINT64_MAX >> 1);
    b.str("soname", x.soname);
    b.strings("needed", x.needed);
    b.strings("rpath", x.rpath);
    b.strings("runpath", x.runpath);
  });
  r.strings("entrypoint", p.entrypoint);
  r.str("user", p.user);
  r.path("workdir", p.workdir);
  r.string_map("env", p.env);
  r.object("service", [&](MapReader& v) {
    v.str("type", p.service.type);
    v.path("pidfile", p.service.pidfile);
    v.paths("runtime_directories", p.service.runtime_directories);
    v.str("runtime_directory_mode", p.service.runtime_directory_mode);
    v.integer("stop_timeout", p.service.stop_timeout, kMaxStopTimeout);
    v.strings("evidence", p.service.evidence);
  });
  r.object("requires", [&](MapReader& q) {
    q.str("glibc", p.requires_.glibc);
    q.str("kernel", p.requires_.kernel);
    q.string_map("versions", p.requires_.versions);
    q.evidence_map("evidence", p.requires_.evidence);
  });
  r.list("libraries", p.libraries, [](MapReader& m, Library& l) {
    m.str("soname", l.soname, true);
    m.path("path", l.path, true);
    m.str("opened_as", l.opened_as);
    m.strings("needed_by", l.needed_by);
    m.str("found_via", l.found_via);
    m.strings("evidence", l.evidence);
  });
  r.list("missing_libraries", p.missing_libraries, [](MapReader& m, MissingLibrary& l) {
    m.str("soname", l.soname, true);
    m.strings("needed_by", l.needed_by);
  });
  r.list("files", p.files, [](MapReader& m, FileFact& f) {
    m.path("path", f.path, true);
    m.str("access", f.access);
    m.boolean("optional", f.optional);
    m.strings("evidence", f.evidence);
  });
  r.object("network", [&](MapReader& n) {
    n.strings("apis", p.network.apis);
    n.list("listen", p.network.listen, [](MapReader& m, ListenFact& l) {
      m.integer("port", l.port, 65535, true);
      m.str("proto", l.proto);
      m.str("address", l.address);
      m.str("confidence", l.confidence);
      m.strings("evidence", l.evidence);
    });
    n.list("connect", p.network.connect, [](MapReader& m, ConnectFact& c) {
      m.str("host", c.host);
      m.integer("port", c.port, 65535);
      m.str("proto", c.proto);
      m.str("confidence", c.confidence);
      m.strings("evidence", c.evidence);
    });
  });
  r.object("syscalls", [&](MapReader& s) {
    s.str("arch", p.syscalls.arch);
    s.strings("allow", p.syscalls.allow);
    s.integer("unresolved_sites", p.syscalls.unresolved_sites, UINT64_MAX >> 1);
    s.evidence_map("evidence", p.syscalls.evidence);
  });
  r.list("hazards", p.hazards, [](MapReader& m, Hazard& h) {
    m.str("id", h.id, true);
    m.str("severity", h.severity);
    m.str("message", h.message);
    m.strings("evidence", h.evidence);
  });
  r.object("redirects", [&](MapReader& d) {
    d.list("paths", p.redirects.paths, [](MapReader& m, PathRedirect& x) {
      m.path("from", x.from, true);
      m.path("to", x.to, true);
    });
    d.list("ports", p.redirects.ports, [](MapReader& m, PortRedirect& x) {
      m.integer("from", x.from, 65535, true);
      m.integer("to", x.to, 65535, true);
      m.str("proto", x.proto);
      m.str("address", x.address);
    });
    d.list("hosts", p.redirects.hosts, [](MapReader& m, HostRedirect& x) {
      m.str("from", x.from, true);
      m.str("to", x.to, true);
    });
    d.object("identity", [&](MapReader& i) {
      i.str("uname_release", p.redirects.identity.uname_release);
      i.str("uname_version", p.redirects.identity.uname_version);
      i.str("uname_machine", p.redirects.identity.uname_machine);
      i.str("hostname", p.redirects.identity.hostname);
    });
  });
  r.object("enforcement", [&](MapReader& e) {
    e.object("seccomp", [&](MapReader& s) {
      s.str("mode", p.enforcement.seccomp.mode);
      s.str("default_action", p.enforcement.seccomp.default_action);
      s.str("errno", p.enforcement.seccomp.errno_name);
    });
    e.str("proxy", p.enforcement.proxy);
  });
  r.finish();
  if (p.binary.path.empty()) MapReader::fail(root, "", "missing required field 'binary.path'");
  return p;
}

// yaml-cpp reports deep nesting where its scanner stands, which inside a
// flow collection ([...] or {...}, all of JSON) is that collection's end. The
// line where flow nesting first passes 100 levels (no profile needs 10) is
// where a reader should look; quoted scalars and comments are skipped.
int deep_nesting_line(const std::string& text, int fallback) {
  int line = 1, depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
    } else if ((c == '"' || c == '\'') && (i == 0 || strchr(" \t\n[{,:", text[i - 1]))) {  // not "it's"
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\') ++i;
      }
    } else if (c == '#' && (i == 0 || isspace(static_cast<unsigned char>(text[i - 1])))) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > 100) return line;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return fallback;
}

}  // namespace

Result<Profile> parse_profile(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) return bad_input(fmt::format("{}: empty profile", origin));
    Profile p = read_tree(root);
    Status valid = validate_profile(p, origin);
    if (!valid) return valid.error();
    p.validated = true;
    return p;
  } catch (const SchemaError& e) {
    return bad_input(fmt::format("{}: {}", origin, e.message));
  } catch (const YAML::DeepRecursion& e) {
    return bad_input(fmt::format("{}: line {}: nesting too deep (more than {} levels)", origin,
                                 deep_nesting_line(text, e.mark.line + 1), e.depth() - 1));
  } catch (const YAML::Exception& e) {
    return bad_input(fmt::format("{}: line {}: not valid YAML/JSON: {}", origin, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return bad_input(fmt::format("{}: cannot read profile: {}", origin, e.what()));
  }
}

Result<Profile> load_profile(const std::string& path) {
  auto text = read_file(path, 256ull << 20);
  if (!text) return text.error();
  return parse_profile(*text, path);
}

namespace {

bool is_ip_literal(const std::string& s, int* family = nullptr) {
  unsigned char buf[16];
  for (int f : {AF_INET, AF_INET6})
    if (inet_pton(f, s.c_str(), buf) == 1) {
      if (family) *family = f;
      return true;
    }
  return false;
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Text that reaches the runtime configs (OCI config.json is JSON, LXC's
// config is one line per key) and the plan: UTF-8, one line.
std::string text_problem(const std::string& s) {
  if (!is_utf8(s)) return "is not valid UTF-8 (runtime configs carry it as JSON text)";
  if (s.find_first_of("\n\r") != std::string::npos) return "contains a line break (line-based configs would split it)";
  return "";
}

Status check_process(const Profile& p, const std::function<Status(const std::string&)>& err) {
  if (!p.workdir.empty() && p.workdir[0] != '/') return err(fmt::format("workdir: '{}' is not absolute", p.workdir));
  std::vector<std::pair<std::string, const std::string*>> texts{
      {"binary.path", &p.binary.path}, {"workdir", &p.workdir}, {"user", &p.user}, {"metadata.name", &p.metadata.name}};
  for (size_t i = 0; i < p.entrypoint.size(); ++i)
    texts.emplace_back(fmt::format("entrypoint[{}]", i), &p.entrypoint[i]);
  for (const auto& [k, v] : p.env) {
    if (k.empty() || k.find('=') != std::string::npos)
      return err(fmt::format("env: '{}' is not a variable name (empty or contains '=')", k));
    texts.emplace_back("env." + k, &k);
    texts.emplace_back("env." + k, &v);
  }
  for (const auto& [field, value] : texts)
    if (std::string why = text_problem(*value); !why.empty()) return err(fmt::format("{}: {}", field, why));
  return Status::success();
}

Status check_redirects(const Redirects& red, const std::function<Status(const std::string&)>& err) {
  // Paths (already normalized by the reader): one target per source.
  std::map<std::string, std::string> paths;
  for (size_t i = 0; i < red.paths.size(); ++i) {
    const PathRedirect& r = red.paths[i];
    std::string field = fmt::format("redirects.paths[{}]", i);
    if (r.from.empty() || r.from[0] != '/' || r.to.empty() || r.to[0] != '/')
      return err(fmt::format("{}: '{}' -> '{}' must both be absolute", field, r.from, r.to));
    // The reader normalized them; a profile built in code may not be.
    std::string from = normalize_absolute(r.from), to = normalize_absolute(r.to);
    if (to == "/") return err(fmt::format("{}.to: '/' cannot be a redirect target (it is the whole image)", field));
    for (const char* kernel : {"/proc", "/sys", "/dev"})
      if (under(to, kernel))
        return err(fmt::format("{}.to: '{}' is under {}, which the kernel and runtime own", field, r.to, kernel));
    if (std::string why = text_problem(to); !why.empty()) return err(fmt::format("{}.to: {}", field, why));
    auto [it, inserted] = paths.emplace(from, to);
    if (!inserted && it->second != to)
      return err(fmt::format("redirects.paths: '{}' redirected twice ('{}' and '{}')", from, it->second, to));
  }

  std::set<std::pair<std::string, uint16_t>> ports;
  for (const auto& r : red.ports) {
    if (r.proto != "tcp" && r.proto != "udp")
      return err(fmt::format("redirects.ports: proto '{}' is not tcp or udp", r.proto));
    if (r.from == 0 || r.to == 0)
      return err(fmt::format("redirects.ports: {} -> {}: ports must be 1-65535", r.from, r.to));
    if (!r.address.empty() && !is_ip_literal(r.address))
      return err(fmt::format("redirects.ports: address '{}' of port {} is not an IP literal", r.address, r.from));
    if (!ports.emplace(r.proto, r.from).second)
      return err(fmt::format("redirects.ports: {}/{} redirected twice", r.from, r.proto));
  }

  for (const auto& r : red.hosts) {
    if (r.from.empty() || r.to.empty()) return err("redirects.hosts: from and to must not be empty");
    int ff = 0, tf = 0;
    if (is_ip_literal(r.from, &ff) && (!is_ip_literal(r.to, &tf) || tf != ff))
      return err(fmt::format(
          "redirects.hosts: '{}' is an IP literal, so its target must be an IP literal of the same family, not '{}'",
          r.from, r.to));
  }

  // struct utsname fields hold 64 bytes plus the NUL.
  const Identity& id = red.identity;
  for (const auto& [field, value] : std::vector<std::pair<const char*, const std::string*>>{
           {"uname_release", &id.uname_release},
           {"uname_version", &id.uname_version},
           {"uname_machine", &id.uname_machine},
           {"hostname", &id.hostname}}) {
    if (value->size() > 64)
      return err(fmt::format("redirects.identity.{}: longer than the 64 bytes uname() can report", field));
    if (std::string why = text_problem(*value); !why.empty())
      return err(fmt::format("redirects.identity.{}: {}", field, why));
  }
  return Status::success();
}

// The service section becomes decant-init's arguments and setup file.
Status check_service(const ServiceInfo& s, const std::function<Status(const std::string&)>& err) {
  static const std::set<std::string> types{"", "simple", "exec", "forking", "notify", "notify-reload", "idle", "dbus"};
  if (!types.count(s.type))
    return err(fmt::format("service.type: '{}' is not one of simple, exec, forking, notify, notify-reload, idle, dbus",
                           s.type));
  std::vector<std::pair<std::string, const std::string*>> paths;
  if (!s.pidfile.empty()) paths.emplace_back("service.pidfile", &s.pidfile);
  for (size_t i = 0; i < s.runtime_directories.size(); ++i)
    paths.emplace_back(fmt::format("service.runtime_directories[{}]", i), &s.runtime_directories[i]);
  for (const auto& [field, value] : paths) {
    if (value->empty() || (*value)[0] != '/' || *value == "/")
      return err(fmt::format("{}: '{}' is not an absolute path below /", field, *value));
    if (std::string why = text_problem(*value); !why.empty()) return err(fmt::format("{}: {}", field, why));
  }
  const std::string& m = s.runtime_directory_mode;
  if (!m.empty() && (m.size() > 5 || m.find_first_not_of("01234567") != std::string::npos || std::stoul(m, nullptr, 8) > 07777))
    return err(fmt::format("service.runtime_directory_mode: '{}' is not an octal mode (0000-7777)", m));
  if (s.stop_timeout > kMaxStopTimeout)
    return err(fmt::format("service.stop_timeout: {} is more than decant-init accepts ({} s)", s.stop_timeout,
                           kMaxStopTimeout));
  return Status::success();
}

}  // namespace

Status validate_profile(const Profile& p, const std::string& origin) {
  std::function<Status(const std::string&)> err = [&](const std::string& m) {
    return Status(bad_input(origin.empty() ? m : fmt::format("{}: {}", origin, m)));
  };
  static const std::set<std::string> modes{"enforce", "log", "off"};
  static const std::set<std::string> actions{"errno", "kill"};
  if (!modes.count(p.enforcement.seccomp.mode))
    return err(fmt::format("enforcement.seccomp.mode: '{}' is not one of enforce, log, off", p.enforcement.seccomp.mode));
  if (!actions.count(p.enforcement.seccomp.default_action))
    return err(fmt::format("enforcement.seccomp.default_action: '{}' is not one of errno, kill",
                           p.enforcement.seccomp.default_action));
  static const std::set<std::string> proxy_modes{"auto", "on", "off"};
  if (!proxy_modes.count(p.enforcement.proxy))
    return err(fmt::format("enforcement.proxy: '{}' is not one of auto, on, off", p.enforcement.proxy));
  if (Status s = check_process(p, err); !s) return s;
  if (Status s = check_service(p.service, err); !s) return s;
  static const std::set<std::string> accesses{"read", "write", "exec"};
  for (auto& f : p.files) {
    if (f.path.empty() || f.path[0] != '/') return err(fmt::format("files: path '{}' is not absolute", f.path));
    if (!accesses.count(f.access))
      return err(fmt::format("files: access '{}' of {} is not one of read, write, exec", f.access, f.path));
  }
  if (Status s = check_redirects(p.redirects, err); !s) return s;
  for (auto& h : p.hazards)
    if (h.severity != "info" && h.severity != "warning" && h.severity != "error")
      return err(fmt::format("hazards: severity '{}' of {} is not info, warning or error", h.severity, h.id));
  return Status::success();
}

int compare_versions(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    uint64_t x = 0, y = 0;
    while (i < a.size() && isdigit(static_cast<unsigned char>(a[i]))) x = x * 10 + (a[i++] - '0');
    while (j < b.size() && isdigit(static_cast<unsigned char>(b[j]))) y = y * 10 + (b[j++] - '0');
    if (x != y) return x < y ? -1 : 1;
    while (i < a.size() && !isdigit(static_cast<unsigned char>(a[i]))) ++i;
    while (j < b.size() && !isdigit(static_cast<unsigned char>(b[j]))) ++j;
  }
  return 0;
}

}  // namespace decant
