// ArchiveGuest: a guest root read from an archive of it, anything libarchive
// reads (tar with gzip/xz/zstd/bzip2, cpio, zip...). One streaming pass
// indexes every entry and materializes the files later stages are likely to
// read (ELF objects, scripts, small files); any other file is fetched by
// streaming the archive again up to it. The archive is opened read-only and
// never held in memory whole.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "guest/indexed_guest.h"

namespace decant {

class ArchiveGuest : public IndexedGuest {
 public:
  // Fails (bad input) for what libarchive cannot read or a truncated archive.
  // source_name: what source_name() reports (default: archive_path).
  static Result<std::shared_ptr<ArchiveGuest>> open(const std::string& archive_path,
                                                    const std::string& source_name = "");

 protected:
  Status fetch(const std::string& path, const Node& node, int fd) const override;

 private:
  ArchiveGuest(std::string archive_path, const std::string& source_name)
      : IndexedGuest(source_name.empty() ? archive_path : source_name), archive_(std::move(archive_path)) {}
  Status index();

  std::string archive_;
};

}  // namespace decant
