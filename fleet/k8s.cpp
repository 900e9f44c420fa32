// The fleet's Kubernetes manifests (see k8s.h), written with yaml-cpp's
// emitter; every string is double-quoted, as in the per-service k8s.yaml
// (YAML 1.1 readers take a bare `no` for false).
#include "fleet/k8s.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>


namespace decant {
namespace {

YAML::Emitter& quoted(YAML::Emitter& y, const std::string& s) { return y << YAML::DoubleQuoted << s; }

void key(YAML::Emitter& y, const char* k) { y << YAML::Key << k << YAML::Value; }

void quoted_seq(YAML::Emitter& y, const std::vector<std::string>& v) {
  y << YAML::Flow << YAML::BeginSeq;
  for (const auto& e : v) quoted(y, e);
  y << YAML::EndSeq;
}

bool dns_label(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

void metadata(YAML::Emitter& y, const std::string& name, const std::string& component) {
  key(y, "metadata");
  y << YAML::BeginMap;
  key(y, "name");
  quoted(y, name);
  key(y, "labels");
  y << YAML::BeginMap;
  key(y, "app.kubernetes.io/name");
  quoted(y, "decant");
  key(y, "app.kubernetes.io/component");
  quoted(y, component);
  key(y, "app.kubernetes.io/managed-by");
  quoted(y, "decant");
  y << YAML::EndMap << YAML::EndMap;
}

void config_map(YAML::Emitter& y, const K8sFleetOptions& o) {
  std::string list;
  for (const auto& s : o.sources) list += s + "\n";
  y << YAML::BeginDoc << YAML::BeginMap;
  key(y, "apiVersion");
  quoted(y, "v1");
  key(y, "kind");
  quoted(y, "ConfigMap");
  metadata(y, o.name + "-sources", "sources");
  key(y, "data");
  y << YAML::BeginMap;
  key(y, "sources.txt");
  y << YAML::Literal << list;
  y << YAML::EndMap << YAML::EndMap;
}

// The pod both Jobs run: decant's image with the list, the output claim,
// the optional sources claim, and /tmp (an emptyDir) for the analyzer's
// cache and disk images' scratch files: the image's root stays read-only.
void pod_spec(YAML::Emitter& y, const K8sFleetOptions& o, const std::string& container,
              const std::vector<std::string>& args, bool indexed) {
  key(y, "spec");
  y << YAML::BeginMap;
  key(y, "restartPolicy");
  quoted(y, "Never");
  key(y, "containers");
  y << YAML::BeginSeq << YAML::BeginMap;
  key(y, "name");
  quoted(y, container);
  key(y, "image");
  quoted(y, o.image);
  key(y, "command");
  quoted_seq(y, {o.decant});
  key(y, "args");
  quoted_seq(y, args);
  key(y, "env");
  y << YAML::BeginSeq;
  if (indexed) {  // what the Job controller sets too; spelled out so $(JOB_COMPLETION_INDEX) in args expands everywhere
    y << YAML::BeginMap;
    key(y, "name");
    quoted(y, "JOB_COMPLETION_INDEX");
    key(y, "valueFrom");
    y << YAML::BeginMap;
    key(y, "fieldRef");
    y << YAML::BeginMap;
    key(y, "fieldPath");
    quoted(y, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    y << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  }
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"XDG_CACHE_HOME", "/tmp"}}) {
    y << YAML::BeginMap;
    key(y, "name");
    quoted(y, name);
    key(y, "value");
    quoted(y, value);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  key(y, "securityContext");
  y << YAML::BeginMap;
  key(y, "readOnlyRootFilesystem");
  y << true;
  key(y, "allowPrivilegeEscalation");
  y << false;
  y << YAML::EndMap;
  struct Mount {
    std::string volume, path;
    bool read_only;
  };
  std::vector<Mount> mounts = {{"sources-list", "/etc/decant", true}, {"out", o.out_dir, false}, {"tmp", "/tmp", false}};
  if (!o.sources_pvc.empty()) mounts.push_back({"sources", o.sources_dir, true});
  key(y, "volumeMounts");
  y << YAML::BeginSeq;
  for (const auto& m : mounts) {
    y << YAML::BeginMap;
    key(y, "name");
    quoted(y, m.volume);
    key(y, "mountPath");
    quoted(y, m.path);
    if (m.read_only) {
      key(y, "readOnly");
      y << true;
    }
    y << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap << YAML::EndSeq;  // the mounts, the container, the containers
  key(y, "volumes");
  y << YAML::BeginSeq;
  y << YAML::BeginMap;
  key(y, "name");
  quoted(y, "sources-list");
  key(y, "configMap");
  y << YAML::BeginMap;
  key(y, "name");
  quoted(y, o.name + "-sources");
  y << YAML::EndMap << YAML::EndMap;
  auto claim = [&](const char* volume, const std::string& pvc, bool read_only) {
    y << YAML::BeginMap;
    key(y, "name");
    quoted(y, volume);
    key(y, "persistentVolumeClaim");
    y << YAML::BeginMap;
    key(y, "claimName");
    quoted(y, pvc);
    if (read_only) {
      key(y, "readOnly");
      y << true;
    }
    y << YAML::EndMap << YAML::EndMap;
  };
  claim("out", o.pvc, false);
  if (!o.sources_pvc.empty()) claim("sources", o.sources_pvc, true);
  y << YAML::BeginMap;
  key(y, "name");
  quoted(y, "tmp");
  key(y, "emptyDir");
  y << YAML::BeginMap << YAML::EndMap << YAML::EndMap;
  y << YAML::EndSeq << YAML::EndMap;
}

void job(YAML::Emitter& y, const K8sFleetOptions& o, const std::string& name, const std::string& component,
         const std::vector<std::string>& args, int pods) {
  bool indexed = pods > 0;
  y << YAML::BeginDoc << YAML::BeginMap;
  key(y, "apiVersion");
  quoted(y, "batch/v1");
  key(y, "kind");
  quoted(y, "Job");
  metadata(y, name, component);
  key(y, "spec");
  y << YAML::BeginMap;
  if (indexed) {
    key(y, "completionMode");
    quoted(y, "Indexed");
    key(y, "completions");
    y << static_cast<int>(o.sources.size());
    key(y, "parallelism");
    y << pods;
  }
  // A retry gets the same input: only a crash or an evicted pod is worth one per source.
  key(y, "backoffLimit");
  y << (indexed ? static_cast<int>(o.sources.size()) : 1);
  key(y, "template");
  y << YAML::BeginMap;
  metadata(y, name, component);
  pod_spec(y, o, component, args, indexed);
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap;
}

}  // namespace

Result<K8sFleetManifests> k8s_fleet_manifests(const K8sFleetOptions& o) {
  if (o.sources.empty()) return bad_input("fleet k8s: the source list is empty");
  // "-sources" and "-convert" are added: 63 minus the longest suffix.
  if (!dns_label(o.name, 63 - 8)) return bad_input(fmt::format("--name {}: want a DNS label (a-z, 0-9, -) of at most 55", o.name));
  if (!dns_label(o.pvc, 253)) return bad_input(fmt::format("--pvc {}: not a claim name", o.pvc));
  if (!o.sources_pvc.empty() && !dns_label(o.sources_pvc, 253))
    return bad_input(fmt::format("--sources-pvc {}: not a claim name", o.sources_pvc));
  if (o.parallelism < 0) return bad_input("--parallelism: want a positive number");
  if (o.image.empty()) return bad_input("--image: empty image reference");
  int pods = o.parallelism == 0 ? static_cast<int>(o.sources.size())
                                : std::min(o.parallelism, static_cast<int>(o.sources.size()));
  std::vector<std::string> convert = {"convert",       "--sources",
                                      kFleetListPath,  "--shard-count",
                                      std::to_string(o.sources.size()), "--shard-index",
                                      "$(JOB_COMPLETION_INDEX)", "-o",
                                      o.out_dir,       "--exit-zero"};
  convert.insert(convert.end(), o.convert_args.begin(), o.convert_args.end());
  K8sFleetManifests m;
  {
    YAML::Emitter y;
    config_map(y, o);
    job(y, o, o.name + "-convert", "convert", convert, pods);
    m.job = std::string(y.c_str()) + "\n";
  }
  {
    YAML::Emitter y;
    job(y, o, o.name + "-merge", "merge", {"fleet", "merge", "--sources", kFleetListPath, o.out_dir}, 0);
    m.merge = std::string(y.c_str()) + "\n";
  }
  return m;
}

}  // namespace decant
