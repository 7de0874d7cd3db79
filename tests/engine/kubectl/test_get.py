"""``kubectl get``: whole tables and every output format, exactly as kubectl prints them."""

from __future__ import annotations

import json

import pytest
import yaml

import engine
from kubectl_fixtures import add_pod, running_status


@pytest.fixture
def shop(cluster: engine.Cluster) -> engine.Cluster:
    """Three pods in default (running, crash-looping, pending) and one in namespace shop, 5 minutes on."""
    add_pod(cluster, "web", node="node-1", status=running_status("10.244.1.2"))
    add_pod(cluster, "crash", node="node-1", status={
        "phase": "Running", "podIP": "10.244.1.3", "podIPs": [{"ip": "10.244.1.3"}],
        "containerStatuses": [{"name": "app", "ready": False, "restartCount": 4, "image": "nginx", "imageID": "",
                               "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                               "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                            "finishedAt": "2025-01-01T00:04:00Z"}}}]})
    add_pod(cluster, "pending")
    cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    cluster.run(1)
    add_pod(cluster, "api", namespace="shop")
    cluster.run(298)
    return cluster


GOLDEN = [
    pytest.param("get pods", """\
NAME      READY   STATUS             RESTARTS      AGE
crash     0/1     CrashLoopBackOff   4 (60s ago)   4m59s
pending   0/1     Pending            0             4m59s
web       1/1     Running            0             4m59s
""", id="get pods prints the five server-side columns with restarts ago"),
    pytest.param("kubectl get pods -o wide", """\
NAME      READY   STATUS             RESTARTS      AGE     IP           NODE     NOMINATED NODE   READINESS GATES
crash     0/1     CrashLoopBackOff   4 (60s ago)   4m59s   10.244.1.3   node-1   <none>           <none>
pending   0/1     Pending            0             4m59s   <none>       <none>   <none>           <none>
web       1/1     Running            0             4m59s   10.244.1.2   node-1   <none>           <none>
""", id="wide output adds IP, node, nominated node and readiness gates"),
    pytest.param("get pods -A", """\
NAMESPACE   NAME      READY   STATUS             RESTARTS      AGE
default     crash     0/1     CrashLoopBackOff   4 (60s ago)   4m59s
default     pending   0/1     Pending            0             4m59s
default     web       1/1     Running            0             4m59s
shop        api       0/1     Pending            0             4m58s
""", id="all namespaces puts a NAMESPACE column first"),
    pytest.param("get po -n shop --show-labels", """\
NAME   READY   STATUS    RESTARTS   AGE     LABELS
api    0/1     Pending   0          4m58s   app=api
""", id="show-labels adds a LABELS column and -n picks the namespace"),
    pytest.param("get pods,svc", """\
NAME          READY   STATUS             RESTARTS      AGE
pod/crash     0/1     CrashLoopBackOff   4 (60s ago)   4m59s
pod/pending   0/1     Pending            0             4m59s
pod/web       1/1     Running            0             4m59s

NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   5m
""", id="several kinds print one table each with kind-prefixed names"),
    pytest.param("get all -n shop", """\
NAME      READY   STATUS    RESTARTS   AGE
pod/api   0/1     Pending   0          4m58s
""", id="get all skips empty kinds and prefixes names"),
    pytest.param("get pods -l app=web -o name", "pod/web\n", id="a label selector with name output"),
    pytest.param("get pod web -o jsonpath={.status.podIP}", "10.244.1.2",
                 id="jsonpath prints the value without a newline"),
    pytest.param("get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}'", "crash\npending\nweb\n",
                 id="a jsonpath range over the list"),
    pytest.param("get pods -o custom-columns=NAME:.metadata.name,IP:.status.podIP,NODE:.spec.nodeName", """\
NAME      IP           NODE
crash     10.244.1.3   node-1
pending   <none>       <none>
web       10.244.1.2   node-1
""", id="custom columns print none for missing values"),
    pytest.param("get pods --field-selector=status.phase=Running -o name", "pod/crash\npod/web\n",
                 id="a field selector on the phase"),
    pytest.param("get pods --sort-by=.status.podIP -o name", "pod/pending\npod/web\npod/crash\n",
                 id="sort-by orders by the path, missing values first"),
    pytest.param("get pods web pending nope", """\
NAME      READY   STATUS    RESTARTS   AGE
web       1/1     Running   0          4m59s
pending   0/1     Pending   0          4m59s
Error from server (NotFound): pods "nope" not found
""", id="named objects print in the order asked and missing ones print an error"),
    pytest.param("get pods nope", 'Error from server (NotFound): pods "nope" not found\n',
                 id="a missing object is a NotFound error"),
    pytest.param("get svc -o wide", """\
NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   SELECTOR
kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   5m    <none>
""", id="services show cluster IP, ports and the selector when wide"),
    pytest.param("get cm -n shop", "No resources found in shop namespace.\n",
                 id="an empty namespaced list names the namespace"),
    pytest.param("get deploy -A", "No resources found\n", id="an empty list across namespaces"),
    pytest.param("get nodes", """\
NAME            STATUS   ROLES           AGE   VERSION
control-plane   Ready    control-plane   5m    v1.31.0
node-1          Ready    <none>          5m    v1.31.0
""", id="nodes show status, roles and kubelet version"),
    pytest.param("get nodes -o wide", """\
NAME            STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME
control-plane   Ready    control-plane   5m    v1.31.0   172.18.0.2    <none>        Debian GNU/Linux 12 (bookworm)   6.1.0-28-amd64   containerd://1.7.13
node-1          Ready    <none>          5m    v1.31.0   172.18.0.3    <none>        Debian GNU/Linux 12 (bookworm)   6.1.0-28-amd64   containerd://1.7.13
""", id="wide nodes add addresses and system info"),
    pytest.param("get ns", """\
NAME              STATUS   AGE
default           Active   5m
kube-node-lease   Active   5m
kube-public       Active   5m
kube-system       Active   5m
shop              Active   4m59s
""", id="namespaces show their phase"),
    pytest.param("get foo", 'error: the server doesn\'t have a resource type "foo"\n',
                 id="an unknown resource type is a client error"),
    pytest.param("frob", 'error: unknown command "frob" for "kubectl"\n', id="an unknown command"),
    pytest.param("get pods -o yamll", "error: unable to match a printer suitable for the output format \"yamll\", "
                 "allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
                 "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml\n",
                 id="an unknown output format lists the allowed ones"),
]


@pytest.mark.parametrize("command, expected", GOLDEN)
def test_get_prints_what_kubectl_prints(shop: engine.Cluster, command: str, expected: str) -> None:
    assert shop.kubectl(command) == expected


def test_yaml_of_one_object_is_sorted_with_double_quoted_strings(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "cfg", "namespace": "default"},
                          "data": {"port": "8080", "script": "echo hi\necho bye\n"}})
    text = cluster.kubectl("get cm cfg -o yaml")
    config = cluster.get("cm", "cfg")
    assert text == f"""\
apiVersion: v1
data:
  port: "8080"
  script: |
    echo hi
    echo bye
kind: ConfigMap
metadata:
  creationTimestamp: "2025-01-01T00:00:01Z"
  name: cfg
  namespace: default
  resourceVersion: "{config['metadata']['resourceVersion']}"
  uid: {config['metadata']['uid']}
"""


def test_json_of_a_list_is_a_list_wrapper_with_four_space_indent(cluster: engine.Cluster) -> None:
    text = cluster.kubectl("get ns -o json")
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n')
    document = json.loads(text)
    assert document["kind"] == "List" and document["metadata"] == {"resourceVersion": ""}
    assert [item["metadata"]["name"] for item in document["items"]] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]


def test_yaml_list_wrapper_round_trips(cluster: engine.Cluster) -> None:
    document = yaml.safe_load(cluster.kubectl("get sa -A -o yaml"))
    assert document["kind"] == "List" and len(document["items"]) == 4


def test_json_escapes_html_characters_as_go_does(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h", "namespace": "default"},
                          "data": {"page": "<b>&</b>"}})
    assert '"page": "\\u003cb\\u003e\\u0026\\u003c/b\\u003e"' in cluster.kubectl("get cm h -o json")


def test_services_print_node_ports_and_pending_load_balancers(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "default"},
                          "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                                   "ports": [{"port": 80, "targetPort": 8080}]}})
    service = cluster.get("svc", "lb")
    node_port = service["spec"]["ports"][0]["nodePort"]
    ip = service["spec"]["clusterIP"]
    lines = cluster.kubectl("get svc lb").splitlines()
    assert lines[1].split() == ["lb", "LoadBalancer", ip, "<pending>", f"80:{node_port}/TCP", "0s"]


def test_workload_tables_read_spec_and_status(cluster: engine.Cluster) -> None:
    cluster.kubectl("create deployment web --image=nginx:1.25 --replicas=3")
    deployment = cluster.get("deploy", "web")
    deployment["status"] = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2,
                            "observedGeneration": 1}
    cluster.admin.update_status(deployment)
    cluster.run(30)
    assert cluster.kubectl("get deploy -o wide") == """\
NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR
web    2/3     3            2           30s   nginx        nginx:1.25   app=web
"""


def test_events_table(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "Event",
                          "metadata": {"name": "web.1", "namespace": "default"},
                          "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                          "reason": "Scheduled", "message": "Successfully assigned default/web to node-1",
                          "type": "Normal", "source": {"component": "default-scheduler"},
                          "firstTimestamp": "2025-01-01T00:00:01Z", "lastTimestamp": "2025-01-01T00:00:01Z",
                          "count": 1})
    cluster.run(10)
    assert cluster.kubectl("get events --sort-by=.lastTimestamp") == """\
LAST SEEN   TYPE     REASON      OBJECT    MESSAGE
10s         Normal   Scheduled   pod/web   Successfully assigned default/web to node-1
"""


def test_yaml_quotes_strings_as_go_yaml_does() -> None:
    from engine.kubectl.output import to_yaml
    assert to_yaml({"a": "83", "b": "*/1 * * * *", "c": "", "d": "true", "e": "2025-01-01T00:00:00Z",
                    "f": "plain", "g": "x: y", "h": 5, "i": None}) == """\
a: "83"
b: '*/1 * * * *'
c: ""
d: "true"
e: "2025-01-01T00:00:00Z"
f: plain
g: 'x: y'
h: 5
i: null
"""


def test_managed_fields_are_hidden_unless_asked_for(cluster: engine.Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    live = cluster.get("ns", "default", None)

    def get_with_managed_fields(*args: object, **kwargs: object) -> dict:
        return dict(live, metadata=dict(live["metadata"], managedFields=[{"manager": "kubectl"}]))

    monkeypatch.setattr(cluster.admin, "get", get_with_managed_fields)
    assert "managedFields" not in cluster.kubectl("get ns default -o json")
    assert "managedFields" in cluster.kubectl("get ns default -o json --show-managed-fields")
