// `decant fleet k8s`: the Kubernetes manifests that convert a list of VM
// sources on a cluster (docs/fleet.md). An Indexed Job whose pod number k
// runs decant's own image on source k of a ConfigMap-held list (`decant
// convert --sources … --shard-index $(JOB_COMPLETION_INDEX)`), writing to a
// PersistentVolumeClaim, and a one-pod merge Job that writes the fleet's
// summary.json and report once they are all done. Text only: nothing here
// talks to a cluster.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct K8sFleetOptions {
  std::vector<std::string> sources;  // paths as the pods see them, in list order
  std::string name = "decant";       // prefix of the Job and ConfigMap names
  std::string image = "localhost/decant:latest";
  std::string decant = "/usr/local/bin/decant";  // the executable's path inside the image
  std::string pvc = "decant-out";          // claim the outputs go to, mounted at out_dir
  std::string out_dir = "/out";
  std::string sources_pvc;  // optional claim holding the sources, mounted read-only at sources_dir
  std::string sources_dir = "/sources";
  int parallelism = 0;                    // pods at once; 0: one per source
  std::vector<std::string> convert_args;  // more `decant convert` options (-j 2, --format …)
};

// Where the pods read the list from (the ConfigMap's mount).
inline constexpr const char* kFleetListPath = "/etc/decant/sources.txt";

struct K8sFleetManifests {
  std::string job;    // ConfigMap + Indexed Job
  std::string merge;  // the merge Job (apply once the first has completed)
};

// Bad input: no sources, a name that is not a DNS label, parallelism < 0.
Result<K8sFleetManifests> k8s_fleet_manifests(const K8sFleetOptions& options);

}  // namespace decant
