// Unit tests for the guest sources that are not directories: an archive
// written here with libarchive (symlinks, hard links, xattrs, an entry
// escaping with "..", a large non-ELF file fetched by streaming again), an
// ext4 image made with `mkfs.ext4 -d` inside an MBR disk image, and the
// errors for garbage and truncated input.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>

#include "common/file_util.h"
#include "common/temp_dir.h"
#include "guest/source.h"
#include "guest/test_tree.h"

namespace decant {
namespace {

struct Entry {
  std::string name;
  mode_t mode;
  std::string data;  // content, symlink target or hard link target
  uid_t uid = 0;
  std::string xattr;  // user.test value, when not empty
};

void write_tar(const std::string& path, const std::vector<Entry>& entries, bool gzip) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_mtime(ae, 1600000000, 0);
    if (S_ISLNK(e.mode)) {
      archive_entry_set_mode(ae, e.mode);
      archive_entry_set_symlink(ae, e.data.c_str());
    } else if (e.mode == 0) {
      archive_entry_set_mode(ae, S_IFREG | 0644);
      archive_entry_set_hardlink(ae, e.data.c_str());
    } else {
      archive_entry_set_mode(ae, e.mode);
      if (S_ISREG(e.mode)) archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    if (!e.xattr.empty()) archive_entry_xattr_add_entry(ae, "user.test", e.xattr.data(), e.xattr.size());
    archive_write_header(a, ae);
    if (S_ISREG(e.mode) && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string big_text() { return std::string(600 << 10, 'x') + "end"; }

TEST(Source, ArchiveIsIndexedAndReadWithItsMetadata) {
  TempDir t;
  std::string tar = t.path("guest.tar.gz");
  write_tar(tar,
            {{"./", S_IFDIR | 0755, ""},
             {"./etc/os-release", S_IFREG | 0644, "ID=debian\n"},
             {"./usr/bin/daemon", S_IFREG | 04755, "\x7f" "ELF fake", 0, "v1"},
             {"./usr/bin/alias", 0, "./usr/bin/daemon"},
             {"./usr/sbin/daemon", S_IFLNK | 0777, "../bin/daemon"},
             {"./var/lib/state", S_IFDIR | 0750, "", 104},
             {"./usr/share/big.txt", S_IFREG | 0644, big_text()},
             {"../escape", S_IFREG | 0644, "outside"}},
            true);
  auto src = open_source(tar);
  ASSERT_TRUE(src.ok()) << src.error().message;
  const GuestRoot& root = (*src)->root;
  EXPECT_EQ((*src)->kind, "archive");
  EXPECT_EQ(root.host_root(), "");
  EXPECT_EQ(root.source_name(), tar);
  EXPECT_EQ(*root.read_file("/etc/os-release"), "ID=debian\n");
  EXPECT_EQ(*root.resolve("/usr/sbin/daemon"), "/usr/bin/daemon");
  auto st = root.stat("/usr/bin/daemon");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode, static_cast<mode_t>(S_IFREG | 04755));
  EXPECT_EQ(st->st_nlink, 2u);
  EXPECT_EQ(st->st_mtime, 1600000000);
  EXPECT_EQ(root.stat("/usr/bin/alias")->st_ino, st->st_ino);
  EXPECT_EQ(root.stat("/var/lib/state")->st_uid, 104u);
  EXPECT_EQ(root.get_xattr("/usr/bin/daemon", "user.test"), "v1");
  EXPECT_EQ(root.fs().list_xattrs("/usr/bin/daemon"), std::vector<std::string>{"user.test"});
  EXPECT_FALSE(root.exists("/escape"));
  EXPECT_FALSE(root.exists("/../escape"));
  // Host copies: regular files only, private, without the setuid bit.
  std::string host = root.host_path("/usr/bin/daemon");
  ASSERT_FALSE(host.empty());
  EXPECT_EQ(*decant::read_file(host), std::string("\x7f" "ELF fake"));
  struct stat hs;
  ASSERT_EQ(::lstat(host.c_str(), &hs), 0);
  EXPECT_EQ(hs.st_mode & 07777, 0600u);
  EXPECT_EQ(root.host_path("/usr/bin/alias"), host);  // one copy per inode
  EXPECT_EQ(root.host_path("/var/lib/state"), "");
  // Not copied while indexing (large, not ELF): streamed again on demand.
  EXPECT_EQ(*root.read_file("/usr/share/big.txt", 1 << 20), big_text());
  auto names = root.list_directory("/usr/bin");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"alias", "daemon"}));
  // A second open of the same path while the first is alive shares it.
  EXPECT_EQ(open_source(tar)->get(), src->get());
}

TEST(Source, GarbageTruncatedAndEmptyArchivesAreBadInput) {
  TempDir t;
  std::string junk = t.write("junk.bin", std::string(5000, '\x13'));
  auto r = open_source(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
  EXPECT_NE(r.error().message.find(junk), std::string::npos) << r.error().message;

  std::string tar = t.path("whole.tar.gz");
  write_tar(tar, {{"./etc/big", S_IFREG | 0644, big_text() + std::string(300000, 'y')}}, true);
  auto whole = decant::read_file(tar);
  ASSERT_TRUE(whole.ok());
  std::string cut = t.write("cut.tar.gz", whole->substr(0, whole->size() / 2));
  r = open_source(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::BadInput);

  std::string empty = t.write("empty.tar", "");
  r = open_source(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("empty"), std::string::npos) << r.error().message;
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

TEST(Source, ExtRootInsideAnMbrImageIsReadWithoutMounting) {
  if (!have("mkfs.ext4") || !have("sfdisk")) GTEST_SKIP() << "needs mkfs.ext4 and sfdisk";
  TestTree g;
  g.write("/etc/os-release", "ID=debian\n");
  g.write("/usr/bin/daemon", "binary");
  g.symlink("/usr/bin/daemon", "/sbin/daemon");
  TempDir t;
  std::string img = t.path("disk.raw");
  std::string cmd = "set -e; mkfs.ext4 -q -F -d '" + g.root() + "' '" + t.path("fs") + "' 4M >/dev/null; truncate -s 6M '" + img +
                    "'; printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q '" + img + "'; dd if='" +
                    t.path("fs") + "' of='" + img + "' bs=1M seek=1 conv=notrunc status=none";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  struct stat before;
  ASSERT_EQ(::stat(img.c_str(), &before), 0);
  auto digest = sha256_file(img);
  {
    auto src = open_source(img);
    ASSERT_TRUE(src.ok()) << src.error().message;
    EXPECT_NE((*src)->kind.find("partition 1 (ext4)"), std::string::npos) << (*src)->kind;
    const GuestRoot& root = (*src)->root;
    EXPECT_EQ(*root.read_file("/sbin/daemon"), "binary");
    EXPECT_EQ(*decant::read_file(root.host_path("/usr/bin/daemon")), "binary");
    EXPECT_TRUE(root.is_directory("/lost+found"));
  }
  // The same disk as a vmdk: qemu-img reaches raw in a private copy.
  if (have("qemu-img")) {
    std::string vmdk = t.path("disk.vmdk");
    ASSERT_EQ(std::system(("qemu-img convert -f raw -O vmdk '" + img + "' '" + vmdk + "'").c_str()), 0);
    auto src = open_source(vmdk);
    ASSERT_TRUE(src.ok()) << src.error().message;
    EXPECT_EQ((*src)->kind, "vmdk disk image, partition 1 (ext4)");
    EXPECT_EQ(*(*src)->root.read_file("/usr/bin/daemon"), "binary");
  }
  struct stat after;
  ASSERT_EQ(::stat(img.c_str(), &after), 0);
  EXPECT_EQ(after.st_mtime, before.st_mtime);
  EXPECT_EQ(*sha256_file(img), *digest);

  // The same filesystem without /etc: no Linux root.
  TestTree empty;
  empty.write("/data/file", "x");
  std::string img2 = t.path("data.ext4");
  ASSERT_EQ(std::system(("mkfs.ext4 -q -F -d '" + empty.root() + "' '" + img2 + "' 4M >/dev/null").c_str()), 0);
  auto r = open_source(img2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no Linux root partition"), std::string::npos) << r.error().message;
}

// Found by fuzzing (tests/fuzz/disk_image_fuzz): a directory linked into
// itself made indexing loop forever, growing without bound.
TEST(Source, ExtDirectoryLoopIsIndexedOnce) {
  if (!have("mkfs.ext4") || !have("debugfs")) GTEST_SKIP() << "needs mkfs.ext4 and debugfs";
  TestTree g;
  g.write("/etc/os-release", "ID=debian\n");
  g.write("/usr/bin/daemon", "binary");
  TempDir t;
  std::string img = t.path("loop.ext4");
  std::string cmd = "set -e; mkfs.ext4 -q -F -d '" + g.root() + "' '" + img + "' 4M >/dev/null; debugfs -w -R 'link / /usr/root' '" +
                    img + "' >/dev/null 2>&1; debugfs -w -R 'link /etc /etc/again' '" + img + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  setenv("DECANT_SOURCE_MOUNT", "0", 1);
  auto src = open_source(img);
  unsetenv("DECANT_SOURCE_MOUNT");
  ASSERT_TRUE(src.ok()) << src.error().message;
  EXPECT_EQ(*(*src)->root.read_file("/usr/bin/daemon"), "binary");
  // The second name of a directory already walked is indexed empty.
  EXPECT_TRUE((*src)->root.is_directory("/usr/root"));
  EXPECT_FALSE((*src)->root.exists("/usr/root/usr"));
}

// Found by fuzzing (tests/fuzz/disk_image_fuzz): an inode claiming a huge
// size made its work copy cost that size in reads and writes (a minute for
// one 256 KiB image). Holes stay holes now, in block-mapped (ext2) and
// extent (ext4) files alike, and the copy reads back as the file does.
TEST(Source, ExtSparseFilesCostWhatTheyHold) {
  if (!have("mkfs.ext4") || !have("debugfs")) GTEST_SKIP() << "needs mkfs.ext4 and debugfs";
  const uint64_t tail_at = 3ull << 30, size = 4ull << 30;
  for (const char* type : {"ext2", "ext4"}) {
    SCOPED_TRACE(type);
    TestTree g;
    g.write("/etc/os-release", "ID=debian\n");
    g.write("/var/log/lastlog", "head");
    int fd = ::open((g.root() + "/var/log/lastlog").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "tail", 4, static_cast<off_t>(tail_at)), 4);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    ::close(fd);
    g.write("/var/log/claims", "x");
    TempDir t;
    std::string img = t.path("fs.img");
    std::string cmd = std::string("set -e; mkfs.") + type + " -q -F -d '" + g.root() + "' '" + img +
                      "' 8M >/dev/null; debugfs -w -R 'sif /var/log/claims size 17179869184' '" + img +
                      "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    setenv("DECANT_SOURCE_MOUNT", "0", 1);
    auto src = open_source(img);
    unsetenv("DECANT_SOURCE_MOUNT");
    ASSERT_TRUE(src.ok()) << src.error().message;
    const GuestRoot& root = (*src)->root;
    std::string copy = root.host_path("/var/log/lastlog");
    ASSERT_FALSE(copy.empty());
    struct stat st;
    ASSERT_EQ(::stat(copy.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
    EXPECT_LT(st.st_blocks * 512, 1 << 20);  // sparse: holes were not written
    char buf[8] = {};
    int cfd = ::open(copy.c_str(), O_RDONLY);
    ASSERT_GE(cfd, 0);
    ASSERT_EQ(::pread(cfd, buf, 4, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "head");
    ASSERT_EQ(::pread(cfd, buf, 8, static_cast<off_t>(tail_at) - 4), 8);
    EXPECT_EQ(std::string(buf, 8), std::string("\0\0\0\0tail", 8));
    ::close(cfd);
    std::string claims = root.host_path("/var/log/claims");
    ASSERT_FALSE(claims.empty());
    ASSERT_EQ(::stat(claims.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 17179869184);
    EXPECT_LT(st.st_blocks * 512, 1 << 20);
    cfd = ::open(claims.c_str(), O_RDONLY);
    ASSERT_GE(cfd, 0);
    ASSERT_EQ(::pread(cfd, buf, 1, 0), 1);
    EXPECT_EQ(buf[0], 'x');
    ::close(cfd);
  }
}

// A compression bomb: work copies are bounded (DECANT_SOURCE_WORK_LIMIT_MB),
// and the refusal says which limit to raise.
TEST(Source, ArchiveExpandingPastTheWorkLimitIsRefused) {
  TempDir t;
  std::string tgz = t.path("bomb.tar.gz");
  std::string elf = std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(3 << 20, '\0');
  write_tar(tgz, {{"etc/os-release", S_IFREG | 0644, "ID=debian\n"}, {"usr/sbin/bomb", S_IFREG | 0755, elf}}, true);
  setenv("DECANT_SOURCE_WORK_LIMIT_MB", "2", 1);
  auto r = open_source(tgz);
  unsetenv("DECANT_SOURCE_WORK_LIMIT_MB");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("DECANT_SOURCE_WORK_LIMIT_MB"), std::string::npos) << r.error().message;
  auto ok = open_source(tgz);  // within the default limit
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

}  // namespace
}  // namespace decant
