// libFuzzer target for the discover stage's text parsers, the ones that read
// guest files an attacker may have written: unit files (and the ExecStart=
// and Environment= values in them), shell scripts and /etc/default files,
// inetd.conf, xinetd files and /etc/services. The first byte picks the
// parser; the rest is the file. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "discover/shell_vars.h"
#include "discover/superserver.h"
#include "discover/unit_file.h"

using namespace decant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      UnitFile unit;
      (void)parse_unit_text(text, "/fuzz.service", unit);
      UnitNames names = unit_names("fuzz@inst.service");
      std::map<std::string, std::string> env;
      for (const auto& a : unit.assignments) {
        parse_environment_assignments(a.value, env);
        (void)parse_exec(a.value, names, env);
        (void)expand_specifiers(a.value, names);
      }
      break;
    }
    case 1: {
      ShellScript sh;
      // Sourcing the file itself exercises the depth bound.
      evaluate_shell(text, "/fuzz", [&](const std::string&) -> Result<std::string> { return text; }, sh);
      for (const auto& c : sh.commands) (void)expand_shell_words(c.raw, sh);
      break;
    }
    case 2: (void)parse_inetd_conf(text, "/etc/inetd.conf", parse_services("ftp 21/tcp\n")); break;
    case 3: (void)parse_xinetd(text, "/etc/xinetd.conf", parse_services("telnet 23/tcp\n")); break;
    case 4: (void)parse_services(text); break;
  }
  return 0;
}
