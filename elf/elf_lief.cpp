// The only file that talks to LIEF: extracts the structural facts of an ELF
// image that elf_file.cpp has already validated, by a full parse. It is the
// reference the header reader (elf_file.cpp) is checked against; decant itself
// reads headers only (a full parse of libc alone took longer than ldd's whole
// run). Kept apart because LIEF's headers undefine <elf.h>'s macros, and so
// that a LIEF upgrade touches one file.
#include "elf/elf_lief.h"

#include <cstring>
#include <mutex>

#include <LIEF/ELF.hpp>
#include <LIEF/logging.hpp>
#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

namespace {

void split_path_list(const std::string& s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(':', i);
    if (j == std::string::npos) j = s.size();
    // ld.so treats an empty element as the current directory; keep it as ".".
    out.push_back(j > i ? s.substr(i, j - i) : std::string("."));
    i = j + 1;
  }
}

void quiet_lief() {
  static std::once_flag once;
  std::call_once(once, [] { LIEF::Logger::disable(); });
}

}  // namespace

Result<ElfInfo> extract_with_lief(const std::vector<uint8_t>& bytes, const ElfIdent& ident, const std::string& name) {
  quiet_lief();
  ElfInfo info;
  info.ident = ident;
  info.size = bytes.size();
  std::unique_ptr<LIEF::ELF::Binary> bin;
  try {
    bin = LIEF::ELF::Parser::parse(bytes, name);
  } catch (const std::exception& e) {
    return bad_input(fmt::format("{}: malformed ELF: {}", name, e.what()));
  }
  if (!bin) return bad_input(fmt::format("{}: malformed ELF (LIEF could not parse it)", name));
  try {
    if (bin->has_interpreter()) info.interpreter = bin->interpreter();
    for (const LIEF::ELF::Segment& seg : bin->segments()) {
      auto type = seg.type();
      if (type == LIEF::ELF::SEGMENT_TYPES::PT_GNU_STACK) {
        info.has_gnu_stack = true;
        info.gnu_stack_flags = static_cast<uint32_t>(seg.flags());
        info.stack_executable = (info.gnu_stack_flags & static_cast<uint32_t>(LIEF::ELF::ELF_SEGMENT_FLAGS::PF_X)) != 0;
      }
    }
    for (const LIEF::ELF::DynamicEntry& e : bin->dynamic_entries()) {
      using T = LIEF::ELF::DYNAMIC_TAGS;
      switch (e.tag()) {
        case T::DT_NEEDED:
          info.needed.push_back(static_cast<const LIEF::ELF::DynamicEntryLibrary&>(e).name());
          break;
        case T::DT_SONAME:
          info.soname = static_cast<const LIEF::ELF::DynamicSharedObject&>(e).name();
          break;
        case T::DT_RPATH:
          info.has_rpath_tag = true;
          split_path_list(static_cast<const LIEF::ELF::DynamicEntryRpath&>(e).name(), info.rpath);
          break;
        case T::DT_RUNPATH:
          info.has_runpath_tag = true;
          split_path_list(static_cast<const LIEF::ELF::DynamicEntryRunPath&>(e).name(), info.runpath);
          break;
        case T::DT_TEXTREL:
          info.textrel = true;
          break;
        case T::DT_FLAGS:
          if (e.value() & static_cast<uint64_t>(LIEF::ELF::DYNAMIC_FLAGS::DF_TEXTREL)) info.textrel = true;
          break;
        case T::DT_FLAGS_1:
          if (e.value() & static_cast<uint64_t>(LIEF::ELF::DYNAMIC_FLAGS_1::DF_1_NODEFLIB)) info.nodeflib = true;
          if (e.value() & 0x08000000ull /* DF_1_PIE, newer than LIEF 0.9 */) info.df1_pie = true;
          break;
        default:
          break;
      }
    }
    for (const LIEF::ELF::SymbolVersionRequirement& req : bin->symbols_version_requirement()) {
      ElfVersionNeed need;
      need.file = req.name();
      for (const LIEF::ELF::SymbolVersionAuxRequirement& aux : req.auxiliary_symbols()) need.versions.push_back(aux.name());
      info.version_needs.push_back(std::move(need));
    }
    for (const LIEF::ELF::Note& note : bin->notes()) {
      if (note.name() != "GNU") continue;
      if (note.type() == LIEF::ELF::NOTE_TYPES::NT_GNU_ABI_TAG && note.description().size() >= 16) {
        const auto& d = note.description();
        uint32_t w[4];
        std::memcpy(w, d.data(), 16);
        static const char* oses[] = {"Linux", "GNU", "Solaris2", "FreeBSD"};
        info.abi_tag_os = w[0] < 4 ? oses[w[0]] : "unknown";
        info.abi_tag_kernel = fmt::format("{}.{}.{}", w[1], w[2], w[3]);
      } else if (note.type() == LIEF::ELF::NOTE_TYPES::NT_GNU_BUILD_ID) {
        info.build_id = to_hex(note.description().data(), note.description().size());
      }
    }
  } catch (const std::exception& e) {
    return bad_input(fmt::format("{}: malformed ELF: {}", name, e.what()));
  }
  return info;
}

Result<ElfInfo> read_elf_bytes_lief(const std::vector<uint8_t>& bytes, const std::string& name) {
  return read_elf_bytes_via(bytes, name, extract_with_lief);
}

}  // namespace decant
