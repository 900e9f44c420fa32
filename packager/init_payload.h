// decant-init in an image (docs/init.md): the static init at /.decant/init,
// the setup file it reads (/.decant/init.setup: the runtime directories the
// VM's init and tmpfiles.d would create under /run, and the volumes to seed),
// each volume's initial content moved under /.decant/seed/ so that every
// runtime (decant run, podman, Kubernetes' emptyDir) fills an empty volume
// the same way, and the entrypoint `/.decant/init [options] -- <service>`.
// The packager writes these data; the init reads them: no shared code.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "guest/guest_root.h"
#include "packager/file_set.h"
#include "packager/oci_config.h"
#include "profiles/profile.h"

namespace decant {

inline constexpr const char* kInitPath = "/.decant/init";
inline constexpr const char* kInitSetupPath = "/.decant/init.setup";
inline constexpr const char* kSeedRoot = "/.decant/seed";

// decant-init's SIGTERM -> SIGKILL grace when it is given no --stop-timeout
// (init/args.c), in seconds.
inline constexpr int kInitStopTimeout = 10;
// What a runtime's own grace (Kubernetes' terminationGracePeriodSeconds,
// compose's stop_grace_period, decant run's stop timeout) adds to
// decant-init's --stop-timeout, so that the init's SIGKILL of the service
// comes first and the container then ends on its own.
inline constexpr int kStopGraceMargin = 5;

// The --stop-timeout decant-init is started with in argv (an entrypoint
// beginning with kInitPath, options before "--"); 0 when it has none, or
// when argv does not start decant-init.
int init_stop_timeout(const std::vector<std::string>& argv);

// A runtime's stop grace for that argv: init_stop_timeout plus
// kStopGraceMargin; 0 (the runtime's default) when the init has none.
int runtime_stop_grace(const std::vector<std::string>& argv);

// decant-init to put in images: $DECANT_INIT when set, else the first
// readable decant-init beside the decant executable (the build tree), in
// ../lib/decant/ or in init/. When none is readable, the path beside the
// executable, so the error can say where it looked.
std::string locate_init();

// A guest whose /var/run is a link to /run: entries and writable
// directories under /var/run move to /run and /var/run becomes that link in
// the image, as in the VM (daemons write either spelling). Before the mount
// points are added.
void link_var_run(const GuestRoot& root, FileSet& set, ImageSpec& spec);

// Adds the init and its data to the set and wraps the spec's entrypoint in
// it; the spec's user becomes root (the init drops to the service's user,
// groups and capabilities before exec). init_host: the host path of
// decant-init. A guest of another architecture than decant-init's gets no
// init and a note. After make_image_spec, before the mount points are added.
Status add_init_payload(const GuestRoot& root, const Profile& profile, const std::string& init_host, FileSet& set,
                        ImageSpec& spec, std::vector<std::string>& warnings);

// The guest's tmpfiles.d `d`/`D` lines for /run (and /var/run), as setup
// lines "dir MODE UID GID PATH"; /etc/tmpfiles.d overrides a same-named file
// of /usr/lib/tmpfiles.d, as systemd-tmpfiles does. Exposed for tests.
std::vector<std::string> tmpfiles_run_dirs(const GuestRoot& root, std::vector<std::string>& notes);

// Supplementary groups of `user` in the guest's /etc/group (with its
// primary gid), sorted, as initgroups(3) would set them. Exposed for tests.
std::vector<uint32_t> guest_supplementary_groups(const GuestRoot& root, const std::string& user, uint32_t gid);

}  // namespace decant
