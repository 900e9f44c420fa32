// Hazards known from ELF structure and file metadata alone. Each id is
// documented in docs/hazards.md with what it means for a migration.
#include <elf.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "analyzer/analyze.h"

namespace decant {

namespace {
void add(Profile& p, const std::string& id, const std::string& severity, const std::string& message,
         Evidence evidence) {
  for (auto& h : p.hazards)
    if (h.id == id) {  // one hazard per id, evidence accumulates
      for (auto& e : evidence) h.evidence.push_back(e);
      return;
    }
  p.hazards.push_back({id, severity, message, std::move(evidence)});
}
}  // namespace

void add_structural_hazards(const GuestRoot& root, const Closure& closure, const AnalyzeOptions& options,
                            Profile& p) {
  const ElfInfo& main = *closure.objects.front().elf;

  for (size_t i = 0; i < closure.objects.size(); ++i) {
    const LoadedObject& o = closure.objects[i];
    std::string who = i == 0 ? p.binary.path : o.canonical_path;
    if (o.found_via == "interpreter") continue;  // ld.so's own stack flags do not apply to the process
    if (!o.elf->has_gnu_stack)
      add(p, "execstack", "warning", "the process stack will be executable (missing PT_GNU_STACK means RWX on x86)",
          {fmt::format("static: no PT_GNU_STACK in {}", who)});
    else if (o.elf->stack_executable)
      add(p, "execstack", "warning", "the process stack will be executable",
          {fmt::format("static: PT_GNU_STACK flags {}{}{} in {}", o.elf->gnu_stack_flags & PF_R ? "R" : "",
                       o.elf->gnu_stack_flags & PF_W ? "W" : "", o.elf->gnu_stack_flags & PF_X ? "E" : "", who)});
    if (o.elf->textrel)
      add(p, "textrel", "warning", "text relocations need writable code pages at load time",
          {fmt::format("static: DT_TEXTREL in {}", who)});
  }

  if (main.ident.machine == EM_386)
    add(p, "i386", "warning", "32-bit x86 binary: needs ia32 emulation in the host kernel and a 32-bit shim",
        {fmt::format("static: e_machine EM_386 ({})", p.binary.elf_class)});
  else if (main.ident.machine != EM_X86_64)
    add(p, "foreign-arch", "error",
        fmt::format("{} binary cannot run natively on an x86_64 host", machine_name(main.ident.machine)),
        {fmt::format("static: e_machine {}", machine_name(main.ident.machine))});

  if (p.binary.linkage != "dynamic")
    add(p, "static-binary-no-preload", "warning",
        "statically linked: the LD_PRELOAD shim cannot load, so path/port/host redirects do not apply; only the "
        "runtime's seccomp filter confines it",
        {fmt::format("static: {} has no PT_INTERP", p.binary.path)});

  auto st = root.stat(p.binary.path);
  if (st && (st->st_mode & (S_ISUID | S_ISGID)))
    add(p, "setuid", "warning",
        "set-user/group-ID binary: ld.so ignores LD_PRELOAD for it and no_new_privs disables the privilege change",
        {fmt::format("static: mode {:o}", st->st_mode & 07777)});
  if (!root.get_xattr(p.binary.path, "security.capability").empty())
    add(p, "file-capabilities", "warning",
        "file capabilities: dropped under no_new_privs; the container must grant them explicitly",
        {"static: security.capability xattr present"});

  if (!closure.loader.limits.empty())
    add(p, "ld-so-conf-limit", "warning",
        "the guest's ld.so.conf is larger than decant reads; libraries found only through the ignored part are "
        "reported missing",
        Evidence(closure.loader.limits.begin(), closure.loader.limits.end()));

  for (const auto& m : closure.missing)
    add(p, "missing-library", "error", "a library the program needs is not in the guest; the program will not start",
        {fmt::format("static: {} needed by {} ({})", m.name, m.needed_by.front(), m.reason)});

  if (!options.target_glibc.empty() && !p.requires_.glibc.empty() &&
      compare_versions(p.requires_.glibc, options.target_glibc) > 0) {
    Evidence ev = p.requires_.evidence.count("GLIBC") ? p.requires_.evidence.at("GLIBC") : Evidence{};
    add(p, "glibc-too-new", "error",
        fmt::format("the closure needs glibc {} but the target provides {}", p.requires_.glibc, options.target_glibc),
        ev);
  }
}

}  // namespace decant
