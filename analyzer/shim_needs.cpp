// Inspects the shim binary for the packager (see shim_needs.h).
#include "analyzer/shim_needs.h"

#include <memory>

#include "analyzer/analyze.h"
#include "analyzer/library_resolver.h"
#include "elf/elf_file.h"
#include "profiles/profile.h"

namespace decant {

Result<ShimNeeds> inspect_shim(const GuestRoot& root, const std::string& shim_path) {
  auto elf = read_elf(shim_path, shim_path);
  if (!elf) return elf.error();
  ShimNeeds out;
  out.host_path = shim_path;
  for (const auto& need : elf->version_needs)
    for (const auto& v : need.versions) {
      std::string family, version;
      if (split_symbol_version(v, family, version) && family == "GLIBC" &&
          (out.glibc_floor.empty() || compare_versions(version, out.glibc_floor) > 0))
        out.glibc_floor = version;
    }
  // The shim is preloaded, so its own DT_NEEDED resolve through the guest's
  // search path like any library's; it lands at /.decant/ in the image.
  ElfCache cache;
  auto main = std::make_shared<const ElfInfo>(std::move(*elf));
  Closure closure = resolve_closure(root, "/.decant/libdecant-shim.so", shim_path, main, cache);
  for (size_t i = 1; i < closure.objects.size(); ++i) out.libraries.push_back(closure.objects[i].found_path);
  for (const auto& m : closure.missing) out.missing.push_back(m.name);
  return out;
}

}  // namespace decant
