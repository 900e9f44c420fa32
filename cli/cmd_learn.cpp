// `decant learn [--profile P] -o OBSERVED [--json] -- CMD ARGS...`: runs a command and
// all its descendants under the learn supervisor (learn/supervisor.h: the
// shim in learn mode records files, binds, connects and lookups; a seccomp
// notify filter counts every syscall outside the static allowlist; static
// and raw-syscall programs run under decant-proxy's learn mode instead), then
// merges the records into the profile with observed: evidence
// (learn/merge_observed.h) and prints syscalls the static allowlist lacked as
// analyzer misses. This file only parses arguments, wires those stages and
// prints what they report. The command's own behaviour is not changed by
// learning, except that the shim's redirects from the profile apply.
// `decant learn ARTIFACT -o OBSERVED [-- ARGS]` learns inside a packaged
// artifact instead: the service runs under `decant run` (run/runner.h) with
// the records directory bound in, and the profile the artifact carries is
// the one merged into.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "cli/command.h"
#include "common/file_util.h"
#include "common/host_paths.h"
#include "common/version.h"
#include "elf/elf_file.h"
#include "learn/merge_observed.h"
#include "learn/supervisor.h"
#include "policy/plan.h"
#include "policy/seccomp.h"
#include "run/runner.h"

namespace decant {
namespace {

struct LearnArgs {
  std::string profile, output, records, shim, format = "yaml";
  std::vector<std::string> command;
  double timeout = 0;
  bool force = false, json = false;
  // Only for an artifact.
  std::string runtime, workload;
  std::vector<std::string> publish;
};

// A bundle or OCI layout directory, or a file that is no program (an OCI
// archive): learned inside, rather than run as a command.
bool names_artifact(const std::string& first) {
  struct stat st;
  if (::stat(first.c_str(), &st) != 0) return false;
  return S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && ::access(first.c_str(), X_OK) != 0);
}

// docs/cli.md, `decant learn --json`.
Json learn_result(const LearnArgs& args, const Profile& profile, const Supervision& run, const LearnSummary& summary,
                  const std::string& arch) {
  bool to_file = !args.output.empty() && args.output != "-";
  Json outside = Json::array();
  for (const auto& [nr, seen] : run.syscalls) outside.push_back(syscall_name(arch, nr));
  std::vector<std::string> warnings = run.warnings;
  warnings.insert(warnings.end(), summary.warnings.begin(), summary.warnings.end());
  int st = run.wait_status;
  return Json{{"output", to_file ? Json(args.output) : Json(nullptr)},
              {"profile", to_file ? Json(nullptr) : parse_json_document(to_json(profile))},
              {"records", summary.records},
              {"processes", summary.processes},
              {"outside_allowlist", outside},
              {"analyzer_misses", summary.analyzer_misses},
              {"profile_misses", summary.opened_unlisted},
              {"exit_status", WIFEXITED(st) ? Json(WEXITSTATUS(st)) : Json(nullptr)},
              {"signal", WIFSIGNALED(st) ? Json(WTERMSIG(st)) : Json(nullptr)},
              {"warnings", warnings}};
}

// The profile to start from: the one given, or a fresh one naming the command.
Result<Profile> starting_profile(const LearnArgs& args) {
  if (!args.profile.empty()) return load_profile(args.profile);
  Profile profile;
  profile.metadata.name = path_basename(args.command[0]);
  profile.metadata.generator = kVersionString;
  profile.binary.path = args.command[0];
  // No PT_INTERP: LD_PRELOAD cannot reach it, the proxy learns it instead.
  if (auto elf = read_elf(find_executable(args.command[0]), args.command[0], ElfRead::Headers))
    profile.binary.linkage = elf->interpreter.empty() ? "static" : "dynamic";
  profile.binary.arch = native_arch();
  profile.entrypoint = args.command;
  profile.syscalls.arch = native_arch();
  return profile;
}

// Everything that can be checked before the command starts, so that a
// mistyped command or a missing shim is an error rather than an empty profile.
Status check_args(const LearnArgs& args, std::string& shim) {
  if (args.command.empty()) return bad_input("learn: no command given (decant learn -o OUT -- CMD ARGS...)");
  if (find_executable(args.command.front()).empty())
    return bad_input(fmt::format("learn: {}: command not found or not executable", args.command.front()));
  shim = args.shim.empty() ? locate_shim() : absolute_path(args.shim);
  if (access(shim.c_str(), R_OK) != 0)
    return env_error(fmt::format("learn: cannot find libdecant-shim.so at {} (give --shim)", shim));
  return Status::success();
}

// Programs LD_PRELOAD cannot reach (static, raw system calls) learn under
// decant-proxy (docs/proxy.md), which records their file, socket and uname
// calls into the same records directory. A process can have only one
// seccomp listener, so the supervisor's own syscall observation gives way.
Status learn_through_proxy(SuperviseOptions& so) {
  std::string proxy = locate_proxy();
  if (access(proxy.c_str(), X_OK) != 0)
    return env_error(fmt::format(
        "learn: {} makes system calls the shim cannot see and needs decant-proxy, which is not at {} (set DECANT_PROXY)",
        so.command.front(), proxy));
  if (so.notify)
    std::fprintf(stderr, "decant: note: learning %s through the seccomp proxy: syscalls outside the allowlist are not "
                         "counted (a process has one seccomp listener)\n", so.command.front().c_str());
  so.notify.reset();
  so.shim.clear();  // the proxy stops every call it knows in learn mode; the shim would apply the rules twice
  so.command.insert(so.command.begin(), {proxy, "--"});
  return Status::success();
}

void print_report(const Supervision& run, const LearnSummary& summary, bool had_allowlist) {
  for (const auto& w : summary.warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  for (const auto& m : summary.analyzer_misses)
    std::fprintf(stderr,
                 "decant: analyzer miss: syscall '%s' observed in learn mode but missing from the static allowlist\n",
                 m.c_str());
  for (const auto& m : summary.opened_unlisted)
    std::fprintf(stderr, "decant: analyzer miss: %s used in learn mode but missing from the static profile\n",
                 m.c_str());
  if (!had_allowlist && !run.syscalls.empty())
    std::fprintf(stderr, "decant: note: no static allowlist in the profile; %zu observed syscalls added to syscalls.allow\n",
                 run.syscalls.size());
  std::fprintf(stderr, "decant: learn: %zu records from %zu processes, %zu syscalls outside the allowlist\n",
               summary.records, summary.processes, run.syscalls.size());
  int st = run.wait_status;
  if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
    std::fprintf(stderr, "decant: note: the command exited with status %d\n", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    std::fprintf(stderr, "decant: note: the command was killed by signal %d\n", WTERMSIG(st));
}

// Ports only guessed statically that learn mode saw bound (now high).
std::vector<std::string> confirmed_ports(const Profile& before, const Profile& after) {
  std::vector<std::string> out;
  for (const auto& l : after.network.listen)
    for (const auto& b : before.network.listen)
      if (b.port == l.port && b.proto == l.proto && b.confidence != "high" && l.confidence == "high")
        out.push_back(fmt::format("{}/{}", l.port, l.proto));
  return out;
}

int learn_artifact(const LearnArgs& args) {
  const std::string& artifact = args.command.front();
  if (!args.profile.empty())
    return fail(bad_input("learn: --profile is for a command; an artifact is learned with the profile it carries"));
  if (!args.shim.empty()) return fail(bad_input("learn: --shim is for a command; an artifact carries its own shim"));
  if (args.output != "-" && !args.force && access(args.output.c_str(), F_OK) == 0)
    return fail(bad_input(fmt::format("{}: already exists (use --force to replace it)", args.output)));
  auto text = artifact_profile(artifact);
  if (!text) return fail(text.error());
  auto profile = parse_profile(*text, artifact + ": /.decant/profile.json");
  if (!profile) return fail(profile.error());
  if (effective_proxy_mode(*profile) != "off")
    return fail(bad_input(fmt::format(
        "learn: {} runs its service under the seccomp proxy, which does not record inside an artifact; learn it "
        "from the guest with decant learn -- CMD",
        artifact)));
  auto records = RecordsDir::prepare(args.records);
  if (!records) return fail(records.error());
  // The service may run as any user of its image: each process creates its
  // own record file here.
  if (::chmod(records->path().c_str(), 01777) != 0)
    return fail(env_error(fmt::format("learn: chmod {}: {}", records->path(), std::strerror(errno))));

  RunOptions ro;
  ro.artifact = artifact;
  ro.args.assign(args.command.begin() + 1, args.command.end());
  ro.runtime = args.runtime;
  ro.publish = args.publish;
  ro.learn_dir = records->path();
  ro.stop_after = args.timeout;
  ro.workload = args.workload;
  ro.note = [](const std::string& line) { std::fprintf(stderr, "decant: %s\n", line.c_str()); };
  StdoutToStderr aside(args.json);
  auto run = run_container_outcome(ro);
  aside.restore();
  if (!run) return fail(run.error());

  const Profile before = *profile;
  auto summary = merge_learn_dir(records->path(), *profile);
  if (!summary) return fail(summary.error());
  for (const auto& w : summary->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  // Inside the image, what opened was packaged (by the profile or the
  // packager's own rules); libraries and ports outside the profile are
  // still the analyzer's misses, and what was absent is the image's.
  std::vector<std::string> misses;
  for (const auto& m : summary->opened_unlisted)
    if (m.rfind("file ", 0) != 0) misses.push_back(m);
  for (const auto& m : misses)
    std::fprintf(stderr, "decant: analyzer miss: %s used in learn mode but missing from the static profile\n",
                 m.c_str());
  for (const auto& m : summary->absent_unlisted)
    std::fprintf(stderr, "decant: image miss: %s looked for in learn mode, absent from the image (re-packaging "
                         "with the learned profile brings it when the guest has it)\n",
                 m.c_str());
  auto confirmed = confirmed_ports(before, *profile);
  for (const auto& c : confirmed)
    std::fprintf(stderr, "decant: learn: port %s seen bound: now high confidence, published when re-packaged\n",
                 c.c_str());
  std::fprintf(stderr, "decant: learn: %zu records from %zu processes; the service exited with status %d\n",
               summary->records, summary->processes, run->code);
  int ws = run->workload_status;
  bool workload_failed = ws != -1 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  if (workload_failed)
    std::fprintf(stderr, "decant: note: the workload failed (%s %d)\n", WIFEXITED(ws) ? "status" : "signal",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
  if (summary->records == 0)
    return fail(env_error(fmt::format("learn: {}: the service wrote no records (does its image preload the shim?)",
                                      artifact)));
  ProfileFormat format = args.format == "json" ? ProfileFormat::Json : ProfileFormat::Yaml;
  if (int rc = emit(serialize(*profile, format), args.output, true); rc != 0) return rc;
  if (args.json)
    return print_json(Json{{"output", args.output == "-" ? Json(nullptr) : Json(args.output)},
                           {"records", summary->records},
                           {"processes", summary->processes},
                           {"analyzer_misses", misses},
                           {"image_misses", summary->absent_unlisted},
                           {"confirmed_ports", confirmed},
                           {"exit_status", run->code},
                           {"workload_status", ws == -1 ? Json(nullptr) : Json(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws))},
                           {"warnings", summary->warnings}});
  return workload_failed ? 1 : 0;
}

int run_learn(const LearnArgs& args) {
  if (!args.command.empty() && names_artifact(args.command.front())) return learn_artifact(args);
  if (!args.runtime.empty() || !args.workload.empty() || !args.publish.empty())
    return fail(bad_input("learn: --runtime, --workload and --publish are for an artifact (decant learn ARTIFACT)"));
  SuperviseOptions so;
  if (Status s = check_args(args, so.shim); !s) return fail(s.error());
  auto profile = starting_profile(args);
  if (!profile) return fail(profile.error());
  if (!args.output.empty() && args.output != "-" && !args.force && access(args.output.c_str(), F_OK) == 0)
    return fail(bad_input(fmt::format("{}: already exists (use --force to replace it)", args.output)));
  auto records = RecordsDir::prepare(args.records);
  if (!records) return fail(records.error());

  PlanOptions po;
  po.learn = true;
  auto plan = compile_plan(*profile, po);
  if (!plan) return fail(plan.error());
  so.plan = records->path() + "/plan";
  if (Status s = write_file_atomic(so.plan, plan->text, Overwrite::Replace); !s) return fail(s.error());
  std::string warning;
  auto notify = notify_spec_for(*profile, &warning);
  if (!notify) return fail(notify.error());
  if (!warning.empty()) std::fprintf(stderr, "decant: warning: %s\n", warning.c_str());
  so.notify = std::move(*notify);
  so.command = args.command;
  so.records_dir = records->path();
  so.timeout = args.timeout;
  if (effective_proxy_mode(*profile) != "off")
    if (Status s = learn_through_proxy(so); !s) return fail(s.error());

  // With --json, the command's own output must not mix with the result.
  StdoutToStderr aside(args.json);
  auto run = supervise(so);
  aside.restore();
  if (!run) return fail(run.error());
  for (const auto& w : run->warnings) std::fprintf(stderr, "decant: warning: %s\n", w.c_str());
  for (const auto& n : run->notes) std::fprintf(stderr, "decant: %s\n", n.c_str());
  // The supervisor's own records, next to the shim's.
  std::string sup = syscall_records(so.notify ? so.notify->arch : "", run->syscalls);
  if (Status s = write_file_atomic(records->path() + "/supervisor.jsonl", sup, Overwrite::Replace); !s)
    return fail(s.error());

  bool had_allowlist = !profile->syscalls.allow.empty();
  auto summary = merge_learn_dir(records->path(), *profile);
  if (!summary) return fail(summary.error());
  // Without a static profile everything seen is new, and nothing a miss.
  if (args.profile.empty()) summary->opened_unlisted.clear();
  print_report(*run, *summary, had_allowlist);
  ProfileFormat format = args.format == "json" ? ProfileFormat::Json : ProfileFormat::Yaml;
  if (!args.json) return emit(serialize(*profile, format), args.output, true);
  if (args.output != "-")
    if (int rc = emit(serialize(*profile, format), args.output, true); rc != 0) return rc;
  return print_json(learn_result(args, *profile, *run, *summary, so.notify ? so.notify->arch : ""));
}

Registrar registrar{Command{[](CLI::App& app) -> std::function<int()> {
                              auto args = std::make_shared<LearnArgs>();
                              CLI::App* cmd = app.add_subcommand(
                                  "learn", "run a command, or a packaged artifact, under the shim in learn mode and merge what it did into a profile");
                              cmd->add_option("--profile", args->profile,
                                              "profile to start from (its redirects apply while learning)");
                              cmd->add_option("-o,--output", args->output, "write the merged profile to FILE")
                                  ->required();
                              cmd->add_option("--records", args->records,
                                              "keep the raw JSON-lines records in this (empty) directory");
                              cmd->add_option("--shim", args->shim, "path of libdecant-shim.so (default: next to decant)");
                              cmd->add_option("--format", args->format, "output format: yaml (default) or json")
                                  ->check(CLI::IsMember({"yaml", "json"}));
                              cmd->add_option("--timeout", args->timeout,
                                              "stop the command (SIGTERM, then SIGKILL) after SECONDS");
                              cmd->add_flag("--force", args->force, "replace an existing output file");
                              cmd->add_option("--runtime", args->runtime, "artifact only: crun or runc");
                              cmd->add_option("-p,--publish", args->publish,
                                              "artifact only: [ADDR:]HOSTPORT:PORT, as for decant run");
                              cmd->add_option("--workload", args->workload,
                                              "artifact only: a host shell command to run against the service; "
                                              "learning ends when it exits");
                              add_json_flag(cmd, args->json);
                              cmd->add_option("command", args->command,
                                              "-- CMD ARGS..., or ARTIFACT [-- ARGS] (a bundle or OCI image made by "
                                              "decant package)")
                                  ->required();
                              return [args] { return run_learn(*args); };
                            },
                            40}};

}  // namespace
}  // namespace decant
