"""The verbs that change the cluster print kubectl's one-line messages, and make the change."""

from __future__ import annotations

import base64
import pathlib

import pytest

import engine
from engine.kubectl.cli import parse
from engine.kubectl.create import container_name

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
"""


@pytest.fixture
def manifest(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST)
    return str(path)


def test_apply_creates_then_leaves_unchanged_then_configures(cluster: engine.Cluster, manifest: str) -> None:
    assert cluster.kubectl(f"apply -f {manifest}") == "deployment.apps/web created\nservice/web created\n"
    assert cluster.kubectl(f"apply -f {manifest}") == "deployment.apps/web unchanged\nservice/web unchanged\n"
    pathlib.Path(manifest).write_text(MANIFEST.replace("replicas: 2", "replicas: 4"))
    assert cluster.kubectl(f"kubectl apply -f {manifest}") == "deployment.apps/web configured\nservice/web unchanged\n"
    assert cluster.get("deploy", "web")["spec"]["replicas"] == 4


def test_apply_reads_standard_input_for_dash(cluster: engine.Cluster) -> None:
    from engine.kubectl.cli import run
    assert run(cluster, "apply -f -", stdin=MANIFEST) == "deployment.apps/web created\nservice/web created\n"
    assert run(cluster, "apply -f -") == "error: no objects passed to read from standard input\n"



def test_apply_and_create_validate_fields_strictly_unless_told(cluster: engine.Cluster, tmp_path: pathlib.Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndat: {a: '1'}\n")
    error = (f'Error from server (BadRequest): error when creating "{typo}": ConfigMap in version "v1" cannot be '
             f'handled as a ConfigMap: strict decoding error: unknown field "dat"\n')
    assert cluster.kubectl(f"apply -f {typo}") == error
    assert cluster.kubectl(f"create -f {typo}") == error
    assert cluster.kubectl(f"apply -f {typo} --validate=warn") == (
        'Warning: unknown field "dat"\nconfigmap/settings created\n')
    assert cluster.kubectl(f"apply -f {typo} --validate=false") == "configmap/settings unchanged\n"
    assert cluster.kubectl(f"apply -f {typo} --validate=maybe") == (
        'error: invalid - validate option "maybe"; must be one of: strict (or true), warn, ignore (or false)\n')

def test_create_from_a_file_reports_what_already_exists(cluster: engine.Cluster, manifest: str) -> None:
    assert cluster.kubectl(f"create -f {manifest}") == "deployment.apps/web created\nservice/web created\n"
    assert cluster.kubectl(f"create -f {manifest}") == (
        f'Error from server (AlreadyExists): error when creating "{manifest}": deployments.apps "web" already exists\n'
        f'Error from server (AlreadyExists): error when creating "{manifest}": services "web" already exists\n')


def test_a_missing_file_is_a_client_error(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("apply -f /no/such.yaml") == 'error: the path "/no/such.yaml" does not exist\n'


@pytest.mark.parametrize("image, expected", [
    pytest.param("nginx", "nginx", id="a bare image name is the container name"),
    pytest.param("registry.k8s.io/nginx:1.25", "nginx", id="the registry path and tag are dropped"),
    pytest.param("ghcr.io/acme/api_server:v2@sha256:abc", "api-server", id="digests go and underscores become dashes"),
])
def test_create_deployment_names_the_container_after_the_image(image: str, expected: str) -> None:
    assert container_name(image) == expected


def test_create_deployment_builds_the_generated_object(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("create deployment web --image=registry.k8s.io/nginx:1.25 --replicas=2 --port=80") == \
        "deployment.apps/web created\n"
    deployment = cluster.get("deploy", "web")
    assert deployment["metadata"]["labels"] == {"app": "web"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"]) == (
        "nginx", "registry.k8s.io/nginx:1.25", [{"containerPort": 80, "protocol": "TCP"}])


@pytest.mark.parametrize("command, expected", [
    pytest.param("create namespace dev", "namespace/dev created\n", id="create namespace"),
    pytest.param("create configmap cfg --from-literal=a=1 --from-literal=b=2", "configmap/cfg created\n",
                 id="create configmap from literals"),
    pytest.param("create secret generic pw --from-literal=password=s3cret", "secret/pw created\n",
                 id="create a generic secret"),
    pytest.param("create serviceaccount robot", "serviceaccount/robot created\n", id="create a service account"),
    pytest.param("create service clusterip db --tcp=5432:5432", "service/db created\n", id="create a service"),
    pytest.param("run box --image=busybox --restart=Never -- sleep 3600", "pod/box created\n",
                 id="run creates one pod"),
    pytest.param("create deployment x", 'error: required flag(s) "image" not set\n',
                 id="create deployment needs an image"),
    pytest.param("create deployment dup --image=nginx", "deployment.apps/dup created\n",
                 id="a deployment with a new name"),
])
def test_generators(cluster: engine.Cluster, command: str, expected: str) -> None:
    assert cluster.kubectl(command) == expected


def test_generated_objects_have_kubectls_shape(cluster: engine.Cluster) -> None:
    cluster.kubectl("create configmap cfg --from-literal=a=1 --from-literal=b=2")
    cluster.kubectl("create secret generic pw --from-literal=password=s3cret")
    cluster.kubectl("run box --image=busybox --restart=Never -- sleep 3600")
    assert cluster.get("cm", "cfg")["data"] == {"a": "1", "b": "2"}
    assert base64.b64decode(cluster.get("secret", "pw")["data"]["password"]) == b"s3cret"
    pod = cluster.get("pod", "box")
    assert pod["metadata"]["labels"] == {"run": "box"}
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["containers"][0]["name"] == "box"
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "3600"]


def test_scale_label_annotate_patch(cluster: engine.Cluster, manifest: str) -> None:
    cluster.kubectl(f"apply -f {manifest}")
    steps = [
        ("scale deploy web --replicas=5", "deployment.apps/web scaled\n"),
        ("scale deployment/web --replicas=-1",
         "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n"),
        ("scale deploy nope --replicas=1", "error: no objects passed to scale\n"),
        ("label deploy web tier=front", "deployment.apps/web labeled\n"),
        ("label deploy web tier=back", "error: 'tier' already has a value (front), and --overwrite is false\n"),
        ("label deploy web tier=back --overwrite", "deployment.apps/web labeled\n"),
        ("label deploy web tier=back --overwrite", "deployment.apps/web not labeled\n"),
        ("label deploy web tier-", "deployment.apps/web labeled\n"),
        ("annotate deploy web note=hello", "deployment.apps/web annotated\n"),
        ("""patch deploy web -p '{"spec":{"replicas":2}}'""", "deployment.apps/web patched\n"),
        ("""patch deploy web -p '{"spec":{"replicas":2}}'""", "deployment.apps/web patched (no change)\n"),
        ("""patch deploy/web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":3}]'""",
         "deployment.apps/web patched\n"),
        ("patch deploy web --type merge -p 'metadata: {labels: {team: a}}'", "deployment.apps/web patched\n"),
    ]
    for command, expected in steps:
        assert cluster.kubectl(command) == expected, command
    deployment = cluster.get("deploy", "web")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["labels"] == {"team": "a"}
    assert deployment["metadata"]["annotations"]["note"] == "hello"


def test_cordon_and_uncordon(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("cordon node-1") == "node/node-1 cordoned\n"
    assert cluster.kubectl("cordon node-1") == "node/node-1 already cordoned\n"
    assert "node-1          Ready,SchedulingDisabled   <none>" in cluster.kubectl("get nodes")
    assert cluster.kubectl("uncordon node-1") == "node/node-1 uncordoned\n"
    assert not cluster.get("node", "node-1", None)["spec"].get("unschedulable")


def test_delete_messages(cluster: engine.Cluster, manifest: str) -> None:
    cluster.kubectl(f"apply -f {manifest}")
    cluster.kubectl("create configmap cfg --from-literal=a=1")
    cluster.kubectl("run box --image=busybox")
    steps = [
        ("delete svc web", 'service "web" deleted\n'),
        ("delete -f " + manifest, 'deployment.apps "web" deleted\n'
                                  f'Error from server (NotFound): error when deleting "{manifest}": '
                                  'services "web" not found\n'),
        ("delete cm -l app=nothing", "No resources found\n"),
        ("delete cm cfg nope", 'configmap "cfg" deleted\nError from server (NotFound): configmaps "nope" not found\n'),
        ("delete pods", "error: resource(s) were provided, but no name was specified\n"),
        ("delete pod/box --grace-period=0 --force",
         "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. "
         'The resource may continue to run on the cluster indefinitely.\npod "box" force deleted\n'),
        ("delete deploy web --cascade=sideways",
         'error: invalid cascade value (sideways). Must be "background", "foreground", or "orphan".\n'),
    ]
    for command, expected in steps:
        assert cluster.kubectl(command) == expected, command


def test_delete_by_selector_deletes_each_match(cluster: engine.Cluster) -> None:
    for name in ("a", "b"):
        cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name, "namespace": "default", "labels": {"tier": "x"}}})
    assert cluster.kubectl("delete cm -l tier=x") == 'configmap "a" deleted\nconfigmap "b" deleted\n'


def test_delete_with_cascade_orphan_sends_the_policy(cluster: engine.Cluster) -> None:
    cluster.kubectl("create deployment web --image=nginx")
    cluster.kubectl("delete deploy web --cascade=orphan")
    assert cluster.get("deploy", "web")["metadata"]["finalizers"] == ["orphan"]


@pytest.mark.parametrize("words, verb, args, flags", [
    pytest.param(["get", "pods", "-n", "kube-system"], "get", ["pods"], {"namespace": "kube-system"},
                 id="a short flag takes the next word"),
    pytest.param(["get", "pods", "--namespace=x", "-A"], "get", ["pods"], {"namespace": "x", "all-namespaces": True},
                 id="long flags with equals and boolean flags"),
    pytest.param(["rollout", "status", "deploy/web"], "rollout status", ["deploy/web"], {},
                 id="rollout subcommands are part of the verb"),
    pytest.param(["apply", "-f", "a.yaml", "-f", "b.yaml"], "apply", [], {"filename": ["a.yaml", "b.yaml"]},
                 id="repeated -f flags accumulate"),
    pytest.param(["logs", "web", "-p"], "logs", ["web"], {"previous": True}, id="-p means previous for logs"),
    pytest.param(["run", "x", "--image=busybox", "--", "sleep", "-1"], "run", ["x", "sleep", "-1"],
                 {"image": "busybox", "--": 1},
                 id="words after a double dash are positional, and where they start is kept (cobra's ArgsLenAtDash)"),
])
def test_parse(words: list[str], verb: str, args: list[str], flags: dict) -> None:
    assert parse(words) == (verb, args, flags)


def test_create_role_and_binding_generate_rbac_objects(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("create role pod-reader --verb=get,list --resource=pods,deployments.apps") == \
        "role.rbac.authorization.k8s.io/pod-reader created\n"
    assert cluster.get("role", "pod-reader")["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}]
    assert cluster.kubectl("create rolebinding read --role=pod-reader --user=jane --serviceaccount=default:robot") \
        == "rolebinding.rbac.authorization.k8s.io/read created\n"
    binding = cluster.get("rolebinding", "read")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"},
        {"kind": "ServiceAccount", "name": "robot", "namespace": "default", "apiGroup": ""}]
    assert cluster.kubectl("auth can-i list deployments.apps --as=jane") == "yes\n"
    assert cluster.kubectl("create rolebinding bad --user=x") == \
        "error: exactly one of clusterrole or role must be specified\n"


def test_create_job_and_cronjob_take_the_command_after_a_double_dash(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("create job hello --image=busybox -- echo hi") == "job.batch/hello created\n"
    container = cluster.get("job", "hello")["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["command"]) == ("hello", ["echo", "hi"])
    assert cluster.kubectl("create cronjob tick --image=busybox --schedule='*/5 * * * *' -- date") == \
        "cronjob.batch/tick created\n"
    assert cluster.get("cj", "tick")["spec"]["schedule"] == "*/5 * * * *"
    assert cluster.kubectl("create quota q").startswith('error: "kubectl create quota" is not part of')


@pytest.mark.parametrize("command, expected", [
    pytest.param("create deployment x --image=nginx --port=eighty",
                 'error: invalid argument "eighty" for "--port" flag: strconv.ParseInt: parsing "eighty": invalid '
                 "syntax\n", id="a number flag that is not a number"),
    pytest.param("scale deploy x --replicas=many",
                 'error: invalid argument "many" for "--replicas" flag: strconv.ParseInt: parsing "many": invalid '
                 "syntax\n", id="replicas that are not a number"),
    pytest.param("get pods -n", "error: flag needs an argument: -n\n", id="a flag without its value"),
    pytest.param("get pods 'unterminated", "error: No closing quotation\n", id="a command line that does not split"),
])
def test_usage_errors(cluster: engine.Cluster, command: str, expected: str) -> None:
    assert cluster.kubectl(command) == expected


def test_a_manifest_that_does_not_parse(cluster: engine.Cluster, tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: [\n")
    assert cluster.kubectl(f"apply -f {bad}").startswith(
        f"error: error parsing {bad}: error converting YAML to JSON: ")


@pytest.mark.parametrize("command, expected", [
    pytest.param("create deployment web --image=nginx",
                 'error: failed to create deployment: deployments.apps "web" already exists\n',
                 id="create deployment wraps the server's error"),
    pytest.param("create secret generic pw --from-literal=a=b",
                 'error: failed to create secret secrets "pw" already exists\n',
                 id="create secret wraps it without a colon, as kubectl does"),
    pytest.param("create service clusterip kubernetes --tcp=80:80",
                 'error: failed to create ClusterIP service: services "kubernetes" already exists\n',
                 id="create service names the service type"),
    pytest.param("create namespace default", 'Error from server (AlreadyExists): namespaces "default" already exists\n',
                 id="create namespace prints the server's error as it is"),
    pytest.param("run box --image=busybox", 'Error from server (AlreadyExists): pods "box" already exists\n',
                 id="run prints the server's error as it is"),
])
def test_generators_report_a_failed_create_as_kubectl_does(cluster: engine.Cluster, command: str,
                                                           expected: str) -> None:
    cluster.kubectl("create deployment web --image=nginx")
    cluster.kubectl("create secret generic pw --from-literal=a=b")
    cluster.kubectl("run box --image=busybox")
    assert cluster.kubectl(command) == expected


def test_run_with_client_dry_run_prints_the_generated_pod(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("run web --image=nginx --dry-run=client -o yaml") == """\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - image: nginx
    name: web
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
"""
    assert cluster.kubectl("create deployment web --image=nginx --dry-run=client") == \
        "deployment.apps/web created (dry run)\n"
    assert cluster.kubectl("create deployment web --image=nginx --dry-run=server") == \
        "deployment.apps/web created (server dry run)\n"
    assert cluster.kubectl("get deploy,pods") == "No resources found in default namespace.\n"


def test_apply_deletes_list_items_the_manifest_dropped_as_kubectl_does(cluster: engine.Cluster) -> None:
    # CreateThreeWayMergePatch: merged lists lose the items the last manifest had and the new one dropped
    # ($patch: delete), keep items others added, follow the manifest's order; retainKeys fields drop the
    # keys the manifest no longer has (a Deployment's strategy, a volume's source).
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "finalizers": ["a.io/x", "b.io/y"]},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80},
                                                              {"name": "https", "port": 443}]}}
    cluster.apply(service)
    cluster.admin.patch("services", "web", {"metadata": {"finalizers": ["a.io/x", "b.io/y", "other.io/z"]}},
                        "default")
    service["spec"]["ports"] = [{"name": "https", "port": 443, "targetPort": 8443}]
    service["metadata"]["finalizers"] = ["b.io/y"]
    cluster.apply(service)
    live = cluster.get("service", "web")
    assert [(p["name"], p["targetPort"]) for p in live["spec"]["ports"]] == [("https", 8443)]
    assert live["metadata"]["finalizers"] == ["b.io/y", "other.io/z"]          # another writer's stays
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
                  "spec": {"selector": {"matchLabels": {"app": "app"}},
                           "template": {"metadata": {"labels": {"app": "app"}},
                                        "spec": {"containers": [{"name": "c", "image": "nginx",
                                                                 "env": [{"name": "A", "value": "1"},
                                                                         {"name": "B", "value": "2"}]}],
                                                 "volumes": [{"name": "data", "emptyDir": {}}]}}}}
    cluster.apply(deployment)
    spec = deployment["spec"]
    spec["template"]["spec"]["containers"][0]["env"] = [{"name": "B", "value": "3"}]
    spec["template"]["spec"]["volumes"] = [{"name": "data", "configMap": {"name": "settings"}}]
    spec["strategy"] = {"type": "Recreate"}
    cluster.apply(deployment)
    live = cluster.get("deployment", "app")["spec"]
    assert live["template"]["spec"]["containers"][0]["env"] == [{"name": "B", "value": "3"}]
    assert live["template"]["spec"]["volumes"] == [{"name": "data", "configMap": {"name": "settings",
                                                                                  "defaultMode": 420}}]
    assert live["strategy"] == {"type": "Recreate"}
