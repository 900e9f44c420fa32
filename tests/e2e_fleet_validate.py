"""Validates Kubernetes YAML against the API's own models, for e2e.fleet:
Debian's python3-kubernetes carries the OpenAPI schema as Python classes
(openapi_types and attribute_map per kind), so every key of every document
is checked to be a field of its type, every value to have the field's type,
and the document is then built with the client's deserializer, which
refuses missing required fields. podman kube play does not accept Jobs, so
this is the check that a cluster would take them.
usage: e2e_fleet_validate.py FILE.yaml..."""
import sys

import yaml
from kubernetes import client
from kubernetes.client import ApiClient

KINDS = {("v1", "ConfigMap"): "V1ConfigMap", ("batch/v1", "Job"): "V1Job"}
SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def check_value(value, typ, path, errors):
    if typ.startswith("list["):
        if not isinstance(value, list):
            return errors.append(f"{path}: want a list ({typ})")
        for i, v in enumerate(value):
            check_value(v, typ[5:-1], f"{path}[{i}]", errors)
    elif typ.startswith("dict("):
        if not isinstance(value, dict):
            return errors.append(f"{path}: want a map ({typ})")
        inner = typ[typ.index(",") + 1:-1].strip()
        for k, v in value.items():
            check_value(v, inner, f"{path}.{k}", errors)
    elif typ in SCALARS:
        ok = isinstance(value, SCALARS[typ]) and not (typ != "bool" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: want {typ}, got {type(value).__name__} {value!r}")
    elif typ in ("object", "datetime", "date"):
        pass
    else:
        check_model(value, typ, path, errors)


def check_model(data, klass, path, errors):
    if not isinstance(data, dict):
        return errors.append(f"{path}: want a {klass} map")
    cls = getattr(client.models, klass)
    fields = {v: k for k, v in cls.attribute_map.items()}
    for key, value in data.items():
        if key not in fields:
            errors.append(f"{path}.{key}: not a field of {klass}")
        else:
            check_value(value, cls.openapi_types[fields[key]], f"{path}.{key}", errors)


def main():
    errors, count = [], 0
    for path in sys.argv[1:]:
        with open(path) as f:
            for n, doc in enumerate(d for d in yaml.safe_load_all(f) if d):
                where = f"{path}#{n}"
                klass = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
                if not klass:
                    errors.append(f"{where}: kind {doc.get('apiVersion')}/{doc.get('kind')} not checked here")
                    continue
                check_model(doc, klass, where, errors)
                try:  # the client's model constructors refuse a missing required field
                    ApiClient()._ApiClient__deserialize(doc, klass)
                except (ValueError, TypeError) as e:
                    errors.append(f"{where}: {e}")
                count += 1
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"{count} documents valid")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
