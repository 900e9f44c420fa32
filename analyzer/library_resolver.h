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
#include "analyzer/loader_config.h"

namespace decant {

// Parsed ELF files by canonical guest path, shared across analyses in one run
// so that 50 services using one libc parse it once.
class ElfCache {
 public:
  Result<std::shared_ptr<const ElfInfo>> get(const GuestRoot& root, const std::string& canonical_path);

 private:
  std::mutex mutex_;
  std::map<std::string, Result<std::shared_ptr<const ElfInfo>>> entries_;
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
