// libFuzzer target for glibc's own configuration files as decant reads them
// from a guest: /etc/ld.so.conf with its include globs (analyzer/
// loader_config.cpp, through an in-memory guest so includes, globs and
// symlinks between the files are followed the way a real guest would make
// them), the system directories scanned out of an ld.so binary, and
// /etc/nsswitch.conf. The input is a little file system
// (fuzz_memory_guest.h: "PATH\n" + "CONTENT" records separated by NUL
// bytes, '@' for a symlink). The whole input is also the guest's ld.so
// (unless a record replaces it), read for its NUL-separated directories. Nothing may crash, hang or grow without
// bound (loader_config.cpp caps files, bytes, depth and includes).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <elf.h>

#include "analyzer/loader_config.h"
#include "guest/memory_guest.h"
#include "tests/fuzz/fuzz_memory_guest.h"

using namespace decant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto fs = std::make_shared<MemoryGuest>();
  fs->add_file("/lib64/ld-linux-x86-64.so.2", in);
  auto records = split_fuzz_records(in);
  add_fuzz_records(*fs, records);
  std::string conf_text = records.front().content;  // the first record is also parsed on its own
  GuestRoot root(fs);
  (void)load_loader_config(root, "/lib64/ld-linux-x86-64.so.2", true, EM_X86_64);
  (void)load_loader_config(root, "", false, EM_386);
  std::vector<std::string> dirs, includes;
  parse_ld_so_conf(conf_text, "/etc", dirs, includes);
  (void)scan_system_dirs(in);
  (void)parse_nsswitch_conf(conf_text);
  if (auto ns = root.read_file("/etc/nsswitch.conf", 1 << 20)) (void)parse_nsswitch_conf(*ns);
  return 0;
}
