"""The real kubectl against an engine cluster served on 127.0.0.1.

Each test runs the machine's kubectl with a generated kubeconfig and checks
what it prints and what the cluster then holds. The cluster is a whole one
(scheduler, controllers, kubelets), running in real time while served.
"""

from __future__ import annotations

import json
import pathlib
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from engine.apiserver.http.serve import ServeHandle
from engine.cluster import Cluster

from kubectl_tool import KUBECTL, Kubectl, kubectl_env, needs_kubectl

pytestmark = needs_kubectl

MANIFESTS = pathlib.Path(__file__).parent / "manifests"


@pytest.fixture(scope="module")
def applied(kubectl: Kubectl) -> subprocess.CompletedProcess:
    """The Kubernetes docs' example manifests, applied once with ``kubectl apply -f <dir>``."""
    return kubectl("apply", "-f", str(MANIFESTS))


def _manifest(name: str, **changes: str) -> str:
    text = (MANIFESTS / "nginx-deployment.yaml").read_text().replace("name: nginx-deployment", f"name: {name}")
    for old, new in changes.items():
        text = text.replace(old, new)
    return text


def test_version_reports_the_served_kubernetes_version(kubectl: Kubectl) -> None:
    versions = json.loads(kubectl("version", "-o", "json").stdout)
    assert versions["serverVersion"]["gitVersion"] == "v1.31.0"
    assert versions["serverVersion"]["major"] == "1"


def test_api_resources_lists_every_registered_kind_with_its_short_names(kubectl: Kubectl) -> None:
    rows = {line.split()[0]: line.split() for line in kubectl("api-resources").stdout.splitlines()[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
    assert rows["jobs"] == ["jobs", "batch/v1", "true", "Job"]
    assert "leases" in rows and "clusterroles" in rows


def test_get_nodes_shows_every_node_ready(kubectl: Kubectl, cluster: Cluster) -> None:
    lines = kubectl("get", "nodes").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert sorted(rows) == sorted(cluster.node_names)
    for name, row in rows.items():
        assert row[1] == "Ready"
        assert row[2] == ("control-plane" if name == "control-plane" else "<none>")


def test_apply_creates_the_docs_examples_and_a_second_apply_leaves_them_unchanged(
        applied: subprocess.CompletedProcess, kubectl: Kubectl, cluster: Cluster) -> None:
    assert applied.stdout.splitlines() == ["configmap/game-demo created", "job.batch/pi created",
                                           "deployment.apps/nginx-deployment created", "service/my-service created"]
    assert applied.stderr == ""
    deployment = cluster.get("deploy", "nginx-deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    assert cluster.get("svc", "my-service")["spec"]["ports"][0]["targetPort"] == 9376
    assert cluster.get("cm", "game-demo")["data"]["player_initial_lives"] == "3"
    assert cluster.get("job", "pi")["spec"]["backoffLimit"] == 4
    again = kubectl("apply", "-f", str(MANIFESTS))
    assert all(line.endswith(" unchanged") for line in again.stdout.splitlines()), again.stdout


def test_apply_of_a_changed_manifest_patches_the_live_object(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("apply", "-f", "-", stdin=_manifest("web-apply"))
    result = kubectl("apply", "-f", "-", stdin=_manifest("web-apply", **{"nginx:1.14.2": "nginx:1.16.1"}))
    assert result.stdout.strip() == "deployment.apps/web-apply configured"
    containers = cluster.get("deploy", "web-apply")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("nginx", "nginx:1.16.1")]


def test_server_side_apply_creates_then_updates(kubectl: Kubectl, cluster: Cluster) -> None:
    first = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest("web-ssa"))
    assert first.stdout.strip() == "deployment.apps/web-ssa serverside-applied"
    kubectl("apply", "--server-side", "-f", "-", stdin=_manifest("web-ssa", **{"replicas: 3": "replicas: 2"}))
    assert cluster.get("deploy", "web-ssa")["spec"]["replicas"] == 2


@pytest.mark.parametrize("output, check", [
    pytest.param(None, lambda out: out.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
                 and out.splitlines()[1].split()[0] == "nginx-deployment"
                 and out.splitlines()[1].split()[1].endswith("/3"),
                 id="the default table has the Deployment printer's columns"),
    pytest.param("wide", lambda out: out.splitlines()[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
                 and out.splitlines()[1].split()[-3:] == ["nginx", "nginx:1.14.2", "app=nginx"],
                 id="wide adds the priority-1 columns"),
    pytest.param("yaml", lambda out: yaml.safe_load(out)["spec"]["selector"] == {"matchLabels": {"app": "nginx"}},
                 id="yaml is the whole object"),
    pytest.param("json", lambda out: json.loads(out)["metadata"]["name"] == "nginx-deployment"
                 and json.loads(out)["kind"] == "Deployment", id="json is the whole object"),
    pytest.param("jsonpath={.spec.template.spec.containers[0].image}", lambda out: out == "nginx:1.14.2",
                 id="jsonpath picks one field"),
])
def test_get_prints_each_output_format(applied: subprocess.CompletedProcess, kubectl: Kubectl, output: str | None,
                                       check) -> None:
    args = ["get", "deployment", "nginx-deployment"] + (["-o", output] if output else [])
    out = kubectl(*args).stdout
    assert check(out), out


def test_get_all_namespaces_shows_the_namespace_column(kubectl: Kubectl) -> None:
    lines = kubectl("get", "leases", "-A").stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "HOLDER", "AGE"]
    assert any(line.split()[:2] == ["kube-node-lease", "node-1"] for line in lines[1:])


class _Lines:
    """The lines a long-running kubectl prints, read in a thread; ``next()`` waits for one (or fails)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self) -> str:
        try:
            return self.lines.get(timeout=30)
        except queue.Empty:
            self.process.kill()
            _, stderr = self.process.communicate(timeout=10)
            raise AssertionError(f"kubectl printed nothing more; stderr: {stderr}") from None


def _reader(process: subprocess.Popen) -> _Lines:
    return _Lines(process)


def _wait_for_watch(served: ServeHandle, cluster: Cluster, name: str) -> None:
    """Wait until the API server has sent kubectl's watch its first event for ``name``.

    ``kubectl get NAME -w`` prints the object it GETs, then opens a watch and skips the watch's first (synthetic
    ADDED) event: an update made before the watch starts would be skipped with it, against a real server too.
    """
    def delivered() -> bool:
        return any(d.resource == "configmaps" and d.name == name and d.type == "ADDED"
                   for d in cluster.apiserver.deliveries if d.user == "kubernetes-admin")
    for _ in range(600):
        if served.call(delivered):
            return
        time.sleep(0.05)
    raise AssertionError(f"kubectl never started watching {name}")


def test_get_watch_prints_an_update_made_through_the_api(served: ServeHandle, kubectl_home: pathlib.Path,
                                                          cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}, "data": {"v": "1"}})
    process = subprocess.Popen([KUBECTL, "get", "configmap", "watched", "-w", "-o", "jsonpath={.data.v}{\"\\n\"}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=kubectl_env(served.kubeconfig_path, kubectl_home))
    try:
        lines = _reader(process)
        assert lines.next() == "1"            # the object kubectl got
        _wait_for_watch(served, cluster, "watched")
        current = served.call(cluster.admin.get, "configmaps", "watched", "default")
        current["data"]["v"] = "2"
        served.call(cluster.admin.update, current)
        assert lines.next() == "2"            # the MODIFIED event
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_get_watch_in_table_form_prints_a_row_per_event(served: ServeHandle, kubectl_home: pathlib.Path,
                                                        cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched-table"}, "data": {}})
    process = subprocess.Popen([KUBECTL, "get", "configmap", "watched-table", "--watch"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=kubectl_env(served.kubeconfig_path, kubectl_home))
    try:
        lines = _reader(process)
        assert lines.next().split() == ["NAME", "DATA", "AGE"]
        assert lines.next().split()[:2] == ["watched-table", "0"]
        _wait_for_watch(served, cluster, "watched-table")
        served.call(cluster.admin.patch, "configmaps", "watched-table", {"data": {"a": "1", "b": "2"}},
                           "default")
        assert lines.next().split()[:2] == ["watched-table", "2"]
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_describe_shows_the_deployment(applied: subprocess.CompletedProcess, kubectl: Kubectl) -> None:
    out = kubectl("describe", "deployment", "nginx-deployment").stdout
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in out.splitlines()
              if ":" in line and not line.startswith(" ")}
    assert fields["Name"] == "nginx-deployment"
    assert fields["Namespace"] == "default"
    assert fields["Selector"] == "app=nginx"
    assert fields["Replicas"].startswith("3 desired")
    assert fields["StrategyType"] == "RollingUpdate"
    assert "Image:         nginx:1.14.2" in out
    events = out.split("\nEvents:\n", 1)[1].splitlines()
    assert events[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    scaled = [line.split(None, 4) for line in events[2:] if "ScalingReplicaSet" in line]
    assert scaled and scaled[0][0] == "Normal" and scaled[0][3] == "deployment-controller"
    assert scaled[0][4].startswith("Scaled up replica set nginx-deployment-") and scaled[0][4].endswith(" from 0 to 3")


def test_scale_changes_spec_replicas_through_the_scale_subresource(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("apply", "-f", "-", stdin=_manifest("web-scale"))
    result = kubectl("scale", "deployment", "web-scale", "--replicas=5")
    assert result.stdout.strip() == "deployment.apps/web-scale scaled"
    assert cluster.get("deploy", "web-scale")["spec"]["replicas"] == 5


def test_delete_with_foreground_cascade_waits_for_the_dependents(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("apply", "-f", "-", stdin=_manifest("web-doomed"))
    # kubectl waits until the garbage collector has deleted the ReplicaSet and lifted foregroundDeletion.
    result = kubectl("delete", "deployment", "web-doomed", "--cascade=foreground")
    assert result.stdout.strip() == 'deployment.apps "web-doomed" deleted'
    assert kubectl("get", "deployment", "web-doomed", check=False).returncode == 1
    owned = [rs for rs in cluster.list("replicasets")
             if any(ref["name"] == "web-doomed" for ref in rs["metadata"].get("ownerReferences") or ())]
    assert owned == []


def test_delete_with_orphan_cascade_leaves_the_dependents_without_their_owner(kubectl: Kubectl,
                                                                            cluster: Cluster) -> None:
    # Labels of its own: an orphan that another Deployment's selector matched would be adopted by it.
    kubectl("apply", "-f", "-", stdin=_manifest("web-orphaning", **{"app: nginx": "app: orphaning"}))
    kubectl("rollout", "status", "deployment/web-orphaning", "--timeout=60s")
    owned = [rs["metadata"]["name"] for rs in cluster.list("replicasets")
             if any(ref["name"] == "web-orphaning" for ref in rs["metadata"].get("ownerReferences") or ())]
    assert len(owned) == 1
    result = kubectl("delete", "deployment", "web-orphaning", "--cascade=orphan")
    assert result.stdout.strip() == 'deployment.apps "web-orphaning" deleted'
    assert kubectl("get", "deployment", "web-orphaning", check=False).returncode == 1
    orphan = cluster.get("replicaset", owned[0])                # kept, and no longer owned by anything
    assert not orphan["metadata"].get("ownerReferences")
    assert kubectl("get", "replicaset", owned[0], "-o", "jsonpath={.spec.replicas}").stdout == "3"


def test_delete_removes_an_object_and_a_later_get_is_not_found(kubectl: Kubectl) -> None:
    kubectl("create", "configmap", "short-lived", "--from-literal=a=b")
    assert kubectl("delete", "configmap", "short-lived").stdout.strip() == 'configmap "short-lived" deleted'
    missing = kubectl("get", "configmap", "short-lived", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "short-lived" not found'


def test_create_twice_is_already_exists(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "twice")
    again = kubectl("create", "namespace", "twice", check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == 'Error from server (AlreadyExists): namespaces "twice" already exists'


def test_invalid_objects_are_rejected_with_the_field_path(kubectl: Kubectl) -> None:
    bad = _manifest("Bad_Name")
    result = kubectl("apply", "-f", "-", stdin=bad, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('The Deployment "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                    'a lowercase RFC 1123 subdomain must consist of')



def test_a_misspelt_field_fails_strict_validation_and_only_warns_with_validate_warn(kubectl: Kubectl,
                                                                                     cluster: Cluster) -> None:
    typo = _manifest("web-typo", **{"image: nginx:1.14.2": "image: nginx:1.14.2\n        imagePullPolicyy: Always"})
    strict = kubectl("apply", "-f", "-", stdin=typo, check=False)
    assert strict.returncode == 1
    assert strict.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled '
        'as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"')
    warned = kubectl("apply", "--validate=warn", "-f", "-", stdin=typo)
    assert warned.stderr.strip() == 'Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
    assert warned.stdout.strip() == "deployment.apps/web-typo created"
    assert "imagePullPolicyy" not in json.dumps(cluster.get("deploy", "web-typo")["spec"])

def test_explain_prints_the_fields_of_deployment_spec(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment.spec").stdout
    assert "KIND:       Deployment" in out
    assert "VERSION:    v1" in out
    assert "FIELD: spec <DeploymentSpec>" in out
    assert "DESCRIPTION:" in out and "FIELDS:" in out
    for field in ("replicas\t<integer>", "selector\t<LabelSelector> -required-", "strategy\t<DeploymentStrategy>",
                  "template\t<PodTemplateSpec> -required-"):
        assert field in out


def test_explain_of_a_kind_prints_its_top_level_fields(kubectl: Kubectl) -> None:
    out = kubectl("explain", "pods").stdout
    assert "KIND:       Pod" in out and "VERSION:    v1" in out
    assert "Pod is a collection of containers that can run on a host." in out
    for field in ("apiVersion\t<string>", "kind\t<string>", "metadata\t<ObjectMeta>", "spec\t<PodSpec>",
                  "status\t<PodStatus>"):
        assert field in out


@pytest.fixture(scope="module")
def jane(served_tls: ServeHandle, cluster: Cluster) -> pathlib.Path:
    """A user who may read pods in ``default`` and nothing else: a Role, a RoleBinding, a kubeconfig (TLS)."""
    cluster.apply([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "pod-reader", "namespace": "default"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "read-pods", "namespace": "default"},
         "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}],
         "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}},
    ])
    return served_tls.kubeconfig_for("jane")


@pytest.mark.parametrize("verb, resource, namespace, answer", [
    pytest.param("list", "pods", "default", "yes", id="the Role lets jane list pods in default"),
    pytest.param("get", "pods", "default", "yes", id="and get them"),
    pytest.param("delete", "pods", "default", "no", id="but not delete them"),
    pytest.param("list", "pods", "kube-system", "no", id="nor list them in another namespace"),
    pytest.param("create", "deployments", "default", "no", id="nor create deployments"),
])
def test_auth_can_i_answers_for_an_rbac_limited_user(kubectl: Kubectl, jane: pathlib.Path, verb: str,
                                                     resource: str, namespace: str, answer: str) -> None:
    result = kubectl("auth", "can-i", verb, resource, "-n", namespace, kubeconfig=jane, check=False)
    assert result.stdout.strip() == answer
    assert result.returncode == (0 if answer == "yes" else 1)


def test_auth_can_i_list_shows_the_rules_that_apply(kubectl: Kubectl, jane: pathlib.Path) -> None:
    lines = kubectl("auth", "can-i", "--list", "-n", "default", kubeconfig=jane).stdout.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["pods"].split()[1:] == ["[]", "[]", "[get", "watch", "list]"]
    assert "selfsubjectaccessreviews.authorization.k8s.io" in rows      # system:basic-user, for everyone


def test_a_limited_user_is_forbidden_with_the_rbac_message(kubectl: Kubectl, jane: pathlib.Path) -> None:
    assert kubectl("get", "pods", kubeconfig=jane).returncode == 0
    result = kubectl("get", "deployments", kubeconfig=jane, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ('Error from server (Forbidden): deployments.apps is forbidden: User "jane" '
                                     'cannot list resource "deployments" in API group "apps" in the namespace '
                                     '"default"')


@pytest.mark.parametrize("verb, resource, answer", [
    pytest.param("list", "pods", "yes", id="the admin acting as jane may list pods, as jane may"),
    pytest.param("delete", "pods", "no", id="but not delete them, since jane may not"),
])
def test_the_admin_impersonates_a_user_with_as(kubectl: Kubectl, jane: pathlib.Path, verb: str, resource: str,
                                               answer: str) -> None:
    result = kubectl("auth", "can-i", verb, resource, "-n", "default", "--as=jane", check=False)
    assert result.stdout.strip() == answer
    review = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=jane", "--as-group=devs").stdout)
    assert review["status"]["userInfo"]["username"] == "jane"
    assert review["status"]["userInfo"]["groups"] == ["devs", "system:authenticated"]


def test_a_user_without_the_impersonate_verb_cannot_act_as_another(kubectl: Kubectl, jane: pathlib.Path,
                                                                  served: ServeHandle, cluster: Cluster) -> None:
    result = kubectl("get", "pods", "--as=kubernetes-admin", kubeconfig=jane, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error from server (Forbidden)")
    request = urllib.request.Request(f"{served.url}/api/v1/namespaces/default/pods", headers={
        "Authorization": f"Bearer {cluster.token_for('jane')}", "Impersonate-User": "kubernetes-admin"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["message"] == (
        'users "kubernetes-admin" is forbidden: User "jane" cannot impersonate resource "users" in API group "" '
        'at the cluster scope')


def test_a_client_certificate_names_the_user_and_groups(kubectl: Kubectl, served_tls: ServeHandle) -> None:
    config = served_tls.kubeconfig_for_certificate("ada", ("developers", "system:masters"))
    review = json.loads(kubectl("auth", "whoami", "-o", "json", kubeconfig=config).stdout)
    assert review["status"]["userInfo"]["username"] == "ada"
    assert review["status"]["userInfo"]["groups"] == ["developers", "system:masters", "system:authenticated"]
    assert kubectl("auth", "can-i", "delete", "nodes", kubeconfig=config).stdout.strip() == "yes"


def test_over_plain_http_kubectl_sends_no_credentials_and_is_served_as_the_admin(kubectl: Kubectl) -> None:
    # client-go's clientcmd only sends credentials to https servers; the HTTP front acts as the old insecure port.
    review = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert review["status"]["userInfo"]["username"] == "kubernetes-admin"


@pytest.fixture(scope="module")
def imperative(kubectl: Kubectl) -> str:
    """A Deployment the imperative commands below change, one after the other."""
    kubectl("create", "deployment", "web-cli", "--image=nginx:1.25", "--replicas=2")
    return "web-cli"


@pytest.mark.parametrize("args, printed, check", [
    pytest.param(["label", "deploy", "web-cli", "tier=web"], "deployment.apps/web-cli labeled",
                 lambda d: d["metadata"]["labels"]["tier"] == "web", id="label sets a label"),
    pytest.param(["annotate", "deploy", "web-cli", "owner=team-a"], "deployment.apps/web-cli annotated",
                 lambda d: d["metadata"]["annotations"]["owner"] == "team-a", id="annotate sets an annotation"),
    pytest.param(["patch", "deploy", "web-cli", "-p", '{"spec":{"minReadySeconds":5}}'],
                 "deployment.apps/web-cli patched", lambda d: d["spec"]["minReadySeconds"] == 5,
                 id="patch sends a strategic merge patch"),
    pytest.param(["patch", "deploy", "web-cli", "--type=json",
                  "-p", '[{"op":"replace","path":"/spec/replicas","value":1}]'], "deployment.apps/web-cli patched",
                 lambda d: d["spec"]["replicas"] == 1, id="patch --type=json sends a JSON patch"),
    pytest.param(["set", "image", "deploy/web-cli", "nginx=nginx:1.26"], "deployment.apps/web-cli image updated",
                 lambda d: d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26",
                 id="set image changes the pod template"),
    pytest.param(["rollout", "pause", "deploy/web-cli"], "deployment.apps/web-cli paused",
                 lambda d: d["spec"]["paused"] is True, id="rollout pause sets spec.paused"),
    pytest.param(["rollout", "resume", "deploy/web-cli"], "deployment.apps/web-cli resumed",
                 lambda d: not d["spec"].get("paused"), id="rollout resume clears it"),
    pytest.param(["rollout", "restart", "deploy/web-cli"], "deployment.apps/web-cli restarted",
                 lambda d: "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"],
                 id="rollout restart stamps the template"),
])
def test_imperative_commands_change_the_object(kubectl: Kubectl, cluster: Cluster, imperative: str, args: list[str],
                                               printed: str, check) -> None:
    assert kubectl(*args).stdout.strip() == printed
    assert check(cluster.get("deploy", imperative))


def test_expose_creates_a_service_selecting_the_deployment(kubectl: Kubectl, cluster: Cluster,
                                                           imperative: str) -> None:
    assert kubectl("expose", "deployment", imperative, "--port=80").stdout.strip() == "service/web-cli exposed"
    service = cluster.get("svc", imperative)
    assert service["spec"]["selector"] == {"app": "web-cli"}
    assert service["spec"]["clusterIP"].startswith("10.")


def _wait_for_phase(kubectl: Kubectl, pod: str, phase: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}").stdout == phase:
            return
        time.sleep(0.2)
    raise AssertionError(f"pod {pod} did not reach {phase}")


def test_run_creates_a_pod_that_is_scheduled_and_started(kubectl: Kubectl) -> None:
    assert kubectl("run", "lonely", "--image=busybox", "--command", "--", "sleep", "3600").stdout.strip() == \
        "pod/lonely created"
    _wait_for_phase(kubectl, "lonely", "Running")
    row = kubectl("get", "pod", "lonely", "-o", "wide").stdout.splitlines()[1].split()
    assert row[:4] == ["lonely", "1/1", "Running", "0"]
    assert row[5].startswith("10.244.") and row[6].startswith("node-")


def test_logs_come_from_the_pods_kubelet(kubectl: Kubectl) -> None:
    kubectl("run", "talker", "--image=busybox", "--command", "--", "sh", "-c", "echo hello from talker; sleep 3600")
    _wait_for_phase(kubectl, "talker", "Running")
    assert kubectl("logs", "talker").stdout == "hello from talker\n"
    assert kubectl("logs", "talker", "--tail=1", "--timestamps").stdout.endswith("Z hello from talker\n")
    previous = kubectl("logs", "talker", "--previous", check=False)
    assert previous.returncode == 1
    assert previous.stderr.strip() == ('Error from server (BadRequest): previous terminated container "talker" in '
                                       'pod "talker" not found')


def test_logs_of_a_pod_not_yet_on_a_node_are_empty(kubectl: Kubectl) -> None:
    kubectl("run", "quiet", "--image=busybox", '--overrides={"spec": {"nodeSelector": {"disk": "none"}}}')
    result = kubectl("logs", "quiet", check=False)
    assert (result.returncode, result.stdout) == (0, "")


def test_cordon_marks_the_node_unschedulable(kubectl: Kubectl, cluster: Cluster) -> None:
    assert kubectl("cordon", "node-2").stdout.strip() == "node/node-2 cordoned"
    try:
        row = next(line.split() for line in kubectl("get", "nodes").stdout.splitlines() if line.startswith("node-2"))
        assert row[1] == "Ready,SchedulingDisabled"
    finally:
        kubectl("uncordon", "node-2")
    assert not cluster.get("node", "node-2", namespace=None)["spec"].get("unschedulable")
