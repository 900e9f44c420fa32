// SysV init scripts started in the default runlevel: the S links of the
// rcN.d directories, each script read for the daemon it starts
// (start-stop-daemon's --exec/--startas and arguments after `--`, or
// DAEMON=), the user it runs as, its pid file, and the /etc/default file it
// sources, whose switches (START=no, ENABLED=0, USE_INETD=yes ...) can
// disable it. A script that a native systemd unit replaces is listed as such.
#include <regex>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "discover/init_systems.h"
#include "discover/shell_vars.h"

namespace decant {
namespace {

struct StartCommand {
  std::string program, user, group, pidfile, workdir;
  std::vector<std::string> args;
  std::string origin;
};

// start-stop-daemon(8) options that take a value, short and long.
bool ssd_takes_value(const std::string& opt) {
  static const std::set<std::string> kValued = {
      "-n", "--name", "-N", "--nicelevel", "-c", "--chuid", "-g", "--group", "-r", "--chroot", "-d", "--chdir",
      "-u", "--user", "-x", "--exec", "-a", "--startas", "-p", "--pidfile", "-s", "--signal", "-R", "--retry",
      "-k", "--umask", "-P", "--procsched", "-I", "--iosched", "--output", "--notify-timeout"};
  return kValued.count(opt) > 0;
}

bool parse_ssd(const std::vector<std::string>& w, StartCommand& out) {
  bool start = false;
  for (size_t i = 1; i < w.size(); ++i) {
    std::string opt = w[i], value;
    if (opt == "--") {
      out.args.assign(w.begin() + static_cast<long>(i) + 1, w.end());
      break;
    }
    if (opt == "--test" || opt == "-t" || opt == "--stop" || opt == "-K" || opt == "--status" || opt == "-T")
      return false;
    if (opt == "--start" || opt == "-S") start = true;
    size_t eq = opt.find('=');
    if (opt.rfind("--", 0) == 0 && eq != std::string::npos) value = opt.substr(eq + 1), opt = opt.substr(0, eq);
    else if (ssd_takes_value(opt) && i + 1 < w.size()) value = w[++i];
    if (opt == "-x" || opt == "--exec") { if (out.program.empty()) out.program = value; }
    else if (opt == "-a" || opt == "--startas") out.program = value;
    else if (opt == "-c" || opt == "--chuid") {
      size_t colon = value.find(':');
      out.user = value.substr(0, colon);
      if (colon != std::string::npos) out.group = value.substr(colon + 1);
    } else if ((opt == "-u" || opt == "--user") && out.user.empty()) out.user = value;
    else if (opt == "-p" || opt == "--pidfile") out.pidfile = value;
    else if (opt == "-d" || opt == "--chdir") out.workdir = value;
  }
  return start && !out.program.empty();
}

// LSB's start_daemon [-f] [-n nice] [-p pidfile] pathname [args...] (LSB
// core, "Init Script Functions").
bool parse_lsb_start(const std::vector<std::string>& w, StartCommand& out) {
  size_t i = 1;
  for (; i < w.size() && w[i].size() > 1 && w[i][0] == '-'; ++i)
    if ((w[i] == "-p" || w[i] == "-n") && i + 1 < w.size()) {
      if (w[i] == "-p") out.pidfile = w[i + 1];
      ++i;
    }
  if (i >= w.size()) return false;
  out.program = w[i];
  out.args.assign(w.begin() + static_cast<long>(i) + 1, w.end());
  return true;
}

// A switch in a sourced /etc/default file that turns the service off.
std::string disabling_switch(const ShellScript& sh) {
  static const std::regex kEnable("^(START|ENABLED?|RUN)(_[A-Z0-9_]+)?$|^[A-Z0-9_]+_(START|ENABLED?|RUN)$",
                                  std::regex::icase);
  // A verb before INETD (USE_INETD, RUN_FROM_INETD) says who starts the daemon;
  // other INETD names configure it (xinetd's INETD_COMPAT=Yes: also read inetd.conf).
  static const std::regex kInetd("^([A-Z0-9_]+_)?(USE|RUN|START|FROM|VIA)(_[A-Z0-9]+)?_X?INETD$", std::regex::icase);
  static const std::set<std::string> kOff = {"no", "false", "0", "off", "disabled", "disable"};
  static const std::set<std::string> kOn = {"yes", "true", "1", "on"};
  for (const auto& [name, v] : sh.vars) {
    if (v.origin.rfind("/etc/default/", 0) != 0) continue;
    std::string lower;
    for (char c : v.value) lower += static_cast<char>(tolower(static_cast<unsigned char>(c)));
    // RSYNC_ENABLE=inetd: the switch names the superserver instead of yes/no.
    bool by_superserver = (std::regex_match(name, kInetd) && kOn.count(lower)) ||
                          (std::regex_match(name, kEnable) && (lower == "inetd" || lower == "xinetd"));
    if (by_superserver)
      return fmt::format("{}: {}={}: started by a superserver, not at boot", v.origin, name, v.value);
    if (std::regex_match(name, kEnable) && kOff.count(lower))
      return fmt::format("{}: {}={}: disabled", v.origin, name, v.value);
  }
  return "";
}

void read_init_script(const GuestRoot& root, const std::string& script, DiscoveredService& s) {
  s.evidence.push_back("script: " + script);
  auto text = root.read_file(script, 1 << 20);
  if (!text) {
    s.enabled = false;
    s.reason = text.error().message;
    return;
  }
  ShellScript sh;
  evaluate_shell(*text, script, [&root](const std::string& p) { return root.read_file(p, 1 << 20); }, sh);
  for (const auto& f : sh.sourced) s.evidence.push_back("sources: " + f);
  StartCommand start;
  for (const auto& cmd : sh.commands) {
    // Sourced files (/lib/lsb/init-functions) define helpers; the script's own lines say what starts.
    if (cmd.words.empty() || cmd.origin.rfind(script + ":", 0) != 0) continue;
    std::string tool = path_basename(cmd.words[0]);
    if (tool != "start-stop-daemon" && tool != "start_daemon") continue;
    std::vector<std::string> words = expand_shell_words(cmd.raw, sh);
    StartCommand c;
    if (!(tool == "start-stop-daemon" ? parse_ssd(words, c) : parse_lsb_start(words, c)))
      continue;
    c.origin = cmd.origin;
    start = c;
    break;
  }
  if (start.program.empty()) {
    auto d = sh.vars.find("DAEMON");
    if (d != sh.vars.end()) start.program = d->second.value, start.origin = d->second.origin;
    // Without a start-stop-daemon line the arguments' variable is a guess (lower confidence).
    for (const char* var : {"DAEMON_ARGS", "DAEMON_OPTS", "OPTIONS", "ARGS"})
      if (auto a = sh.vars.find(var); a != sh.vars.end() && !start.program.empty()) {
        start.args = expand_shell_words(a->second.value, sh.vars);
        s.evidence.push_back(fmt::format("guessed: {}: {} as the arguments", a->second.origin, var));
        break;
      }
  }
  if (start.program.empty()) {
    s.enabled = false;
    s.reason = "no daemon found in the script (no start-stop-daemon --start, no DAEMON=)";
    return;
  }
  s.argv = {start.program};
  s.argv.insert(s.argv.end(), start.args.begin(), start.args.end());
  s.user = start.user;
  s.group = start.group;
  s.pidfile = start.pidfile;
  s.workdir = start.workdir;
  s.type = "forking";
  // The pid file's directory is written at every start.
  if (!s.pidfile.empty() && s.pidfile.rfind('/') > 0)
    s.writable.push_back({s.pidfile.substr(0, s.pidfile.rfind('/')), fmt::format("{}: --pidfile {}", start.origin, s.pidfile)});
  s.evidence.push_back(fmt::format("{}: starts {}", start.origin, start.program));
  if (std::string off = disabling_switch(sh); !off.empty()) {
    s.enabled = false;
    s.reason = off;
  }
}

}  // namespace

void discover_sysv(const GuestRoot& root, const std::vector<std::string>& rc_dirs, const std::set<std::string>& native,
                   Discovery& out) {
  std::map<std::string, std::string> started;  // script name -> the S link that starts it
  for (const auto& dir : rc_dirs) {
    auto names = root.list_directory(dir);
    if (!names) continue;
    for (const auto& n : *names) {
      if (n.size() < 4 || n[0] != 'S') continue;
      auto target = root.resolve(dir + "/" + n);
      std::string script = target ? path_basename(*target) : n.substr(3);
      started.emplace(script, dir + "/" + n);
    }
  }
  for (const auto& [name, link] : started) {
    DiscoveredService s;
    s.name = name;
    s.manager = "sysv";
    s.enabled = true;
    s.evidence.push_back("runlevel link: " + link);
    if (native.count(name)) {
      s.enabled = false;
      s.reason = fmt::format("superseded by the native unit {}.service (systemd ignores the script)", name);
      out.services.push_back(std::move(s));
      continue;
    }
    read_init_script(root, "/etc/init.d/" + name, s);
    out.services.push_back(std::move(s));
  }
}

}  // namespace decant
