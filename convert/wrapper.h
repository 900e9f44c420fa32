// Services that start through a script (apache2's `apachectl start`,
// memcached's perl wrapper): the script is read, not run, to find the ELF
// daemon it starts, which is what gets analyzed; the image then runs the
// script as the VM did, so it also carries the interpreter, the files the
// script sources and the programs it runs. Shell scripts are evaluated with
// discover's shell reader (assignments, `${VAR:-default}`, `.`/source);
// scripts in other languages are searched for absolute program paths.
#pragma once

#include <string>
#include <vector>

#include "guest/guest_root.h"

namespace decant {

struct ServiceWrapper {
  std::string script;       // the guest path the service runs
  std::string interpreter;  // its #! program, resolved in the guest
  std::string daemon;       // the ELF program it starts; empty when none could be chosen
  std::string why;          // how the daemon was chosen, or why none was
  std::vector<std::string> programs;  // other programs it may run (the interpreter first)
  std::vector<std::string> sourced;   // files it reads through `.`/source
  std::vector<std::string> support;   // the interpreter's own package files (modules), for non-shell interpreters
  // Paths its commands name that the guest lacks but could hold (mkdir -p
  // /var/run/apache2) and state directories its variables name
  // (APACHE_LOG_DIR=/var/log/apache2, "DIR/" when the guest has it), each
  // with its origin: optional writes.
  std::vector<std::pair<std::string, std::string>> creates;
};

// The program a script's "#!" line (interp_line: what follows "#!") runs,
// resolved in the guest (`/usr/bin/env perl` finds perl), "" when the
// guest has none.
std::string script_interpreter_path(const GuestRoot& root, const std::string& interp_line);

// The data files a script names by absolute path that the guest has
// (create-mime.conf.pl's /etc/mime.types): read when the script runs.
// Programs and /proc, /sys, /dev paths are not data.
std::vector<std::string> script_data_files(const GuestRoot& root, const std::string& script);

// What the interpreter needs besides its closure: its own package's files
// (perl-base's modules) for a non-shell interpreter, nothing for a shell.
std::vector<std::string> interpreter_support(const GuestRoot& root, const std::string& interpreter);

// interp_line: what follows "#!" on the script's first line. service names
// the service (its unit or script name), which a daemon named the same wins.
ServiceWrapper read_service_wrapper(const GuestRoot& root, const std::string& script, const std::string& interp_line,
                                    const std::string& service);

}  // namespace decant
