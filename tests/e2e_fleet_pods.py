"""Runs the pods of the Jobs `decant fleet k8s` writes with podman, as a
kubelet would run them, for e2e.fleet: every document of a YAML file is read,
a ConfigMap becomes a directory, each Job's pod template is started once per
completion index (all at once, as completions = parallelism), with the
container's command, args and env from the YAML ($(VAR) in args expanded
from env as the kubelet does, JOB_COMPLETION_INDEX from its fieldRef),
PersistentVolumeClaims mapped to host directories given on the command
line, emptyDirs as tmpfs and readOnlyRootFilesystem as --read-only. Exits
non-zero when a pod does.
usage: e2e_fleet_pods.py PODMAN_COMMAND WORKDIR YAML CLAIM=HOSTDIR... [-e NAME=VALUE]..."""
import os
import re
import shlex
import subprocess
import sys

import yaml


def pod_command(podman, work, doc, index, claims, extra_env, configmaps):
    spec = doc["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("Never", "OnFailure"), "a Job's pods must not restart Always"
    (c,) = spec["containers"]
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            path = e["valueFrom"]["fieldRef"]["fieldPath"]
            assert path == "metadata.annotations['batch.kubernetes.io/job-completion-index']", path
            assert index is not None, "the completion index of a Job that is not Indexed"
            env[e["name"]] = str(index)
    env.update(extra_env)
    expand = lambda s: re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), s)
    volumes = {}
    for v in spec.get("volumes", []):
        if "configMap" in v:
            volumes[v["name"]] = ("bind", configmaps[v["configMap"]["name"]])
        elif "persistentVolumeClaim" in v:
            volumes[v["name"]] = ("bind", claims[v["persistentVolumeClaim"]["claimName"]])
        elif "emptyDir" in v:
            volumes[v["name"]] = ("tmpfs", None)
        else:
            raise SystemExit(f"volume kind not handled: {v}")
    cmd = podman + ["run", "--rm", "--network", "none"]
    if c.get("securityContext", {}).get("readOnlyRootFilesystem"):
        cmd.append("--read-only")
    for m in c.get("volumeMounts", []):
        kind, host = volumes[m["name"]]
        if kind == "tmpfs":
            cmd += ["--tmpfs", m["mountPath"]]
        else:
            cmd += ["-v", f"{host}:{m['mountPath']}" + (":ro" if m.get("readOnly") else "")]
    for k, v in env.items():
        cmd += ["-e", f"{k}={v}"]
    cmd += ["--entrypoint", c["command"][0], c["image"]] + c["command"][1:] + [expand(a) for a in c.get("args", [])]
    return cmd


def main():
    podman, work, path = shlex.split(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    claims, extra_env = {}, {}
    rest = sys.argv[4:]
    while rest:
        a = rest.pop(0)
        if a == "-e":
            k, v = rest.pop(0).split("=", 1)
            extra_env[k] = v
        else:
            k, v = a.split("=", 1)
            claims[k] = v
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    # ConfigMaps applied before (job.yaml's, for the merge Job) are still there.
    configmaps = {n[len("configmap-"):]: os.path.join(work, n) for n in os.listdir(work) if n.startswith("configmap-")}
    for d in docs:
        if d["kind"] == "ConfigMap":
            dest = os.path.join(work, "configmap-" + d["metadata"]["name"])
            os.makedirs(dest, exist_ok=True)
            for name, text in d["data"].items():
                with open(os.path.join(dest, name), "w") as f:
                    f.write(text)
            configmaps[d["metadata"]["name"]] = dest
    failed = 0
    for d in docs:
        if d["kind"] != "Job":
            continue
        indexed = d["spec"].get("completionMode") == "Indexed"
        indices = range(d["spec"]["completions"]) if indexed else [None]
        procs = []
        for i in indices:
            cmd = pod_command(podman, work, d, i, claims, extra_env, configmaps)
            log = open(os.path.join(work, f"{d['metadata']['name']}-{i}.log"), "w")
            print("+ " + shlex.join(cmd), file=sys.stderr)
            procs.append((i, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log.name))
        for i, p, log in procs:
            if p.wait() != 0:
                failed += 1
                with open(log) as f:
                    print(f"pod {d['metadata']['name']} index {i} exited {p.returncode}: {f.read()[-2000:]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
