// The header reader (read_elf_bytes) against the reference, a full LIEF parse
// (read_elf_bytes_lief), on every ELF file of the host's program and library
// directories and, when DECANT_GUEST names one, a guest's: the same facts or
// the same error for each. Real files, so a difference is a real regression.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "elf/elf_file.h"

namespace decant {
namespace {

std::vector<std::string> elf_files(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 64 || st.st_size > (64 << 20))
      continue;
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    if (f.read(magic, 4) && std::string(magic, 4) == "\177ELF") out.push_back(path);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const ElfInfo& i) {
  std::string s = "interp=" + i.interpreter + " soname=" + i.soname + " size=" + std::to_string(i.size);
  for (const auto& n : i.needed) s += " needed=" + n;
  for (const auto& r : i.rpath) s += " rpath=" + r;
  for (const auto& r : i.runpath) s += " runpath=" + r;
  s += " tags=" + std::to_string(i.has_rpath_tag) + std::to_string(i.has_runpath_tag) + std::to_string(i.nodeflib) +
       std::to_string(i.df1_pie) + std::to_string(i.textrel) + std::to_string(i.has_gnu_stack) +
       std::to_string(i.stack_executable) + " stack=" + std::to_string(i.gnu_stack_flags);
  for (const auto& v : i.version_needs) {
    s += " verneed=" + v.file + ":";
    for (const auto& x : v.versions) s += x + ",";
  }
  s += " abi=" + i.abi_tag_os + "/" + i.abi_tag_kernel + " build_id=" + i.build_id + " sha256=" + i.sha256;
  s += " ident=" + std::to_string(i.ident.is64) + "/" + std::to_string(i.ident.machine) + "/" +
       std::to_string(i.ident.type) + "/" + std::to_string(i.ident.osabi);
  return s;
}

void compare_dir(const std::string& dir, size_t max_files, size_t& compared) {
  auto files = elf_files(dir);
  if (files.size() > max_files) files.resize(max_files);
  for (const auto& path : files) {
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto fast = read_elf_bytes(bytes, path);
    auto ref = read_elf_bytes_lief(bytes, path);
    ASSERT_EQ(bool(fast), bool(ref)) << path << ": " << (fast ? ref.error().message : fast.error().message);
    if (fast) EXPECT_EQ(describe(*fast), describe(*ref)) << path;
    else EXPECT_EQ(fast.error().message, ref.error().message) << path;
    ++compared;
  }
}

TEST(ElfReader, HeaderReaderMatchesLiefOnHostFiles) {
  size_t compared = 0;
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"})
    compare_dir(dir, 600, compared);
  EXPECT_GT(compared, 100u) << "too few ELF files on this host to compare";
}

TEST(ElfReader, HeaderReaderMatchesLiefOnGuestFiles) {
  const char* guest = std::getenv("DECANT_GUEST");
  if (!guest || !*guest) GTEST_SKIP() << "DECANT_GUEST not set";
  size_t compared = 0;
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"})
    compare_dir(std::string(guest) + dir, 2000, compared);
  EXPECT_GT(compared, 100u);
}

// Headers mode reads the same facts from a mapping, without hash or bytes.
TEST(ElfReader, HeadersModeMatchesContentMode) {
  auto files = elf_files("/usr/bin");
  if (files.size() > 50) files.resize(50);
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    auto content = read_elf(path, path, ElfRead::Content);
    auto headers = read_elf(path, path, ElfRead::Headers);
    ASSERT_EQ(bool(content), bool(headers)) << path;
    if (!content) continue;
    EXPECT_TRUE(headers->sha256.empty());
    EXPECT_FALSE(headers->bytes);
    ElfInfo c = *content;
    c.sha256.clear();
    EXPECT_EQ(describe(c), describe(*headers)) << path;
  }
  auto missing = read_elf("/nonexistent/x", "/x", ElfRead::Headers);
  auto missing_content = read_elf("/nonexistent/x", "/x", ElfRead::Content);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, missing_content.error().message);
}

}  // namespace
}  // namespace decant
