// The ELF reader: validates an ELF file's headers ourselves (so malformed input
// is rejected with a clear message) and extracts from those validated tables
// the structural facts the analyzer needs into a plain struct: program
// headers, the dynamic section, version needs and notes, never symbols or
// relocations, so a closure of hundreds of libraries costs a few pages of
// each. The same facts through a full LIEF parse are kept as the reference
// the reader is tested (and fuzzed) against.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

// What ld.so checks before accepting a candidate library: read from the
// first bytes only, so scanning many candidates stays cheap.
struct ElfIdent {
  bool is64 = false;
  bool little_endian = true;
  uint16_t machine = 0;
  uint16_t type = 0;  // ET_EXEC, ET_DYN, ...
  uint8_t osabi = 0;
};

struct ElfVersionNeed {
  std::string file;                   // e.g. libc.so.6
  std::vector<std::string> versions;  // e.g. GLIBC_2.14
};

struct ElfInfo {
  ElfIdent ident;
  uint64_t size = 0;
  std::string interpreter;  // PT_INTERP
  std::string soname;
  std::vector<std::string> needed;
  std::vector<std::string> rpath;    // raw DT_RPATH entries (DSTs unexpanded)
  std::vector<std::string> runpath;  // raw DT_RUNPATH entries
  bool has_rpath_tag = false;
  bool has_runpath_tag = false;
  bool nodeflib = false;  // DF_1_NODEFLIB
  bool df1_pie = false;   // DF_1_PIE
  bool textrel = false;   // DT_TEXTREL or DF_TEXTREL
  bool has_gnu_stack = false;
  bool stack_executable = false;
  uint32_t gnu_stack_flags = 0;
  std::vector<ElfVersionNeed> version_needs;
  std::string abi_tag_os;      // "Linux" etc, from NT_GNU_ABI_TAG
  std::string abi_tag_kernel;  // "3.2.0"
  std::string build_id;        // hex
  std::string sha256;          // of the file's bytes: the content key later stages cache by
  // The file's bytes as read_elf() read them, so code analysis does not read
  // the file again (null from read_elf_bytes()).
  std::shared_ptr<const std::string> bytes;
};

// Reads the identification and header fields. Fails on anything that is not
// a well-formed ELF header (bad magic, truncated, unknown class); messages
// call the file display_name (the guest path).
Result<ElfIdent> read_elf_ident(const std::string& host_path, const std::string& display_name);

// How much of the file read_elf() reads.
enum class ElfRead {
  Content,  // all of it, hashed (sha256) and kept in ElfInfo::bytes: for code analysis and content caches
  Headers,  // mapped, only the pages of the tables read; sha256 empty, bytes null: for closures alone
};

// Structural read. `display_name` is what error messages call the file
// (the guest path). Never throws, never crashes on malformed input that the
// header validation can detect.
Result<ElfInfo> read_elf(const std::string& host_path, const std::string& display_name,
                         ElfRead mode = ElfRead::Content);
Result<ElfInfo> read_elf_bytes(const std::vector<uint8_t>& bytes, const std::string& display_name);
// The same validation, the facts extracted by a full LIEF parse instead:
// the reference read_elf_bytes() must agree with (tests, fuzzer). Defined
// in elf_lief.cpp, library decant_elf_lief, which decant does not link.
Result<ElfInfo> read_elf_bytes_lief(const std::vector<uint8_t>& bytes, const std::string& display_name);

// "x86_64", "i386", "aarch64", ... for an e_machine value.
std::string machine_name(uint16_t machine);

}  // namespace decant
