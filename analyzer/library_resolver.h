// The library closure, resolved exactly as the guest's ld.so would resolve it
// at program start: breadth-first over DT_NEEDED, RPATH of the loader chain
// (only when the loader has no RUNPATH), RUNPATH of the loader, the
// ld.so.conf directories, then the trusted system directories, skipping
// candidates of the wrong class or machine and de-duplicating by name and
// soname. See docs/closure.md for the rules and what is deliberately left out.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "elf/elf_file.h"
#include "guest/guest_root.h"
#include "analyzer/guest_facts.h"
#include "analyzer/loader_config.h"

namespace decant {

// What one run learns about one guest's libraries, shared by every closure
// it resolves (convert resolves hundreds, so 50 services using one libc read
// it once): parsed ELF files by canonical guest path, the guest path each
// search candidate resolves to with its ELF identification, and the loader
// configuration per interpreter, and the guest-wide facts every profile
// records (OS, libc). The guest is a read-only source for the
// whole run, so entries never go stale. Thread-safe.
class ElfCache {
 public:
  // libraries: how much of each library is read; Headers when no stage
  // needs their bytes or content hash (a closure without code analysis).
  explicit ElfCache(ElfRead libraries = ElfRead::Content) : mode_(libraries) {}

  Result<std::shared_ptr<const ElfInfo>> get(const GuestRoot& root, const std::string& canonical_path);
  // root.resolve(guest_path), remembered.
  Result<std::string> resolve(const GuestRoot& root, const std::string& guest_path);
  // read_elf_ident() of a canonical path, remembered.
  Result<ElfIdent> ident(const GuestRoot& root, const std::string& canonical_path);
  // load_loader_config(), remembered by its arguments.
  LoaderConfig loader_config(const GuestRoot& root, const std::string& interpreter, bool is64, uint16_t machine);
  // detect_os() and detect_libc(), remembered (the libc banner is a scan of
  // the whole libc).
  OsInfo os(const GuestRoot& root);
  LibcInfo libc(const GuestRoot& root, const std::string& libc_guest_path);

 private:
  ElfRead mode_;
  std::mutex mutex_;
  std::map<std::string, Result<std::shared_ptr<const ElfInfo>>> entries_;
  std::map<std::string, Result<std::string>> resolved_;
  std::map<std::string, Result<ElfIdent>> idents_;
  std::map<std::string, LoaderConfig> loaders_;
  std::map<std::string, OsInfo> os_;
  std::map<std::string, LibcInfo> libcs_;
};

struct LoadedObject {
  std::string found_path;      // the path ld.so opened (defines $ORIGIN)
  std::string canonical_path;  // every symlink resolved inside the guest
  std::shared_ptr<const ElfInfo> elf;
  std::vector<std::string> names;  // names it answers to: requested names and soname
  int loader = -1;                 // index of the object whose DT_NEEDED loaded it
  std::vector<std::string> needed_by;
  std::string found_via;  // main | interpreter | rpath | runpath | ld.so.conf | default | path
  std::string search_dir;
};

struct UnresolvedLibrary {
  std::string name;
  std::vector<std::string> needed_by;
  std::string reason;
};

struct Closure {
  std::vector<LoadedObject> objects;  // [0] is the main binary, then ld.so load order
  std::vector<UnresolvedLibrary> missing;
  LoaderConfig loader;
};

// Expands $ORIGIN, $LIB and $PLATFORM (and their ${} forms) in one string.
std::string expand_dst(const std::string& s, const std::string& origin, const LoaderConfig& cfg);

// main_display is how the main binary is named in needed_by lists.
Closure resolve_closure(const GuestRoot& root, const std::string& main_canonical, const std::string& main_display,
                        std::shared_ptr<const ElfInfo> main, ElfCache& cache);

}  // namespace decant
