// IndexedGuest: the GuestFs of a guest that is not a directory on the host
// (an archive, an ext filesystem inside a disk image). The metadata of every
// entry is indexed in memory once; file contents are materialized on demand
// into a private work directory, because the ELF reader and the archive
// writer need a host file (host_path()). Metadata always comes from the
// index, never from the materialized copy, so what the packager records is
// the guest's. Subclasses fill the index and say how one file's bytes are
// fetched. Thread-safe: concurrent conversions share one instance.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "guest/guest_fs.h"

namespace decant {

// Removes TMP/PREFIX<pid>-* directories (ours) whose process is gone: what a
// decant killed without unwinding left behind.
void remove_stale_workdirs(const std::string& tmp, const std::string& prefix);

class IndexedGuest : public GuestFs {
 public:
  // source_name: what source_name() reports (the archive or image, for the
  // profile's provenance). The work directory is created under $TMPDIR on
  // the first materialization and removed with this object.
  explicit IndexedGuest(std::string source_name);
  ~IndexedGuest() override;
  IndexedGuest(const IndexedGuest&) = delete;
  IndexedGuest& operator=(const IndexedGuest&) = delete;

  int lstat(const std::string& path, struct stat* st) const override;
  std::string readlink(const std::string& path, int* err) const override;
  Result<std::string> read_file(const std::string& path, uint64_t max_bytes) const override;
  std::vector<std::string> list_directory(const std::string& path, int* err) const override;
  std::string get_xattr(const std::string& path, const std::string& name) const override;
  std::vector<std::string> list_xattrs(const std::string& path) const override;
  // Not a directory on the host: "" (host_path() still gives host files).
  const std::string& host_root() const override { return no_root_; }
  std::string source_name() const override { return source_name_; }
  // Materializes the regular file at path (once per inode) and returns its
  // host copy, or "" when path is not a regular file or cannot be fetched.
  std::string host_path(const std::string& path) const override;

  size_t entry_count() const { return nodes_.size(); }

 protected:
  struct Node {
    struct stat st {};
    std::string target;  // symlink text
    std::map<std::string, std::string> xattrs;
    std::vector<std::string> children;  // directories: entry names
    uint64_t key = 0;  // what the backend needs to fetch the content (inode, archive position)
  };
  // Adds or replaces the entry at a guest path given by the source (it is
  // normalized here: "./", "/" and "." dropped; false for a name with a ".."
  // component, which is never indexed). Missing parents become root-owned
  // 0755 directories. Returns the node to fill, or nullptr.
  Node* put(const std::string& raw_name, mode_t mode);
  // The canonical guest path of a name as put() normalizes it; "" for a
  // name with a ".." component.
  static std::string canonical_name(const std::string& raw_name);
  // After indexing: link counts of hard links and directories.
  void finish_index();
  // Writes the content of the regular file node (at guest path) to the
  // already created, empty file descriptor fd.
  virtual Status fetch(const std::string& path, const Node& node, int fd) const = 0;
  // Records a file whose content the subclass already wrote to a host file
  // it created with make_work_file(); keyed like host_path().
  void adopt(const Node& node, std::string host) const;
  // Bounds on what a hostile source can make decant hold (docs/sources.md):
  // entries in the index, and bytes written into work copies altogether
  // (DECANT_SOURCE_WORK_LIMIT_MB, default 16 GiB). Both fail as bad input.
  static constexpr size_t kMaxEntries = 2000000;
  Status check_entry_count() const;
  Status charge_work_bytes(uint64_t bytes) const;
  // A new empty 0600 file in the work directory for the guest path.
  Result<std::pair<int, std::string>> make_work_file(const std::string& path) const;
  const Node* find(const std::string& path) const;
  bool materialized(const Node& node) const;

  std::map<std::string, Node> nodes_;  // by canonical guest path; "/" always present

 private:
  Status ensure_workdir() const;

  std::string source_name_, no_root_;
  mutable std::mutex mu_;
  mutable std::string workdir_;
  mutable std::map<uint64_t, std::string> copies_;  // inode number -> host copy
  mutable uint64_t next_copy_ = 0;
  mutable std::atomic<uint64_t> work_bytes_{0};
};

}  // namespace decant
