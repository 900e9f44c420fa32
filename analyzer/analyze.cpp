// The analyzer driver (see analyze.h): ELF structure, closure, version
// floors, guest facts and hazards, assembled into one profile.
#include "analyzer/analyze.h"

#include <algorithm>
#include <elf.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "analyzer/code/code_analysis.h"
#include "analyzer/config/config_facts.h"
#include "analyzer/config/config_sources.h"
#include "elf/elf_file.h"
#include "analyzer/guest_facts.h"
#include "common/file_util.h"
#include "common/version.h"

namespace decant {

const char* const kGenerator = kVersionString;

bool split_symbol_version(const std::string& name, std::string& family, std::string& version) {
  for (size_t i = 0; i + 1 < name.size(); ++i) {
    if (name[i] == '_' && isdigit(static_cast<unsigned char>(name[i + 1])) && i > 0) {
      family = name.substr(0, i);
      version = name.substr(i + 1);
      std::replace(version.begin(), version.end(), '_', '.');
      return true;
    }
  }
  return false;
}

namespace {

std::string linkage_of(const ElfInfo& elf) {
  if (!elf.interpreter.empty()) return "dynamic";
  if (elf.ident.type == ET_DYN && (elf.df1_pie || elf.needed.empty())) return "static-pie";
  if (elf.ident.type == ET_DYN) return "dynamic";  // a shared library analyzed on its own
  return "static";
}

void fill_binary(const std::string& guest_path, const ElfInfo& elf, const Closure& closure, BinaryInfo& b) {
  b.path = guest_path;
  b.arch = machine_name(elf.ident.machine);
  b.elf_class = elf.ident.is64 ? "elf64" : "elf32";
  b.linkage = linkage_of(elf);
  b.pie = elf.ident.type == ET_DYN && (!elf.interpreter.empty() || elf.df1_pie);
  b.interpreter = elf.interpreter;
  b.sha256 = elf.sha256;
  b.build_id = elf.build_id;
  b.size = elf.size;
  b.soname = elf.soname;
  b.needed = elf.needed;
  std::string origin = path_dirname(closure.objects.front().canonical_path);
  for (auto& r : elf.rpath) b.rpath.push_back(expand_dst(r, origin, closure.loader));
  for (auto& r : elf.runpath) b.runpath.push_back(expand_dst(r, origin, closure.loader));
}

void fill_libraries(const Closure& closure, Profile& p) {
  for (size_t i = 1; i < closure.objects.size(); ++i) {
    const LoadedObject& o = closure.objects[i];
    Library lib;
    lib.soname = o.elf->soname.empty() ? path_basename(o.found_path) : o.elf->soname;
    lib.path = o.canonical_path;
    lib.opened_as = o.found_path;
    lib.needed_by = o.needed_by;
    lib.found_via = o.found_via;
    if (o.found_via == "interpreter")
      lib.evidence.push_back(fmt::format("static: PT_INTERP {} of {}", o.found_path, p.binary.path));
    else
      lib.evidence.push_back(fmt::format("static: DT_NEEDED {} of {}, found as {} via {}", o.names.front(),
                                         o.needed_by.front(), o.found_path, o.found_via));
    p.libraries.push_back(std::move(lib));
  }
  for (const auto& m : closure.missing) p.missing_libraries.push_back({m.name, m.needed_by});
}

void fill_requires(const Closure& closure, const std::string& main_display, Requires& req) {
  for (size_t i = 0; i < closure.objects.size(); ++i) {
    const LoadedObject& o = closure.objects[i];
    std::string who = i == 0 ? main_display : o.canonical_path;
    for (const auto& need : o.elf->version_needs) {
      for (const auto& v : need.versions) {
        std::string family, version;
        if (!split_symbol_version(v, family, version)) continue;
        auto it = req.versions.find(family);
        std::string why = fmt::format("static: {} needs {} from {}", who, v, need.file);
        if (it == req.versions.end() || compare_versions(version, it->second) > 0) {
          req.versions[family] = version;
          req.evidence[family] = {why};
        } else if (compare_versions(version, it->second) == 0 && req.evidence[family].size() < 3) {
          req.evidence[family].push_back(why);
        }
      }
    }
    if (!o.elf->abi_tag_kernel.empty() &&
        (req.kernel.empty() || compare_versions(o.elf->abi_tag_kernel, req.kernel) > 0)) {
      req.kernel = o.elf->abi_tag_kernel;
      req.evidence["kernel"] = {fmt::format("static: NT_GNU_ABI_TAG of {} ({} {})", who, o.elf->abi_tag_os,
                                            o.elf->abi_tag_kernel)};
    }
  }
  auto g = req.versions.find("GLIBC");
  if (g != req.versions.end()) req.glibc = g->second;
}

}  // namespace

Result<Analysis> analyze_binary(const GuestRoot& root, const std::string& binary_guest_path,
                                const AnalyzeOptions& options, ElfCache& cache) {
  // 1. Find the binary inside the guest.
  auto canonical = root.resolve(binary_guest_path);
  if (!canonical) return canonical.error();
  auto st = root.stat(*canonical);
  if (!st) return st.error();
  if (S_ISDIR(st->st_mode)) return bad_input(fmt::format("{}: is a directory, not an ELF binary", binary_guest_path));
  if (!S_ISREG(st->st_mode)) return bad_input(fmt::format("{}: not a regular file", binary_guest_path));

  // 2. Read its ELF structure (validated before LIEF sees it).
  auto elf = read_elf(root.host_path(*canonical), binary_guest_path);
  if (!elf) return elf.error();
  auto main = std::make_shared<const ElfInfo>(std::move(*elf));

  Analysis a;
  Profile& p = a.profile;
  p.metadata.name = path_basename(binary_guest_path);
  p.metadata.generator = kGenerator;

  // 3. Resolve the library closure as the guest's ld.so would.
  a.closure = resolve_closure(root, *canonical, binary_guest_path, main, cache);

  // 4. Record structure, closure and version floors.
  fill_binary(binary_guest_path, *main, a.closure, p.binary);
  fill_libraries(a.closure, p);
  fill_requires(a.closure, binary_guest_path, p.requires_);

  // 5. Guest-wide facts: OS and libc.
  p.source.root = root.source_name();
  p.source.os = cache.os(root);
  std::string libc_path;
  for (const auto& lib : p.libraries)
    if (lib.soname == "libc.so.6") libc_path = lib.path;
  p.source.libc = cache.libc(root, libc_path);

  // 6. Defaults a user edits: how to start it, and how it is confined.
  p.entrypoint = {binary_guest_path};
  p.workdir = "/";
  p.syscalls.arch = p.binary.arch;

  // 7. Machine code of the whole closure: syscall allowlist, ports, hosts,
  //    paths, dlopen()ed libraries and code hazards (analyzer/code/). Its
  //    configuration tree is read once the code says which files it names,
  //    so the modules the configuration loads are analyzed with the rest.
  ConfigTree tree;
  ConfigFacts facts;
  bool tree_read = false;
  auto read_tree = [&](const std::vector<std::string>& code_paths, const std::vector<std::string>& plugin_dirs) {
    tree = read_config_tree(root, config_seeds(root, binary_guest_path, options.argv, code_paths));
    facts = extract_config_facts(root, tree, plugin_dirs);
    tree_read = true;
  };
  CompiledDefaults compiled;
  if (options.code) {
    CodeOptions code;
    code.compiled_defaults = &compiled;
    code.config_modules = [&](const std::vector<std::string>& code_paths, const std::vector<std::string>& dirs) {
      read_tree(code_paths, dirs);
      std::vector<CodeOptions::ConfigModule> modules;
      for (auto& m : facts.modules) modules.push_back({m.path, m.evidence});
      return modules;
    };
    Status st = analyze_code(root, a.closure, p, code);
    if (!st) return st.error();
  }

  // 8. Its configuration: files, paths it reads and writes, listen ports
  //    (analyzer/config/), for a program that may listen.
  if (!tree_read) read_tree({}, {});
  const auto& apis = p.network.apis;
  bool connect_only = std::find(apis.begin(), apis.end(), "connect") != apis.end() &&
                      std::find(apis.begin(), apis.end(), "bind") == apis.end() &&
                      std::find(apis.begin(), apis.end(), "listen") == apis.end();
  // A program whose own code has no socket call may still listen through
  // a library (BIND through libisc); one that only connects does not.
  bool listens = !connect_only;
  auto services_text = root.read_file("/etc/services", 4 << 20);
  add_config_facts(tree, facts, listens, p, services_text ? parse_services(*services_text) : EtcServices{}, compiled);

  // 9. Hazards known from structure alone.
  add_structural_hazards(root, a.closure, options, p);
  return a;
}

}  // namespace decant
