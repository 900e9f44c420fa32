// libFuzzer target for the configuration readers (analyzer/config/ and
// analyzer/code/config_hints.cpp), run as analyze.cpp runs them: the seeds
// of a service (its command line, the files its code names, the guest's
// dpkg database, conventional names), the tree of every file they include
// (include forms of every dialect, globs, directories, `*-enabled`
// symlinks, include_shell), the facts of that tree (paths, modules), its
// listen ports (with the guest's /etc/services) into a profile. The input
// is a little guest (fuzz_memory_guest.h: "PATH\n" + "CONTENT" records
// separated by NUL bytes, '@' for a symlink); the first records' paths are
// also seeds as written (files, directories, globs). Nothing may crash,
// hang or grow without bound, and what comes out must keep the readers'
// promises (limits, canonical paths inside the guest, ports 1-65535).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "analyzer/code/config_hints.h"
#include "analyzer/config/config_facts.h"
#include "analyzer/config/config_sources.h"
#include "analyzer/config/config_tree.h"
#include "common/file_util.h"
#include "common/text.h"
#include "guest/etc_services.h"
#include "guest/guest_root.h"
#include "guest/memory_guest.h"
#include "tests/fuzz/fuzz_memory_guest.h"

using namespace decant;

namespace {

// A broken promise is a finding like a crash: abort so libFuzzer keeps the input.
void check(bool ok) {
  if (!ok) std::abort();
}

bool canonical_inside(const GuestRoot& root, const std::string& p) {
  if (p.empty() || p[0] != '/' || normalize_absolute(p) != p) return false;
  auto again = root.resolve(p);
  return again && *again == p;
}

void check_tree(const GuestRoot& root, const ConfigTree& tree, const ConfigLimits& limits) {
  check(tree.files.size() <= limits.max_files);
  check(tree.notes.size() <= 32);
  std::set<std::string> canonical;
  uint64_t bytes = 0;
  for (const auto& f : tree.files) {
    check(f.depth >= 0 && f.depth <= limits.max_depth);
    check(f.text.size() <= limits.max_bytes);
    check(canonical.insert(f.canonical).second);  // each file once, cycles or not
    check(canonical_inside(root, f.canonical));
    check(!f.path.empty() && f.path[0] == '/');
    bytes += f.text.size();
  }
  check(bytes <= limits.max_total_bytes);
}

void check_facts(const GuestRoot& root, const ConfigFacts& facts) {
  std::set<std::string> modules;
  for (const auto& m : facts.modules) {
    check(modules.insert(m.path).second);
    check(root.is_regular_file(m.path));
  }
  std::set<std::string> paths;
  for (const auto& p : facts.paths) {
    check(!p.path.empty() && p.path[0] == '/');
    check(p.access == "read" || p.access == "write");
    check(paths.insert(p.path).second);
  }
}

// The programs whose documented default port add_config_ports knows, and
// others whose configuration dialect the seeds carry.
const char* const kPrograms[] = {"lighttpd", "vsftpd", "redis-server", "memcached", "sshd", "proftpd",
                                 "named",    "nginx",  "apache2",      "master",    "rsyslogd", "squid"};

std::string pick_binary(const std::vector<FuzzRecord>& records, size_t size) {
  for (const auto& r : records)
    if (!r.link && (r.path.compare(0, 10, "/usr/sbin/") == 0 || r.path.compare(0, 9, "/usr/bin/") == 0)) return r.path;
  return std::string("/usr/sbin/") + kPrograms[size % (sizeof kPrograms / sizeof kPrograms[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto records = split_fuzz_records(in);
  auto fs = std::make_shared<MemoryGuest>();
  add_fuzz_records(*fs, records);
  GuestRoot root(fs);

  // Where a service's configuration starts: as the analyzer finds it (a
  // command line naming the first records, every record a path its code
  // names), and the first records as written, globs included.
  std::string binary = pick_binary(records, size);
  std::vector<std::string> argv{binary, "-f", records[0].path};
  if (records.size() > 1) argv.push_back("--config=" + records[1].path);
  std::vector<std::string> code_paths;
  for (const auto& r : records) code_paths.push_back(r.path);
  std::vector<ConfigSeed> seeds = config_seeds(root, binary, argv, code_paths);
  for (const auto& s : seeds) check(!s.path.empty() && s.path[0] == '/' && !s.evidence.empty());
  for (size_t i = 0; i < records.size() && i < 4; ++i) seeds.push_back({records[i].path, "fuzz: record"});

  ConfigLimits limits;
  ConfigTree tree = read_config_tree(root, seeds, limits);
  check_tree(root, tree, limits);
  ConfigFacts facts = extract_config_facts(root, tree, {"/usr/lib/" + path_basename(binary) + "/modules",
                                                        "/usr/lib/x86_64-linux-gnu/" + path_basename(binary)});
  check_facts(root, facts);

  auto services_text = root.read_file("/etc/services", 4 << 20);
  EtcServices services = services_text ? parse_services(*services_text) : EtcServices{};
  Profile p;
  p.binary.path = binary;
  add_config_facts(tree, facts, true, p, services);
  for (const auto& l : p.network.listen) check(l.port != 0 && !l.evidence.empty());

  // The pieces on the first record alone: one text in every dialect at once.
  const std::string& text = records[0].content;
  for (const auto& cp : parse_port_directives(text, &services)) check(cp.port >= 1 && cp.port <= 65535 && cp.line >= 1);
  size_t n = 0;
  for (std::string_view lv : lines(text)) {
    if (++n > 4096) break;
    std::string line = strip_config_comment(std::string(lv));
    for (const auto& t : include_targets(line)) check(t.size() <= line.size());
  }
  for (const auto& r : records) (void)config_like(r.path);
  (void)owning_package(root, *dpkg_index(root), binary);
  return 0;
}
