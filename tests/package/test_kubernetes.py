"""dist/kubernetes.yaml (issue 15.5): kinds, probes on /healthz at the ConfigMap's listen port,
preStop, the Prometheus annotation, and a grace period of at least shutdown_timeout.
Runs under Debian's /usr/bin/python3 (python3-yaml)."""

import json
import re
import sys

import yaml


def seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", str(text))
    n, unit = int(m.group(1)), m.group(2) or "s"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


docs = list(yaml.safe_load_all(open(sys.argv[1])))
kinds = {d["kind"]: d for d in docs}
assert {"ConfigMap", "Deployment", "Service"} <= set(kinds), kinds.keys()
cfg = json.loads(kinds["ConfigMap"]["data"]["fastfork.json"])
port = int(cfg["listen"][0].rsplit(":", 1)[1])
spec = kinds["Deployment"]["spec"]["template"]
pod = spec["spec"]
c = pod["containers"][0]
assert c["ports"][0]["containerPort"] == port
for probe in ("livenessProbe", "readinessProbe"):
    assert c[probe]["httpGet"]["path"] == "/healthz", probe
    assert c[probe]["httpGet"]["port"] == port, probe
assert "preStop" in c["lifecycle"]
ann = spec["metadata"]["annotations"]
assert ann["prometheus.io/scrape"] == "true" and int(ann["prometheus.io/port"]) == port
grace = pod["terminationGracePeriodSeconds"]
prestop = sum(int(a) for a in c["lifecycle"]["preStop"]["exec"]["command"][1:] if a.isdigit())
assert grace >= seconds(cfg.get("shutdown_timeout", "30s")) + prestop, (grace, prestop)
assert any(v["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"] for v in pod["volumes"])
assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == port
print("kubernetes.yaml: ok")
