import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import ContainerConfig, ContainerMetadata, Mount, PodSandboxConfig, PodSandboxMetadata
from engine.runtime.images import Registry
from engine.runtime.mounts import MountedFS, NodeFilesystem, ReadOnlyFilesystem
from engine.runtime.programs.catalogue import register_all
from engine.runtime.runc import linux_resources

VOLUME = "/var/lib/kubelet/pods/uid/volumes/kubernetes.io~empty-dir/shared"


@pytest.fixture
def node(loop) -> RuntimeService:
    runtime = RuntimeService(loop, register_all(Registry()))
    runtime.images.pull_image("busybox")
    runtime.images.pull_image("nginx:1.14.2")
    loop.run_for(60)
    return runtime


def start(node, sandbox, name, script, mounts, resources=None, image="busybox"):
    config = ContainerConfig(ContainerMetadata(name), image, command=["sh", "-c", script] if script else [],
                             mounts=mounts, resources=linux_resources(resources))
    cid = node.create_container(sandbox, config)
    node.start_container(cid)
    return cid


def log(node, cid):
    return [line.split(" ", 3)[3] for line in node.read_log(node.container_status(cid).log_path)]


def test_an_emptydir_written_by_one_container_is_read_by_the_other(loop, node):
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    writer = start(node, sandbox, "writer", "echo hello > /pod-data/index.html; sleep 3600",
                   [Mount("/pod-data", VOLUME)])
    reader = start(node, sandbox, "reader", "sleep 1; cat /usr/share/nginx/html/index.html; sleep 3600",
                   [Mount("/usr/share/nginx/html", VOLUME)])
    loop.run_for(2)
    assert log(node, reader) == ["hello"]
    assert node.host_fs[VOLUME + "/index.html"] == "hello\n"
    assert node.exec_sync(writer, ["ls", "/pod-data"]).stdout == "index.html\n"


def test_a_file_the_node_rewrites_shows_in_the_container_at_once(loop, node):
    node.host_fs["/etc/kube/color"] = "blue\n"
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    cid = start(node, sandbox, "c", "sleep 3600", [Mount("/etc/config", "/etc/kube", readonly=True)])
    assert node.exec_sync(cid, ["cat", "/etc/config/color"]).stdout == "blue\n"
    node.host_fs["/etc/kube/color"] = "green\n"
    assert node.exec_sync(cid, ["cat", "/etc/config/color"]).stdout == "green\n"


@pytest.mark.parametrize("command, error", [
    (["touch", "/etc/config/new"], "touch: /etc/config/new: Read-only file system\n"),
    (["rm", "/etc/config/color"], "rm: /etc/config/color: Read-only file system\n"),
    (["sh", "-c", "echo red > /etc/config/color"], "sh: can't create /etc/config/color: Read-only file system\n"),
], ids=["touch under a readOnly mount fails", "rm under a readOnly mount fails",
        "a redirection under a readOnly mount fails"])
def test_a_read_only_mount_refuses_writes(loop, node, command, error):
    node.host_fs["/etc/kube/color"] = "blue\n"
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    cid = start(node, sandbox, "c", "sleep 3600", [Mount("/etc/config", "/etc/kube", readonly=True)])
    result = node.exec_sync(cid, command)
    assert (result.exit_code, result.stderr) == (1, error)
    assert node.host_fs["/etc/kube/color"] == "blue\n"


def test_a_mounted_index_html_is_what_nginx_serves(loop, node):
    node.host_fs[VOLUME + "/index.html"] = "from a volume\n"
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    cid = start(node, sandbox, "web", "", [Mount("/usr/share/nginx/html", VOLUME)], image="nginx:1.14.2")
    answer = node.program(cid).handle_http({"method": "GET", "path": "/", "port": 80, "headers": {}})
    assert answer["body"] == "from a volume\n"


def test_writes_to_a_tmpfs_are_charged_to_the_memory_cgroup_and_can_oom_kill(loop, node):
    node.host_fs.tmpfs.add(VOLUME)
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    cid = start(node, sandbox, "c", "sleep 3600", [Mount("/cache", VOLUME)], resources={"limits": {"memory": "1Mi"}})
    resident = node.container_stats(cid)["memory_working_set_bytes"]
    node.exec_sync(cid, ["sh", "-c", "echo 0123456789 > /cache/a"])
    stats = node.container_stats(cid)
    assert stats["memory_shmem_bytes"] == 11 and stats["memory_working_set_bytes"] == resident + 11
    node.exec_sync(cid, ["rm", "/cache/a"])
    assert node.container_stats(cid)["memory_shmem_bytes"] == 0
    big = MountedFS({}, node.host_fs, [Mount("/cache", VOLUME)])
    big["/cache/blob"] = "x" * (2 << 20)     # the node side writes without a charge
    assert node.container_stats(cid)["memory_shmem_bytes"] == 0
    node.exec_sync(cid, ["sh", "-c", "cat /cache/blob > /cache/copy"])
    assert node.container_status(cid).reason == "OOMKilled"


def test_the_longest_mount_point_wins_and_listing_shows_each_file_once():
    host = NodeFilesystem({"/a/x": "1", "/b/y": "2"})
    view = MountedFS({"/etc/": "", "/data/old": "hidden"}, host, [Mount("/data", "/a"), Mount("/data/sub", "/b")])
    assert view["/data/x"] == "1" and view["/data/sub/y"] == "2"
    assert "/data/old" not in view
    assert sorted(view) == ["/data/", "/data/sub/", "/data/sub/y", "/data/x", "/etc/"]
    view["/etc/hosts"] = "127.0.0.1 localhost\n"
    assert "/etc/hosts" not in host
    with pytest.raises(ReadOnlyFilesystem):
        MountedFS({}, host, [Mount("/ro", "/a", readonly=True)])["/ro/x"] = "2"
