// Test helper: a throw-away host directory, removed with everything in it on
// destruction, with small helpers to fill it. For tests only (it asserts
// nothing and ignores errors: a failed write shows up as the test's failure).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace decant {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/decant-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Writes name (its directory must exist) and returns its path.
  std::string write(const std::string& name, const std::string& content, unsigned mode = 0644) const {
    std::ofstream(path(name), std::ios::binary) << content;
    ::chmod(path(name).c_str(), mode);
    return path(name);
  }
  std::string mkdir(const std::string& name) const {
    ::mkdir(path(name).c_str(), 0755);
    return path(name);
  }

 private:
  std::string dir_;
};

}  // namespace decant
