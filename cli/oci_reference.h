// Checks an image reference (`--tag`) against the grammar of the OCI
// distribution spec and Docker's reference package, so that a name a
// registry or podman would refuse is refused before anything is written
// rather than baked into an artifact's annotations.
#pragma once

#include <string>

#include "common/error.h"

namespace decant {

// [HOST[:PORT]/]COMPONENT[/COMPONENT...][:TAG][@ALGO:HEX]
//   COMPONENT: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
//   HOST:      the first of several components when it has a '.' or a ':'
//              or is "localhost" (Docker's rule): DNS labels of
//              [a-zA-Z0-9-] not starting or ending with '-', joined by '.'
//   TAG:       [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest:    sha256 with 64, sha512 with 128 lowercase hex digits
// The name (host and path, without tag or digest) is at most 255 characters.
// Bad input names the part that is wrong, prefixed with what.
Status check_image_reference(const std::string& ref, const std::string& what = "--tag");

}  // namespace decant
