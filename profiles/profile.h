// The redirect profile: the in-memory form of the contract documented in
// docs/profile.md. It is the only thing that crosses from analysis to
// packaging, so every field here has a reader, a writer and a schema test.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

using Evidence = std::vector<std::string>;  // "static: …", "observed: …", "config: …", "user: …"

struct OsInfo {
  std::string id, version, pretty;
  bool operator==(const OsInfo&) const;
};

struct LibcInfo {
  std::string name, version;  // glibc | musl | unknown
  std::string path;           // guest path of the libc the guest's dynamic programs use
  bool operator==(const LibcInfo&) const;
};

struct SourceInfo {
  std::string root;
  OsInfo os;
  LibcInfo libc;
  bool operator==(const SourceInfo&) const;
};

struct BinaryInfo {
  std::string path;         // guest path as given
  std::string arch;         // x86_64 | i386 | aarch64 | ...
  std::string elf_class;    // elf32 | elf64
  std::string linkage;      // dynamic | static | static-pie
  bool pie = false;
  std::string interpreter;  // PT_INTERP as written in the binary
  std::string sha256;
  std::string build_id;
  uint64_t size = 0;
  std::string soname;
  std::vector<std::string> needed;   // DT_NEEDED in order
  std::vector<std::string> rpath;    // DT_RPATH entries, DSTs expanded
  std::vector<std::string> runpath;  // DT_RUNPATH entries, DSTs expanded
  bool operator==(const BinaryInfo&) const;
};

struct Requires {
  std::string glibc;   // highest GLIBC_x.y needed anywhere in the closure
  std::string kernel;  // highest NT_GNU_ABI_TAG minimum kernel in the closure
  std::map<std::string, std::string> versions;  // GLIBC, GLIBCXX, CXXABI, OPENSSL, ...
  std::map<std::string, Evidence> evidence;     // per versions key: which object needs it
  bool operator==(const Requires&) const;
};

struct Library {
  std::string soname;
  std::string path;       // guest path with symlinks resolved
  std::string opened_as;  // the path ld.so opens (before symlinks); the image must keep it working
  std::vector<std::string> needed_by;
  std::string found_via;  // interpreter | rpath | runpath | ld.so.conf | default | path | dlopen
  Evidence evidence;
  bool operator==(const Library&) const;
};

struct MissingLibrary {
  std::string soname;
  std::vector<std::string> needed_by;
  bool operator==(const MissingLibrary&) const;
};

struct FileFact {
  std::string path;
  std::string access;  // read | write | exec
  bool optional = false;
  Evidence evidence;
  bool operator==(const FileFact&) const;
};

struct ListenFact {
  uint16_t port = 0;
  std::string proto = "tcp";
  std::string address;
  std::string confidence;  // high | medium | low
  Evidence evidence;
  bool operator==(const ListenFact&) const;
};

struct ConnectFact {
  std::string host;
  uint16_t port = 0;
  std::string proto = "tcp";
  std::string confidence;
  Evidence evidence;
  bool operator==(const ConnectFact&) const;
};

struct Network {
  std::vector<std::string> apis;  // socket-family imports that are reachable
  std::vector<ListenFact> listen;
  std::vector<ConnectFact> connect;
  bool operator==(const Network&) const;
};

struct Syscalls {
  std::string arch;
  std::vector<std::string> allow;
  uint64_t unresolved_sites = 0;
  std::map<std::string, Evidence> evidence;
  bool operator==(const Syscalls&) const;
};

struct Hazard {
  std::string id;
  std::string severity;  // info | warning | error
  std::string message;
  Evidence evidence;
  bool operator==(const Hazard&) const;
};

struct PathRedirect {
  std::string from, to;
  bool operator==(const PathRedirect&) const;
};
struct PortRedirect {
  uint16_t from = 0, to = 0;
  std::string proto = "tcp";
  std::string address;  // optional: rewrite the address too
  bool operator==(const PortRedirect&) const;
};
struct HostRedirect {
  std::string from, to;
  bool operator==(const HostRedirect&) const;
};
struct Identity {
  std::string uname_release, uname_version, uname_machine, hostname;
  bool operator==(const Identity&) const;
};
struct Redirects {
  std::vector<PathRedirect> paths;
  std::vector<PortRedirect> ports;
  std::vector<HostRedirect> hosts;
  Identity identity;
  bool operator==(const Redirects&) const;
};

struct SeccompPolicy {
  std::string mode = "enforce";          // enforce | log | off
  std::string default_action = "errno";  // errno | kill
  std::string errno_name = "EPERM";      // key `errno` in the file
  bool operator==(const SeccompPolicy&) const;
};
struct Enforcement {
  SeccompPolicy seccomp;
  // Seccomp user-notification proxy (docs/proxy.md): auto | on | off. auto:
  // used when the binary is static or has the raw-syscall hazard; on:
  // mandatory, the service does not start without it.
  std::string proxy = "auto";
  bool operator==(const Enforcement&) const;
};

// The longest service.stop_timeout: what decant-init's --stop-timeout
// accepts (init/args.c), one day. systemd's `infinity` is written as this.
inline constexpr uint32_t kMaxStopTimeout = 86400;

// How the VM's init ran the service (systemd's Type=, PIDFile=,
// RuntimeDirectory=, TimeoutStopSec=; a SysV script is forking): what
// decant-init follows.
struct ServiceInfo {
  std::string type;     // "" (= simple) | simple | exec | forking | notify | notify-reload | idle | dbus
  std::string pidfile;  // forking: where the daemon writes its pid (guest path)
  std::vector<std::string> runtime_directories;  // created at start, owned by the service user
  std::string runtime_directory_mode;            // octal, "0755" when empty
  // Seconds between the stop request (SIGTERM) and SIGKILL, 1..kMaxStopTimeout;
  // 0: decant-init's default (10 s).
  uint32_t stop_timeout = 0;
  Evidence evidence;
  bool operator==(const ServiceInfo&) const;
};

struct Metadata {
  std::string name;
  std::string generator;
  bool operator==(const Metadata&) const;
};

struct Profile {
  std::string api_version = "decant/v1";
  std::string kind = "Profile";
  Metadata metadata;
  SourceInfo source;
  BinaryInfo binary;
  std::vector<std::string> entrypoint;
  std::string user;
  std::string workdir;
  std::map<std::string, std::string> env;
  ServiceInfo service;
  Requires requires_;  // key `requires` in the file
  std::vector<Library> libraries;
  std::vector<MissingLibrary> missing_libraries;
  std::vector<FileFact> files;
  Network network;
  Syscalls syscalls;
  std::vector<Hazard> hazards;
  Redirects redirects;
  Enforcement enforcement;
  // Set by parse_profile once validate_profile passed, so that later stages
  // (compile_plan) do not validate again; not part of the file or of ==.
  bool validated = false;
  bool operator==(const Profile&) const;
  bool operator!=(const Profile& o) const { return !(*this == o); }
};

enum class ProfileFormat { Yaml, Json };

// Serializes with a stable field order (the order of docs/profile.md).
// Strings are bytes: what is not UTF-8 is written as \uefXX escapes, so the
// output is always UTF-8 and writing never throws.
std::string to_yaml(const Profile& profile);
std::string to_json(const Profile& profile);
std::string serialize(const Profile& profile, ProfileFormat format);

// Parses YAML or JSON (JSON is read as YAML, which keeps line numbers for
// errors). Unknown fields, wrong types and invalid values are errors naming
// the field and its line. `origin` names the input in messages. Guest paths
// come back normalized ('..' above / is an error), and the profile validated.
Result<Profile> parse_profile(const std::string& text, const std::string& origin);
Result<Profile> load_profile(const std::string& path);

// Semantic checks beyond the schema, the only place they are made: modes
// known, paths absolute, redirects the shim can apply (one target per source,
// ports 1-65535, IP literals where needed, uname fields that fit, targets
// outside /proc, /sys and /dev), text for the runtime configs UTF-8 and on
// one line. parse_profile runs it; messages start with `origin` when given.
Status validate_profile(const Profile& profile, const std::string& origin);

// True when `s` is well-formed UTF-8 (RFC 3629).
bool is_utf8(const std::string& s);

// Compares dotted version strings numerically ("2.17" < "2.28" < "2.28.1").
int compare_versions(const std::string& a, const std::string& b);

}  // namespace decant
