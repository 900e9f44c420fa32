#!/usr/bin/env python3
"""Fails when a stage reaches a stage above it in the pipeline.

The tree is one folder a stage and the arrows run one way
(docs/architecture.md). Two views are checked, because either alone can
drift: the quoted #include lines of every C/C++ file in a stage folder, and
the decant_* libraries and third-party code analyzers each library target
links in its CMakeLists.txt. Usage: stage_deps.py SOURCE_DIR
"""
import pathlib
import re
import sys

# Which folders a stage's files may include from (besides its own).
ALLOWED_INCLUDES = {
    "common": set(),
    "guest": {"common"},
    "elf": {"common"},
    "profiles": {"common"},
    "discover": {"guest", "common"},
    "analyzer": {"elf", "guest", "profiles", "common"},
    "policy": {"profiles", "common", "shim"},  # shim: only the plan contract header
    # analyzer: only data headers (shim_needs.h); the link check below keeps
    # the packager free of LIEF and Capstone.
    "packager": {"policy", "analyzer", "guest", "profiles", "common"},
    "run": {"packager", "policy", "guest", "profiles", "common"},
    "learn": {"policy", "profiles", "common"},
    "convert": {"discover", "analyzer", "packager", "policy", "elf", "guest", "profiles", "common"},
    # report reads convert's OUTDIR files (summary.json, profile.yaml), never its code.
    "report": {"profiles", "common"},
    # fleet: the Kubernetes Job text and the merge of sharded outputs (names, index, report).
    "fleet": {"convert", "report", "common"},
    "cli": {"fleet", "report", "convert", "learn", "run", "packager", "policy", "analyzer", "discover", "elf", "guest", "profiles", "common"},
    "shim": set(),
    "init": set(),  # plain C, libc only, static: shares nothing with the C++ side
}
# The one header the shim shares with the C++ side.
SHIM_SHARED = {"shim/plan_contract.h", "shim/plan.h"}
# decant_* libraries each library target may link.
ALLOWED_LINKS = {
    "common": set(),
    "guest": {"common"},
    "elf": {"common"},
    "profile": {"common"},
    "discover": {"guest", "common"},
    "analyzer": {"elf", "guest", "profile", "common"},
    "policy": {"profile", "common"},
    "packager": {"policy", "guest", "profile", "common"},
    "run": {"packager", "policy", "guest", "profile", "common"},
    "learn": {"policy", "profile", "common"},
    "convert": {"discover", "analyzer", "packager", "policy", "elf", "guest", "profile", "common"},
    "report": {"profile", "common"},
    "fleet": {"convert", "report", "common"},
}
# Heavy binary-analysis libraries only the analysis stages may link.
ANALYSIS_ONLY = {"LIEF::LIEF": {"elf", "analyzer"}, "PkgConfig::CAPSTONE": {"analyzer"}}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LINK = re.compile(r"target_link_libraries\(\s*decant_(\w+)\s+([^)]*)\)", re.S)


def main(root: pathlib.Path) -> int:
    problems = []
    for stage, allowed in ALLOWED_INCLUDES.items():
        for path in sorted((root / stage).rglob("*")):
            if path.suffix not in {".c", ".cpp", ".h"}:
                continue
            for inc in INCLUDE.findall(path.read_text(errors="replace")):
                if "/" not in inc:
                    continue  # same-folder include (the shim's style)
                top = inc.split("/", 1)[0]
                if top == stage or top not in ALLOWED_INCLUDES:
                    continue
                if top == "shim" and inc not in SHIM_SHARED:
                    problems.append(f"{path.relative_to(root)}: includes {inc} (only the plan contract is shared)")
                elif top not in allowed:
                    problems.append(f"{path.relative_to(root)}: includes {inc}, but {stage}/ may not depend on {top}/")
    for cmake in sorted(root.glob("*/CMakeLists.txt")):
        for target, libs in LINK.findall(cmake.read_text()):
            if target not in ALLOWED_LINKS:
                continue
            for lib in libs.split():
                m = re.fullmatch(r"decant_(\w+)", lib)
                if m and m.group(1) not in ALLOWED_LINKS[target] and m.group(1) != target:
                    problems.append(f"{cmake.relative_to(root)}: decant_{target} links {lib}, a stage above it")
                if lib in ANALYSIS_ONLY and target not in ANALYSIS_ONLY[lib]:
                    problems.append(f"{cmake.relative_to(root)}: decant_{target} links {lib}")
    for p in problems:
        print(p)
    if problems:
        print(f"stage_deps: {len(problems)} arrow(s) point the wrong way (docs/architecture.md)")
        return 1
    print("stage_deps: every arrow points down the pipeline")
    return 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
