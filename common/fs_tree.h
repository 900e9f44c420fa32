// Host directory-tree helpers every stage that writes outputs needs: create a
// directory with its parents, and remove a tree without following symlinks
// (a scratch directory may hold links into the guest or the host).
#pragma once

#include <string>

#include "common/error.h"

namespace decant {

// mkdir -p with mode 0755 for created directories.
Status make_directories(const std::string& path);

// rm -rf without following symlinks or crossing mount points. Returns false
// if something remained.
bool remove_tree(const std::string& path);

}  // namespace decant
