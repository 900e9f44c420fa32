// Kubernetes and compose manifests from an ImageSpec (see manifests.h),
// written with yaml-cpp's emitter so every string is quoted as YAML needs.
#include "packager/manifests.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "packager/init_payload.h"

namespace decant {
namespace {

// Every string value is double-quoted: YAML 1.1 readers (Kubernetes,
// compose) take a bare `no` for false and `101:101` for a base-60 number.
struct Quoted {
  const std::string& s;
};
YAML::Emitter& operator<<(YAML::Emitter& y, const Quoted& q) { return y << YAML::DoubleQuoted << q.s; }

void quoted_seq(YAML::Emitter& y, const std::vector<std::string>& v, bool flow = true) {
  if (flow) y << YAML::Flow;
  y << YAML::BeginSeq;
  for (const auto& e : v) y << YAML::DoubleQuoted << e;
  y << YAML::EndSeq;
}

// Scratch directories that no writable volume already covers: one mount
// point may hold one volume.
std::vector<std::string> scratch_only(const ImageSpec& s) {
  std::vector<std::string> out;
  for (const auto& d : s.scratch_dirs) {
    bool covered = false;
    for (const auto& w : s.writable)
      if (d == w.path || (d.size() > w.path.size() && d.compare(0, w.path.size(), w.path) == 0 && d[w.path.size()] == '/'))
        covered = true;
    if (!covered) out.push_back(d);
  }
  return out;
}

// "CAP_NET_BIND_SERVICE" -> "NET_BIND_SERVICE", as both formats spell them.
std::string cap_name(const std::string& cap) { return cap.rfind("CAP_", 0) == 0 ? cap.substr(4) : cap; }

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

void labels(YAML::Emitter& y, const std::string& name) {
  y << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "app.kubernetes.io/name" << YAML::Value << Quoted{name};
  y << YAML::Key << "app.kubernetes.io/managed-by" << YAML::Value << "decant";
  y << YAML::EndMap;
}

void container(YAML::Emitter& y, const ImageSpec& s, const std::string& name, const std::string& image) {
  const std::vector<std::string> scratch = scratch_only(s);
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << Quoted{name};
  y << YAML::Key << "image" << YAML::Value << Quoted{image};
  y << YAML::Key << "command" << YAML::Value;
  quoted_seq(y, s.entrypoint);
  if (!s.cmd.empty()) {
    y << YAML::Key << "args" << YAML::Value;
    quoted_seq(y, s.cmd);
  }
  y << YAML::Key << "workingDir" << YAML::Value << Quoted{s.workdir};
  if (!s.env.empty()) {
    y << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
    for (const auto& kv : s.env) {
      size_t eq = kv.find('=');
      std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << Quoted{key} << YAML::Key << "value"
        << YAML::Value << Quoted{value} << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  if (!s.ports.empty()) {
    y << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
    for (const auto& [port, proto] : s.ports)
      y << YAML::BeginMap << YAML::Key << "containerPort" << YAML::Value << port << YAML::Key << "protocol"
        << YAML::Value << upper(proto) << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::Key << "securityContext" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "runAsUser" << YAML::Value << s.uid << YAML::Key << "runAsGroup" << YAML::Value << s.gid;
  y << YAML::Key << "readOnlyRootFilesystem" << YAML::Value << true;
  y << YAML::Key << "allowPrivilegeEscalation" << YAML::Value << false;
  y << YAML::Key << "capabilities" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "drop" << YAML::Value << YAML::Flow << std::vector<std::string>{"ALL"};
  if (!s.capabilities.empty()) {
    std::vector<std::string> add;
    for (const auto& c : s.capabilities) add.push_back(cap_name(c));
    y << YAML::Key << "add" << YAML::Value;
    quoted_seq(y, add);
  }
  y << YAML::EndMap << YAML::EndMap;
  if (!s.writable.empty() || !scratch.empty()) {
    y << YAML::Key << "volumeMounts" << YAML::Value << YAML::BeginSeq;
    for (size_t i = 0; i < s.writable.size(); ++i)
      y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("data-{}", i) << YAML::Key
        << "mountPath" << YAML::Value << Quoted{s.writable[i].path} << YAML::EndMap;
    for (size_t i = 0; i < scratch.size(); ++i)
      y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("scratch-{}", i) << YAML::Key
        << "mountPath" << YAML::Value << Quoted{scratch[i]} << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::EndMap;
}

void deployment(YAML::Emitter& y, const ImageSpec& s, const std::string& name, const std::string& image,
                const std::string& seccomp_profile) {
  const std::vector<std::string> scratch = scratch_only(s);
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "apps/v1" << YAML::Key << "kind" << YAML::Value << "Deployment";
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value << Quoted{name};
  labels(y, name);
  y << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap << YAML::Key << "replicas" << YAML::Value << 1;
  y << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels" << YAML::Value
    << YAML::BeginMap << YAML::Key << "app.kubernetes.io/name" << YAML::Value << Quoted{name} << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  labels(y, name);
  y << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  std::string host = k8s_name(s.hostname);
  if (!s.hostname.empty()) y << YAML::Key << "hostname" << YAML::Value << Quoted{host};
  // Absent without a unit's TimeoutStopSec= (Kubernetes' 30 s, more than the init's 10 s).
  if (int grace = runtime_stop_grace(s.entrypoint))
    y << YAML::Key << "terminationGracePeriodSeconds" << YAML::Value << grace;
  if (!seccomp_profile.empty())
    y << YAML::Key << "securityContext" << YAML::Value << YAML::BeginMap << YAML::Key << "seccompProfile"
      << YAML::Value << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "Localhost" << YAML::Key
      << "localhostProfile" << YAML::Value << Quoted{seccomp_profile} << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
  container(y, s, name, image);
  y << YAML::EndSeq;
  if (!s.writable.empty() || !scratch.empty()) {
    y << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq;
    for (size_t i = 0; i < s.writable.size(); ++i)
      y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("data-{}", i) << YAML::Key
        << "persistentVolumeClaim" << YAML::Value << YAML::BeginMap << YAML::Key << "claimName" << YAML::Value
        << fmt::format("{}-data-{}", name, i) << YAML::EndMap << YAML::EndMap;
    for (size_t i = 0; i < scratch.size(); ++i)
      y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("scratch-{}", i) << YAML::Key
        << "emptyDir" << YAML::Value << YAML::BeginMap << YAML::Key << "medium" << YAML::Value << "Memory"
        << YAML::EndMap << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
}

void service(YAML::Emitter& y, const ImageSpec& s, const std::string& name) {
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "v1" << YAML::Key << "kind" << YAML::Value << "Service";
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value << Quoted{name};
  labels(y, name);
  y << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "app.kubernetes.io/name"
    << YAML::Value << Quoted{name} << YAML::EndMap;
  y << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  for (const auto& [port, proto] : s.ports)
    y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("{}-{}", proto, port) << YAML::Key
      << "port" << YAML::Value << port << YAML::Key << "targetPort" << YAML::Value << port << YAML::Key
      << "protocol" << YAML::Value << upper(proto) << YAML::EndMap;
  y << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
}

void claim(YAML::Emitter& y, const std::string& name, size_t i, const WritableDir& w) {
  y << YAML::BeginDoc << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "v1" << YAML::Key << "kind" << YAML::Value
    << "PersistentVolumeClaim";
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
    << fmt::format("{}-data-{}", name, i);
  labels(y, name);
  y << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap << YAML::Key << "decant.io/path" << YAML::Value
    << Quoted{w.path} << YAML::Key << "decant.io/reason" << YAML::Value << Quoted{w.reason} << YAML::EndMap;
  y << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "accessModes" << YAML::Value << YAML::Flow << std::vector<std::string>{"ReadWriteOnce"};
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "requests" << YAML::Value
    << YAML::BeginMap << YAML::Key << "storage" << YAML::Value << "1Gi" << YAML::EndMap << YAML::EndMap;
  y << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::string k8s_name(const std::string& in) {
  std::string out;
  for (char c : in) {
    char l = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) out += l;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "service" : out;
}

std::string k8s_manifest(const ImageSpec& spec, const std::string& image, const std::string& seccomp_profile) {
  std::string name = k8s_name(spec.name);
  YAML::Emitter y;
  deployment(y, spec, name, image, seccomp_profile);
  if (!spec.ports.empty()) service(y, spec, name);
  for (size_t i = 0; i < spec.writable.size(); ++i) claim(y, name, i, spec.writable[i]);
  return std::string(y.c_str()) + "\n";
}

std::string compose_manifest(const ImageSpec& s, const std::string& image, const std::string& seccomp_file) {
  std::string name = k8s_name(s.name);
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "services" << YAML::Value << YAML::BeginMap << YAML::Key << name << YAML::Value
    << YAML::BeginMap;
  y << YAML::Key << "image" << YAML::Value << Quoted{image};
  y << YAML::Key << "entrypoint" << YAML::Value;
  quoted_seq(y, s.entrypoint);
  if (!s.cmd.empty()) {
    y << YAML::Key << "command" << YAML::Value;
    quoted_seq(y, s.cmd);
  }
  y << YAML::Key << "working_dir" << YAML::Value << Quoted{s.workdir};
  std::string user = fmt::format("{}:{}", s.uid, s.gid);
  y << YAML::Key << "user" << YAML::Value << Quoted{user};
  if (!s.hostname.empty()) y << YAML::Key << "hostname" << YAML::Value << Quoted{s.hostname};
  if (int grace = runtime_stop_grace(s.entrypoint)) {  // absent: compose's 10 s, the init's too
    std::string period = fmt::format("{}s", grace);     // a compose duration
    y << YAML::Key << "stop_grace_period" << YAML::Value << Quoted{period};
  }
  if (!s.env.empty()) {
    y << YAML::Key << "environment" << YAML::Value;
    quoted_seq(y, s.env, false);
  }
  if (!s.ports.empty()) {
    std::vector<std::string> ports;
    for (const auto& [port, proto] : s.ports) ports.push_back(fmt::format("{}:{}/{}", port, port, proto));
    y << YAML::Key << "ports" << YAML::Value;
    quoted_seq(y, ports, false);
  }
  y << YAML::Key << "read_only" << YAML::Value << true;
  y << YAML::Key << "cap_drop" << YAML::Value << YAML::Flow << std::vector<std::string>{"ALL"};
  if (!s.capabilities.empty()) {
    std::vector<std::string> add;
    for (const auto& c : s.capabilities) add.push_back(cap_name(c));
    y << YAML::Key << "cap_add" << YAML::Value;
    quoted_seq(y, add);
  }
  std::vector<std::string> opts = {"no-new-privileges:true"};
  if (!seccomp_file.empty()) opts.push_back("seccomp=" + seccomp_file);
  y << YAML::Key << "security_opt" << YAML::Value;
  quoted_seq(y, opts, false);
  if (!s.writable.empty()) {
    std::vector<std::string> vols;
    for (size_t i = 0; i < s.writable.size(); ++i) vols.push_back(fmt::format("data-{}:{}", i, s.writable[i].path));
    y << YAML::Key << "volumes" << YAML::Value;
    quoted_seq(y, vols, false);
  }
  if (const std::vector<std::string> scratch = scratch_only(s); !scratch.empty()) {
    y << YAML::Key << "tmpfs" << YAML::Value;
    quoted_seq(y, scratch, false);
  }
  y << YAML::EndMap << YAML::EndMap;
  if (!s.writable.empty()) {
    y << YAML::Key << "volumes" << YAML::Value << YAML::BeginMap;
    for (size_t i = 0; i < s.writable.size(); ++i)
      y << YAML::Key << fmt::format("data-{}", i) << YAML::Value << YAML::BeginMap << YAML::EndMap;
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace decant
