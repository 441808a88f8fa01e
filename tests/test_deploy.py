"""deploy/ stays in step with ops/stack.py: the compose file starts the services a two-of-each
Stack starts (tests/e2e/test_scale_out.py runs that one here), with the same commands, the same
routing of gateways to Rasa instances and of Rasa instances to action servers, the endpoints.yml
ops/stack.py would write, a health check on each; the Kubernetes manifests probe every container
and name Rasa's pods as the gateways route to them; no secret is written in any of these files.
(Docker is not usable on this machine: the files are checked here as what they say, and
`kubectl kustomize` renders the manifests when kubectl is installed.)"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from backend_bridge.domain.retention import RetentionPolicy
from ops.stack import ROOT, SECRET_NAMES, Stack, rasa_endpoints

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
K8S = [
    doc
    for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
    if path.name != "kustomization.yaml"
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
]
# what must never be written into these files: tokens, passwords, URLs that carry passwords
SECRETS = {*SECRET_NAMES, "POSTGRES_PASSWORD", "WUYE_REDIS_PASSWORD", "WUYE_DATABASE_URL", "WUYE_REDIS_URL"}
TWO_OF_EACH = Stack(rasa_instances=2, actions_instances=2, gateway_instances=2)


def kind_of(name: str) -> str:
    """ "gateway-2" and "gateway" (the Stack's first instance) → "gateway"."""
    return re.sub(r"-\d+$", "", name)


def of_kind(kind: str) -> list[str]:
    return sorted(name for name in SERVICES if kind_of(name) == kind)


def argv_tail(argv: list[str]) -> list[str]:
    """A command without its interpreter ("python" in the images, a venv's path in the Stack)."""
    return argv[1:]


# -- compose ---------------------------------------------------------------------------------------


def test_compose_starts_what_a_two_of_each_stack_starts_plus_the_shared_state():
    ours = sorted(kind_of(name) for name in TWO_OF_EACH.process_names())
    theirs = sorted(kind_of(name) for name in SERVICES if name not in ("postgres", "redis"))
    assert theirs == ours


def test_every_compose_service_has_a_health_check():
    missing = [name for name, service in SERVICES.items() if not service.get("healthcheck", {}).get("test")]
    assert missing == []


def test_compose_runs_the_commands_the_stack_runs():
    stack = Stack()
    commands = {
        "gateway": stack.gateway_command(),
        "dispatcher": stack.dispatcher_command(),
        "actions": stack.actions_command(5055),
    }
    for kind, argv in commands.items():
        for name in of_kind(kind):
            assert argv_tail(SERVICES[name]["command"]) == argv_tail(argv), name
    image = dockerfile_cmd(DEPLOY / "Dockerfile.rasa")
    ours = stack.rasa_command(Path("endpoints.yml"), 5005)
    assert image[1:4] == ours[1:4] == ["-m", "ops.rasa_run", "run"]
    assert options(image) == options(ours)
    assert dict(pairs(image))["--endpoints"] == "deploy/rasa-endpoints.yml"
    assert dict(pairs(image))["--port"] == dict(pairs(ours))["--port"] == "5005"


def copied(dockerfile: Path) -> set[str]:
    """What a Dockerfile copies from the repository, by top-level name."""
    text = dockerfile.read_text(encoding="utf-8")
    return {src.split("/")[0] for line in re.findall(r"^COPY (.+)$", text, re.MULTILINE) for src in line.split()[:-1]}


def test_the_images_carry_every_package_their_processes_import():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages - copied(DEPLOY / "Dockerfile.app") == set()  # gateway, actions (+ plugins), dispatcher
    assert {"bot", "common", "ops", "config.yml", "domain.yml", "credentials.yml"} <= copied(DEPLOY / "Dockerfile.rasa")


def dockerfile_cmd(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    return json.loads(cmd)


def options(argv: list[str]) -> set[str]:
    return {a for a in argv if a.startswith("--")}


def pairs(argv: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.pairwise(argv) if a.startswith("--") and not b.startswith("--")]


def env_of(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[name].get("environment") or {}).items()}


def test_every_gateway_routes_over_every_rasa_instance_and_each_rasa_calls_its_own_action_server():
    rasa = of_kind("rasa")
    for gateway in of_kind("gateway"):
        assert env_of(gateway)["WUYE_RASA_URLS"].split(",") == [f"http://{r}:5005" for r in rasa]
        assert env_of(gateway)["WUYE_ACTIONS_URL"] == "http://127.0.0.1:5055"  # the action server beside it
    for n, (r, actions) in enumerate(zip(rasa, of_kind("actions"), strict=True), start=1):
        host = urlparse(env_of(r)["WUYE_ACTIONS_URL"]).hostname
        assert SERVICES[actions]["network_mode"] == f"service:{host}" == f"service:gateway-{n}"
        assert env_of(actions)["WUYE_BACKEND_URL"] == "http://127.0.0.1:8081"  # the bot API on loopback
    # as ops/stack.py pairs them: Rasa n → action server n → gateway n's bot API
    stack = Stack.isolated(Path("/nonexistent"), rasa_instances=2, actions_instances=2, gateway_instances=2)
    for n in range(2):
        actions_env = stack._environment(gateway=n, actions=n)
        assert actions_env["WUYE_BACKEND_URL"] == f"http://127.0.0.1:{stack.ports('internal')[n]}"
        assert actions_env["WUYE_ACTIONS_URL"] == f"http://127.0.0.1:{stack.ports('actions')[n]}"
        assert stack._environment(gateway=n)["WUYE_RASA_URLS"].split(",") == stack.rasa_urls


def test_only_the_first_gateway_loads_the_demo_as_in_the_stack():
    loads = [g for g in of_kind("gateway") if env_of(g).get("WUYE_DEMO_DATA")]
    assert loads == ["gateway-1"]


def test_the_containers_endpoints_are_what_the_stack_writes_for_redis():
    env = {
        "WUYE_ACTIONS_URL": "http://gateway-1:5055",
        "WUYE_REDIS_HOST": "redis",
        "WUYE_REDIS_PORT": "6379",
        "WUYE_REDIS_DB": "0",
        "WUYE_REDIS_PASSWORD": "s3cret",
    }
    text = (DEPLOY / "rasa-endpoints.yml").read_text(encoding="utf-8")
    unset = set(re.findall(r"\$\{(\w+)\}", text)) - set(env)
    assert unset == set()
    filled = yaml.safe_load(re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], text))
    expected = rasa_endpoints(
        env["WUYE_ACTIONS_URL"], "redis://:s3cret@redis:6379/0", None, None, RetentionPolicy().messages_days
    )
    assert normalised(filled) == normalised(expected)
    for r in of_kind("rasa"):  # and each Rasa container has what the file asks for
        given = set(env_of(r)) | {"WUYE_REDIS_PASSWORD"}  # (from secrets.env)
        assert {"WUYE_ACTIONS_URL", "WUYE_REDIS_HOST", "WUYE_REDIS_PORT", "WUYE_REDIS_DB"} <= given


def normalised(doc):
    """Rasa reads a filled-in ${…} as text: compare values as text."""
    if isinstance(doc, dict):
        return {k: normalised(v) for k, v in doc.items()}
    return str(doc)


def test_no_secret_is_written_in_the_compose_file():
    for name, service in SERVICES.items():
        assert not SECRETS & set(env_of(name)), name
        assert service.get("env_file") in (None, "secrets.env"), name
    assert "deploy/secrets.env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    example = dict(
        line.split("=", 1) for line in (DEPLOY / "secrets.env.example").read_text().splitlines() if "=" in line
    )
    assert not any(example[k] for k in {*SECRET_NAMES, "POSTGRES_PASSWORD", "WUYE_REDIS_PASSWORD"})


# -- Kubernetes ------------------------------------------------------------------------------------


def workloads() -> list[dict]:
    return [d for d in K8S if d["kind"] in ("Deployment", "StatefulSet")]


def containers() -> list[tuple[str, dict]]:
    return [(w["metadata"]["name"], c) for w in workloads() for c in w["spec"]["template"]["spec"]["containers"]]


def test_the_manifests_run_each_service_with_probes():
    names = {w["metadata"]["name"]: w for w in workloads()}
    assert set(names) == {"rasa", "gateway", "dispatcher"}
    assert names["rasa"]["kind"] == "StatefulSet"  # stable pod names: the gateways route to them
    assert names["rasa"]["spec"]["replicas"] >= 2 and names["gateway"]["spec"]["replicas"] >= 2
    for workload, container in containers():
        assert container.get("livenessProbe"), (workload, container["name"])
        if container.get("ports"):  # what serves traffic says when it can
            assert container.get("readinessProbe"), (workload, container["name"])
    gateway = next(c for w, c in containers() if c["name"] == "gateway")
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/livez"  # never restarted because Rasa is away
    commands = {c["name"]: c.get("command") for _, c in containers()}
    assert commands["gateway"] == SERVICES["gateway-1"]["command"]
    assert commands["actions"] == SERVICES["actions-1"]["command"]
    assert commands["dispatcher"] == SERVICES["dispatcher"]["command"]


def test_the_gateways_route_to_every_rasa_pod_by_its_stable_name():
    config = next(d for d in K8S if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "wuye-config")
    rasa = next(w for w in workloads() if w["metadata"]["name"] == "rasa")
    service = rasa["spec"]["serviceName"]
    replicas = rasa["spec"]["replicas"]
    assert config["data"]["WUYE_RASA_URLS"].split(",") == [f"http://rasa-{n}.{service}:5005" for n in range(replicas)]
    headless = next(d for d in K8S if d["kind"] == "Service" and d["metadata"]["name"] == service)
    assert headless["spec"]["clusterIP"] == "None"


def test_secrets_are_only_referenced_in_the_manifests():
    assert not [d for d in K8S if d["kind"] == "Secret"]
    assert not SECRETS & set().union(*(d.get("data", {}) for d in K8S if d["kind"] == "ConfigMap"))
    for workload, container in containers():
        for entry in container.get("env", []):
            if entry["name"] in SECRETS:
                assert "secretKeyRef" in entry.get("valueFrom", {}), (workload, entry["name"])


def test_kubectl_renders_the_manifests():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the manifests were checked as YAML only")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    docs = list(yaml.safe_load_all(rendered))
    assert {d["kind"] for d in docs} >= {"ConfigMap", "Service", "StatefulSet", "Deployment", "NetworkPolicy"}
    assert all(d["metadata"].get("namespace") == "wuye" for d in docs)


# -- the stack's layout (started for real by tests/e2e/test_scale_out.py) --------------------------


def test_one_of_each_is_the_stack_as_it_was(tmp_path):
    stack = Stack.isolated(tmp_path)
    assert stack.process_names() == ["actions", "rasa", "gateway", "dispatcher"]
    env = stack._environment()
    assert "WUYE_RASA_URLS" not in env and env["WUYE_RASA_URL"] == f"http://127.0.0.1:{stack.rasa_port}"
    assert stack.urls == [stack.url]


def test_two_of_each_get_ports_of_their_own(tmp_path):
    stack = Stack.isolated(tmp_path, rasa_instances=2, actions_instances=2, gateway_instances=2)
    ports = [p for kind in ("rasa", "actions", "gateway", "internal") for p in stack.ports(kind)]
    assert len(ports) == len(set(ports)) == 8
    assert stack.ports("rasa") == stack.ports("rasa")  # picked once
    assert stack.process_names() == ["actions", "actions-2", "rasa", "rasa-2", "gateway", "gateway-2", "dispatcher"]


def test_several_rasa_instances_need_redis(tmp_path):
    with pytest.raises(SystemExit, match="WUYE_REDIS_URL"):
        Stack.isolated(tmp_path, rasa_instances=2).start()
    assert not (tmp_path / "log").exists()  # refused before anything started
