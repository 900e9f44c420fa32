// What code analysis learns about one ELF object on its own, independent of
// the program that loads it: functions with their syscall sites and edges,
// imports, exports, roots and literal facts. Built by summarize.h; it is the
// unit cached by content hash (code_cache.h), so everything that depends on
// the rest of the closure (which import resolves where, what is reachable)
// is left to the passes of closure_analysis.h and recomputed for every program.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzer/code/disassembly.h"

namespace decant {

// A syscall number recovered at a site (or through a call that passes it).
struct SyscallUse {
  int number = -1;
  uint64_t site = 0;  // address of the syscall instruction or of the call
};

// A call to an imported function whose first argument (rdi) was a constant:
// lets syscall(SYS_gettid) in one object resolve through another's syscall().
// A call absent from this list had a first argument that was not constant.
struct ImportArgCall {
  uint32_t import = 0;
  uint64_t site = 0;
  std::vector<int64_t> values;
};

struct FunctionSummary {
  uint64_t addr = 0;
  std::string name;                 // symbol name; empty for unnamed code
  std::vector<uint32_t> calls;      // local functions: called, jumped to, address taken, fallen into
  std::vector<uint32_t> imports;    // indices into ObjectSummary::imports
  std::vector<SyscallUse> syscalls;
  std::vector<uint64_t> unresolved;  // syscall sites whose number was not recovered
  std::vector<uint64_t> raw_sites;   // every syscall instruction here (raw-syscall hazard)
  std::vector<uint64_t> vsyscall;    // branches / constants at the vsyscall page
  int8_t number_param = kNoReg;      // the syscall number arrives in this argument register
  std::vector<ImportArgCall> import_args;
  std::vector<uint32_t> data;        // data items (ObjectSummary::items) this code reads or takes the address of
};

// A piece of data holding pointers: the span from one data start (section,
// data symbol, address some relocation points to, GOT slot) to the next.
// Its code pointers become reachable when the item is live: when reachable
// code refers to any address inside it, a live item points to it, another
// object imports it, or nothing visible refers to it at all (then some
// invisible reader may: ld.so, the unwinder, __start_SECTION loops).
struct DataItem {
  uint64_t addr = 0;
  std::vector<uint32_t> functions;  // local code addresses stored here
  std::vector<uint32_t> items;      // other items of this object pointed to from here
  std::vector<uint32_t> imports;    // symbols (functions or data) relocated into here
};

struct ImportRef {
  std::string name, version;
  bool operator<(const ImportRef& o) const { return name != o.name ? name < o.name : version < o.version; }
};

struct ExportRef {
  std::string name, version;
  bool default_version = true;
  uint32_t function = 0;  // index into functions (exports) or items (data_exports)
};

// Literal facts found in this object's code and read-only data.
struct LiteralRef {
  // ConfigText: a configuration the program carries as text (BIND's default
  // named.conf options); value is the whole text.
  // DefaultPort: a constant that reaches sin_port at run time through a
  // global or a setter: the program's default, which its configuration may
  // override (read only when no configuration file names a port).
  enum Kind : uint8_t { Path, Host, Port, Dlopen, Service, ConfigText, DefaultPort };
  Kind kind = Path;
  std::string value;       // path, host, soname, service name; port as decimal
  std::string hint;        // Path: read|write; Port: listen|connect|""
  std::string confidence;  // high | medium | low
  std::string evidence;    // "static: ..." without the object name
  uint32_t function = UINT32_MAX;  // referencing function; UINT32_MAX when only in data
};

struct ObjectSummary {
  static constexpr int kFormatVersion = 16;  // 16: default ports through globals and setters
  std::string sha256;
  std::vector<FunctionSummary> functions;  // sorted by address
  std::vector<ImportRef> imports;
  std::vector<ExportRef> exports;
  std::vector<uint32_t> roots;         // init/fini, IRELATIVE resolvers (non-PIE: code addresses stored in data)
  std::vector<uint32_t> root_imports;  // copied or personality symbols (non-PIE: imports stored in data)
  std::vector<DataItem> items;         // data holding pointers (PIE and shared objects only)
  std::vector<uint32_t> root_items;    // items no visible code, data or export refers to
  std::vector<ExportRef> data_exports; // exported data symbols whose item holds pointers
  int64_t entry_function = -1;
  std::vector<LiteralRef> literals;
  uint64_t instructions = 0;
  uint64_t code_bytes = 0;
  std::string error;  // non-empty when the object could not be analyzed

  std::string function_name(uint32_t f) const;
};

}  // namespace decant
