// The runtime directories a guest's systemd-tmpfiles creates at boot, read
// as tmpfiles.d(5) reads its configuration: the `.conf` files of
// /etc/tmpfiles.d, /run/tmpfiles.d, /usr/local/lib/tmpfiles.d,
// /usr/lib/tmpfiles.d and /lib/tmpfiles.d (a file of an earlier directory
// replacing the same name in later ones, a link to /dev/null masking it),
// read in file-name order, and of their lines only the directory-creating
// types (`d`, `D`, `v`, `q`, `Q`) below /run or /var/run. Which service a
// directory belongs to is not decided here: convert matches the package
// that installs the file with the package of the service's program.
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"

namespace decant {

struct TmpfilesDirectory {
  std::string path;   // "/run/named": normalized, /var/run spelled /run
  char type = 'd';    // d | D | v | q | Q
  bool boot_only = false;              // the `!` modifier: created at boot, which is when the VM made it
  std::string mode, user, group;       // the columns as written ("-" when absent)
  std::string file;                    // "/usr/lib/tmpfiles.d/named.conf", as first found
  int line = 0;                        // 1-based
  std::string text;                    // the line without surrounding blanks, for evidence
  std::vector<std::string> shadowed;   // same-named files of later directories it replaces
};

// The runtime directories one tmpfiles.d file's text declares, in line
// order. Lines of other types, with unknown modifiers or specifiers, a
// relative or unnormalized path, or a path outside /run are left out, as
// are lines systemd would reject (an open quote, fewer than two fields).
std::vector<TmpfilesDirectory> parse_tmpfiles_runtime_dirs(const std::string& text, const std::string& file);

// Every runtime directory the guest's tmpfiles.d creates at boot: files in
// name order, a path declared twice kept where it is first declared (as
// systemd-tmpfiles applies the first and reports the rest).
std::vector<TmpfilesDirectory> guest_tmpfiles_runtime_dirs(const GuestRoot& root);

}  // namespace decant
