"""``pods/exec`` the way the real path goes: kubectl -> API server (RBAC ``create pods/exec``) -> the node's kubelet."""

from __future__ import annotations

import pytest

import engine
from engine.api import errors
from engine.apiserver.pod_connect import ExecResult

SHELL = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shell"}, "spec": {"containers": [
    {"name": "sh", "image": "busybox:1.28", "command": ["sh", "-c", "echo ready > /tmp/state; sleep 3600"]}]}}
TWO = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"}, "spec": {"containers": [
    {"name": "a", "image": "busybox:1.28", "command": ["sleep", "3600"]},
    {"name": "b", "image": "nosuch/image:1"}]}}
DONE = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "once", "image": "busybox:1.28", "command": ["true"]}]}}


@pytest.fixture(scope="module")
def c() -> engine.Cluster:
    c = engine.Cluster(nodes=1, seed=0)
    for manifest in (SHELL, TWO, DONE):
        c.apply(manifest)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pending"}, "spec": {
        "nodeSelector": {"disk": "none"}, "containers": [{"name": "p", "image": "busybox:1.28"}]}})
    c.run(20)
    return c


def test_exec_runs_the_command_in_the_container_and_prints_its_output(c):
    assert c.kubectl("exec shell -- cat /tmp/state") == "ready\n"
    assert c.kubectl("exec shell -- cat /etc/hostname") == "shell\n"
    assert c.kubectl("exec shell -c sh -- sh -c 'echo $HOSTNAME'") == "shell\n"


def test_a_failing_command_prints_its_exit_code(c):
    assert c.kubectl("exec shell -- sh -c 'echo partial; exit 3'") == \
        "partial\ncommand terminated with exit code 3\n"
    assert c.kubectl("exec shell -- ls /nothing/here").endswith("command terminated with exit code 1\n")


def test_the_client_call_returns_output_exit_code_and_the_status_kubectl_reads(c):
    result = c.admin.exec("default", "shell", ["sh", "-c", "exit 2"])
    assert isinstance(result, ExecResult) and result.exit_code == 2
    assert result.status == {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                             "message": "command terminated with non-zero exit code: error executing command "
                                        "[sh -c exit 2], exit code 2",
                             "details": {"causes": [{"reason": "ExitCode", "message": "2"}]}}
    assert c.admin.exec("default", "shell", ["true"]).status == {"metadata": {}, "status": "Success"}


def test_a_container_that_is_not_running_is_not_found_by_the_kubelet(c):
    assert c.kubectl("exec two -c b -- ls") == \
        'error: Internal error occurred: unable to upgrade connection: container not found ("b")\n'


def test_several_containers_default_to_the_first_and_say_so(c):
    assert c.kubectl("exec two -- echo hi") == 'Defaulted container "a" out of: a, b\nhi\n'
    assert c.kubectl("exec two -q -- echo hi") == "hi\n"


@pytest.mark.parametrize("command, printed", [
    ("exec shell -c nope -- ls", "Error from server (BadRequest): container nope is not valid for pod shell"),
    ("exec ghost -- ls", 'Error from server (NotFound): pods "ghost" not found'),
    ("exec pending -- ls", "Error from server (BadRequest): pod pending does not have a host assigned"),
    ("exec done -- ls", "error: cannot exec into a container in a completed pod; current phase is Succeeded"),
    ("exec shell ls", "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead"),
    ("exec shell", "error: you must specify at least one command for the container"),
    ("exec -- ls", "error: pod, type/name or --filename must be specified"),
], ids=["an unknown container", "a missing pod", "a pod not on a node", "a completed pod", "the old form",
        "no command", "no pod"])
def test_refusals_print_as_kubectl_prints_them(c, command, printed):
    assert c.kubectl(command) == printed + "\n"


def test_rbac_asks_for_create_on_pods_exec(c):
    c.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "reader", "namespace": "default"},
             "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}]})
    c.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "dev-reads", "namespace": "default"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
             "subjects": [{"kind": "User", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"}]})
    dev = c.client("dev", ())
    with pytest.raises(errors.Forbidden, match='User "dev" cannot create resource "pods/exec" in API group "" in '
                                               'the namespace "default"'):
        dev.exec("default", "shell", ["true"])
    assert c.kubectl("auth can-i create pods/exec --as dev") == "no\n"
    c.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "reader", "namespace": "default"},
             "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                       {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]})
    assert dev.exec("default", "shell", ["cat", "/tmp/state"]).stdout == "ready\n"


def test_a_node_whose_kubelet_is_down_cannot_be_reached():
    other = engine.Cluster(nodes=1, seed=1)
    other.apply(SHELL)
    other.run(20)
    other.fail_node("node-1")
    printed = other.kubectl("exec shell -- true")
    assert printed.startswith("error: Internal error occurred: error dialing backend: dial tcp ")
    assert printed.endswith(":10250: i/o timeout\n")           # the machine is off: nothing answers
