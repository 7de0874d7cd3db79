import base64
import json

import pytest

from engine.cluster import Cluster
from engine.kubelet.volumes import VolumeError, VolumeManager
from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import ContainerConfig, ContainerMetadata, PodSandboxConfig, PodSandboxMetadata
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all


@pytest.fixture
def cluster():
    return Cluster(nodes=0, seed=0, components=[])


@pytest.fixture
def admin(cluster):
    return cluster.admin


@pytest.fixture
def loop(cluster):
    return cluster.loop


@pytest.fixture
def node(loop):
    runtime = RuntimeService(loop, register_all(Registry()))
    runtime.images.pull_image("busybox")
    loop.run_for(30)
    return runtime


@pytest.fixture
def volumes(admin, loop, node):
    return VolumeManager(admin, loop, "node-1", host_fs=node.host_fs)


def pod(name, volumes, containers):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": {"app": "web"}},
            "spec": {"volumes": volumes, "containers": containers, "serviceAccountName": "default"}}


def container(name, script, mounts, **extra):
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script], "volumeMounts": mounts, **extra}


def start(node, volumes, p):
    volumes.wait_for_attach_and_mount(p)
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata(p["metadata"]["name"], "default",
                                                                       p["metadata"]["uid"])))
    ids = {}
    for c in p["spec"]["containers"]:
        config = ContainerConfig(ContainerMetadata(c["name"]), c["image"], command=c["command"],
                                 mounts=volumes.mounts_for(p, c))
        ids[c["name"]] = node.create_container(sandbox, config)
        node.start_container(ids[c["name"]])
    return ids


def cat(node, cid, path):
    result = node.exec_sync(cid, ["cat", path])
    return result.stdout if result.exit_code == 0 else result.stderr


def test_an_emptydir_is_shared_between_the_containers_of_a_pod_and_removed_with_it(loop, node, volumes):
    p = pod("two", [{"name": "shared-data", "emptyDir": {}}], [
        container("nginx", "sleep 3600", [{"name": "shared-data", "mountPath": "/usr/share/nginx/html"}]),
        container("debian", "echo Hello from the debian container > /pod-data/index.html; sleep 3600",
                  [{"name": "shared-data", "mountPath": "/pod-data"}])])
    ids = start(node, volumes, p)
    loop.run_for(1)
    assert cat(node, ids["nginx"], "/usr/share/nginx/html/index.html") == "Hello from the debian container\n"
    directory = "/var/lib/kubelet/pods/uid-two/volumes/kubernetes.io~empty-dir/shared-data"
    assert node.host_fs[directory + "/index.html"] == "Hello from the debian container\n"
    volumes.unmount(p)
    assert not any(path.startswith(directory) for path in node.host_fs)


def test_a_memory_backed_emptydir_counts_against_the_container_memory(loop, node, volumes):
    p = pod("cache", [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
            [container("c", "sleep 3600", [{"name": "cache", "mountPath": "/cache"}])])
    ids = start(node, volumes, p)
    node.exec_sync(ids["c"], ["sh", "-c", "echo 123456789 > /cache/f"])
    assert node.container_stats(ids["c"])["memory_shmem_bytes"] == 10


def test_configmap_files_follow_updates_at_the_next_sync(loop, node, volumes, admin):
    admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "game", "namespace": "default"},
                  "data": {"color": "blue", "lives": "3"}})
    p = pod("cm", [{"name": "config", "configMap": {"name": "game"}}],
            [container("c", "sleep 3600", [{"name": "config", "mountPath": "/etc/config"}])])
    ids = start(node, volumes, p)
    assert node.exec_sync(ids["c"], ["ls", "/etc/config"]).stdout == "color\nlives\n"
    assert cat(node, ids["c"], "/etc/config/color") == "blue"
    current = admin.get("configmaps", "game", "default")
    current["data"] = {"color": "green"}
    admin.update(current)
    assert cat(node, ids["c"], "/etc/config/color") == "blue"      # not before the kubelet syncs the pod
    volumes.wait_for_attach_and_mount(p)
    assert cat(node, ids["c"], "/etc/config/color") == "green"
    assert node.exec_sync(ids["c"], ["ls", "/etc/config"]).stdout == "color\n"
    result = node.exec_sync(ids["c"], ["touch", "/etc/config/new"])
    assert result.exit_code == 1 and "Read-only file system" in result.stderr


def test_secret_items_and_modes(loop, node, volumes, admin):
    admin.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "default"},
                  "data": {"username": base64.b64encode(b"admin").decode(),
                           "password": base64.b64encode(b"1f2d1e2e67df").decode()}})
    p = pod("sec", [{"name": "secret", "secret": {"secretName": "creds", "defaultMode": 0o400,
                                                  "items": [{"key": "username", "path": "my-group/my-username"}]}}],
            [container("c", "sleep 3600", [{"name": "secret", "mountPath": "/etc/foo"}])])
    ids = start(node, volumes, p)
    assert cat(node, ids["c"], "/etc/foo/my-group/my-username") == "admin"
    assert "password" not in node.exec_sync(ids["c"], ["ls", "/etc/foo"]).stdout
    path = "/var/lib/kubelet/pods/uid-sec/volumes/kubernetes.io~secret/secret/my-group/my-username"
    assert node.host_fs.modes[path] == 0o400 and node.host_fs.in_tmpfs(path)


@pytest.mark.parametrize("volume, message", [
    ({"name": "config", "configMap": {"name": "missing"}},
     'MountVolume.SetUp failed for volume "config" : configmap "missing" not found'),
    ({"name": "creds", "secret": {"secretName": "missing"}},
     'MountVolume.SetUp failed for volume "creds" : secret "missing" not found'),
    ({"name": "data", "persistentVolumeClaim": {"claimName": "claim"}},
     "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process "
     'volumes=[data]: error processing PVC default/claim: failed to fetch PVC from API server: '
     'persistentvolumeclaims "claim" not found'),
    ({"name": "logs", "hostPath": {"path": "/var/log/app", "type": "Directory"}},
     'MountVolume.SetUp failed for volume "logs" : hostPath type check failed: /var/log/app is not a directory'),
], ids=["a missing configMap fails the mount", "a missing secret fails the mount",
        "a missing claim fails the mount", "a hostPath of type Directory must exist"])
def test_volumes_that_cannot_be_set_up(volumes, volume, message):
    with pytest.raises(VolumeError) as failure:
        volumes.wait_for_attach_and_mount(pod("p", [volume], []))
    assert str(failure.value) == message and failure.value.reason == "FailedMount"


def test_an_optional_missing_configmap_mounts_an_empty_directory(node, volumes):
    p = pod("opt", [{"name": "config", "configMap": {"name": "missing", "optional": True}}],
            [container("c", "sleep 3600", [{"name": "config", "mountPath": "/etc/config"}])])
    ids = start(node, volumes, p)
    assert node.exec_sync(ids["c"], ["ls", "/etc/config"]).stdout == ""


def test_a_claim_mounts_its_bound_persistent_volume_and_waits_while_unbound(loop, node, volumes, admin):
    admin.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "task-pv-volume"},
                  "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
                           "storageClassName": "manual", "hostPath": {"path": "/mnt/data"}}})
    admin.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                  "metadata": {"name": "task-pv-claim", "namespace": "default"},
                  "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                           "resources": {"requests": {"storage": "3Gi"}}}})
    p = pod("pv", [{"name": "storage", "persistentVolumeClaim": {"claimName": "task-pv-claim"}}],
            [container("c", "sleep 3600", [{"name": "storage", "mountPath": "/usr/share/nginx/html"}])])
    with pytest.raises(VolumeError, match="error processing PVC default/task-pv-claim: PVC is not bound"):
        volumes.wait_for_attach_and_mount(p)
    claim = admin.get("persistentvolumeclaims", "task-pv-claim", "default")
    claim["spec"]["volumeName"] = "task-pv-volume"
    claim = admin.update(claim)
    claim["status"] = {"phase": "Bound"}
    admin.update_status(claim)
    node.host_fs["/mnt/data/index.html"] = "Hello from Kubernetes storage\n"
    ids = start(node, volumes, p)
    assert cat(node, ids["c"], "/usr/share/nginx/html/index.html") == "Hello from Kubernetes storage\n"
    node.exec_sync(ids["c"], ["sh", "-c", "echo more > /usr/share/nginx/html/more.html"])
    volumes.unmount(p)
    assert node.host_fs["/mnt/data/more.html"] == "more\n"      # a PV's data outlives the pod


def test_the_service_account_volume_holds_token_ca_and_namespace(loop, node, volumes, admin):
    admin.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "default"}})
    admin.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "kube-root-ca.crt", "namespace": "default"},
                  "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n"}})
    projected = {"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}
    mount = {"name": "kube-api-access-x7k2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
             "readOnly": True}
    p = pod("sa", [projected], [container("c", "sleep 3600", [mount])])
    ids = start(node, volumes, p)
    base = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert node.exec_sync(ids["c"], ["ls", base]).stdout == "ca.crt\nnamespace\ntoken\n"
    assert cat(node, ids["c"], f"{base}/namespace") == "default"
    token = cat(node, ids["c"], f"{base}/token")
    claims = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == "system:serviceaccount:default:default"
    loop.run_for(600)
    volumes.wait_for_attach_and_mount(p)
    assert cat(node, ids["c"], f"{base}/token") == token          # cached
    loop.run_for(0.8 * 3607)
    volumes.wait_for_attach_and_mount(p)
    assert cat(node, ids["c"], f"{base}/token") != token          # renewed after 80% of its lifetime


def test_a_token_for_a_missing_service_account_fails_the_mount(volumes):
    projected = {"name": "kube-api-access-abcde", "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}
    with pytest.raises(VolumeError, match='volume "kube-api-access-abcde" : failed to fetch token: .*not found'):
        volumes.wait_for_attach_and_mount(pod("sa", [projected], []))


def test_downward_api_files_and_subpaths(node, volumes):
    p = pod("down", [{"name": "podinfo", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "mem_limit", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory",
                                                   "divisor": "1Mi"}}]}},
        {"name": "work", "emptyDir": {}}],
        [container("c", "sleep 3600", [{"name": "podinfo", "mountPath": "/etc/podinfo"},
                                       {"name": "work", "mountPath": "/work", "subPath": "app"}],
                   resources={"limits": {"memory": "64Mi"}})])
    ids = start(node, volumes, p)
    assert cat(node, ids["c"], "/etc/podinfo/labels") == 'app="web"'
    assert cat(node, ids["c"], "/etc/podinfo/mem_limit") == "64"
    node.exec_sync(ids["c"], ["sh", "-c", "echo x > /work/f"])
    assert node.host_fs["/var/lib/kubelet/pods/uid-down/volumes/kubernetes.io~empty-dir/work/app/f"] == "x\n"


def test_a_downward_api_file_for_an_unset_limit_holds_the_node_allocatable(node, volumes):
    # The kubelet's MergeContainerResourceLimits, as for the container's environment: no limit is the node's
    # allocatable, not zero.
    volumes.allocatable = lambda: {"cpu": "4", "memory": "8Gi"}
    p = pod("unset", [{"name": "podinfo", "downwardAPI": {"items": [
        {"path": "cpu_limit", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu"}},
        {"path": "mem_request", "resourceFieldRef": {"containerName": "c", "resource": "requests.memory"}}]}}],
        [container("c", "sleep 3600", [{"name": "podinfo", "mountPath": "/etc/podinfo"}])])
    ids = start(node, volumes, p)
    assert cat(node, ids["c"], "/etc/podinfo/cpu_limit") == "4"
    assert cat(node, ids["c"], "/etc/podinfo/mem_request") == "0"
