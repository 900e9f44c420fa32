// Test helper: a throw-away directory tree that a test fills with files,
// directories and symlinks, used as a fake guest root. Removed on destruction.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace decant {

class TestTree {
 public:
  TestTree() {
    char tmpl[] = "/tmp/decant-test-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~TestTree() { std::system(("rm -rf '" + root_ + "'").c_str()); }
  TestTree(const TestTree&) = delete;
  TestTree& operator=(const TestTree&) = delete;

  const std::string& root() const { return root_; }
  std::string host(const std::string& guest) const { return root_ + guest; }

  void mkdir(const std::string& guest) { std::system(("mkdir -p '" + host(guest) + "'").c_str()); }
  void write(const std::string& guest, const std::string& content) {
    mkdir(guest.substr(0, guest.rfind('/')));
    std::ofstream(host(guest), std::ios::binary) << content;
  }
  void symlink(const std::string& target, const std::string& guest_link) {
    mkdir(guest_link.substr(0, guest_link.rfind('/')));
    ::symlink(target.c_str(), host(guest_link).c_str());
  }
  // Runs a shell command with $T set to the tree root; returns its exit status.
  int sh(const std::string& command) const {
    return std::system(("T='" + root_ + "'; " + command).c_str());
  }

 private:
  std::string root_;
};

}  // namespace decant
