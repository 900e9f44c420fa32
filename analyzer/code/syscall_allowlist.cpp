// Pass 4 of code analysis: the syscall allowlist. Numbers recovered in
// reachable code (and passed to syscall()-like functions of other objects)
// become names with evidence paths; sites whose number was not recovered are
// counted; the runtime's own syscalls are always allowed.
#include <seccomp.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "analyzer/code/closure_analysis.h"

namespace decant {

std::string syscall_name_x86_64(int number) {
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, number);
  if (!n) return {};
  std::string s(n);
  std::free(n);
  return s;
}

int syscall_number_x86_64(const std::string& name) {
  return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
}

namespace {

// Syscalls made outside the program's own code paths: by the container
// runtime between installing the filter and exec'ing the program, by the
// kernel on the program's behalf, and by every glibc process start (these
// are also found statically in ld.so and libc; listing them keeps a profile
// correct even when an unusual loader hides them).
struct FixedSyscall {
  const char* name;
  const char* why;
};
const FixedSyscall kRuntimeSyscalls[] = {
    {"execve", "runtime: the container runtime execs the program after installing the filter"},
    {"futex", "runtime: runc's Go runtime may run between installing the filter and execve"},
    {"rt_sigreturn", "runtime: the kernel's signal return path for any installed handler"},
    {"exit", "runtime: thread exit"},
    {"exit_group", "runtime: process exit"},
    {"brk", "runtime: ld.so and malloc initialization"},
    {"arch_prctl", "runtime: ld.so sets up TLS"},
    {"mmap", "runtime: ld.so maps the program's libraries"},
    {"mprotect", "runtime: ld.so applies RELRO"},
    {"munmap", "runtime: ld.so"},
    {"openat", "runtime: ld.so opens libraries"},
    {"read", "runtime: ld.so reads ELF headers"},
    {"pread64", "runtime: ld.so reads program headers"},
    {"close", "runtime: ld.so"},
    {"fstat", "runtime: ld.so"},
    {"newfstatat", "runtime: ld.so (glibc >= 2.33)"},
    {"access", "runtime: ld.so checks /etc/ld.so.preload"},
    {"set_tid_address", "runtime: libc start-up"},
    {"set_robust_list", "runtime: libc start-up"},
    {"rseq", "runtime: libc start-up (glibc >= 2.35)"},
    {"prlimit64", "runtime: libc start-up reads the stack limit"},
    {"rt_sigaction", "runtime: libc start-up"},
    {"rt_sigprocmask", "runtime: libc start-up"},
    {"getrandom", "runtime: malloc start-up (glibc >= 2.36)"},
};

}  // namespace

void ClosureAnalysis::add_syscall(int nr, const std::string& evidence) {
  std::string name = syscall_name_x86_64(nr);
  if (name.empty()) {
    unresolved_.push_back(fmt::format("static: number {} is not an x86-64 syscall: {}", nr, evidence));
    return;
  }
  auto& ev = evidence_[name];
  if (ev.size() < 2) ev.push_back(evidence);
}

void ClosureAnalysis::fill_syscalls() {
  for (const Node& n : reachable_) {
    const ObjectSummary& s = summaries_[n.obj];
    const FunctionSummary& f = s.functions[n.fn];
    for (auto& u : f.syscalls) {
      if (evidence_.count(syscall_name_x86_64(u.number)) && evidence_[syscall_name_x86_64(u.number)].size() >= 2)
        continue;
      add_syscall(u.number, fmt::format("static: {}+{:#x} in {}", object_name(n.obj), u.site, path_to(n)));
    }
    for (uint64_t site : f.unresolved)
      unresolved_.push_back(fmt::format("static: syscall number not recovered at {}+{:#x} in {}", object_name(n.obj),
                                        site, path_to(n)));
    // Numbers passed to a syscall()-like function of another object.
    std::set<uint32_t> with_args;
    for (auto& c : f.import_args) {
      auto t = bind(s.imports[c.import]);
      if (!t || summaries_[t->obj].functions[t->fn].number_param != kRdi) continue;
      with_args.insert(c.import);
      for (int64_t v : c.values)
        add_syscall(static_cast<int>(v), fmt::format("static: {}({}) at {}+{:#x} in {}", s.imports[c.import].name, v,
                                                     object_name(n.obj), c.site, path_to(n)));
    }
    for (uint32_t i : f.imports) {
      if (with_args.count(i)) continue;
      auto t = bind(s.imports[i]);
      if (t && summaries_[t->obj].functions[t->fn].number_param != kNoReg && t->obj != n.obj)
        unresolved_.push_back(fmt::format("static: {} called with a non-constant number in {}", s.imports[i].name,
                                          path_to(n)));
    }
  }
  for (auto& fixed : kRuntimeSyscalls) {
    if (syscall_number_x86_64(fixed.name) < 0) continue;
    auto& ev = evidence_[fixed.name];
    ev.push_back(fixed.why);
  }
  p_.syscalls.arch = "x86_64";
  p_.syscalls.allow.clear();
  for (auto& [name, ev] : evidence_) p_.syscalls.allow.push_back(name);
  std::sort(p_.syscalls.allow.begin(), p_.syscalls.allow.end());
  p_.syscalls.evidence = evidence_;
  p_.syscalls.unresolved_sites = unresolved_.size();
  if (!unresolved_.empty()) {
    Evidence ev(unresolved_.begin(), unresolved_.begin() + std::min<size_t>(unresolved_.size(), 20));
    if (unresolved_.size() > 20) ev.push_back(fmt::format("… and {} more", unresolved_.size() - 20));
    p_.syscalls.evidence["(unresolved)"] = ev;
  }
}

}  // namespace decant
