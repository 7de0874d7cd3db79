import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import (
    CONTAINER_CREATED,
    CONTAINER_EXITED,
    CONTAINER_RUNNING,
    SANDBOX_NOTREADY,
    SANDBOX_READY,
    SIGTERM,
    ContainerConfig,
    ContainerFilter,
    ContainerMetadata,
    CriError,
    PodSandboxConfig,
    PodSandboxMetadata,
    nanos,
)
from engine.runtime.programs import Program


class Greeter(Program):
    """Says hello, works for 3 seconds, says bye, exits with the code in argv[0]."""

    def start(self, ctx):
        super().start(ctx)
        ctx.stdout("hello\n")
        ctx.stderr("warming up\n")
        ctx.call_later(3, self.finish)

    def finish(self):
        self.ctx.stdout("bye\nno newline")
        self.ctx.exit(int(self.ctx.argv[0]) if self.ctx.argv else 0)


class Stubborn(Program):
    """Ignores SIGTERM, as a shell running as PID 1 does."""

    def on_signal(self, signal):
        self.ctx.stdout(f"ignoring signal {signal}\n")


class Graceful(Program):
    """Traps SIGTERM, takes two seconds to drain, exits 0."""

    def on_signal(self, signal):
        self.ctx.call_later(2, self.ctx.exit, 0)


class Plain(Program):
    """Has no handler: SIGTERM's default action kills it."""


@pytest.fixture
def node(loop, registry, pull, runtime: RuntimeService):
    for name, factory in [("greeter", Greeter), ("stubborn", Stubborn), ("graceful", Graceful), ("plain", Plain)]:
        registry.register(f"example.com/{name}:1.0", factory, size=1_000_000)
    pull(*(f"example.com/{n}:1.0" for n in ["greeter", "stubborn", "graceful", "plain"]))
    return runtime


def sandbox(runtime, name="web"):
    return runtime.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata(name, "default", f"uid-{name}")))


def container(runtime, sandbox_id, image, name="app", args=()):
    config = ContainerConfig(ContainerMetadata(name), f"example.com/{image}:1.0", args=list(args))
    return runtime.create_container(sandbox_id, config)


def test_a_container_goes_created_running_exited_with_virtual_timestamps(loop, node):
    pod = sandbox(node)
    cid = container(node, pod, "greeter", args=["0"])
    created = loop.now
    assert node.container_status(cid).state == CONTAINER_CREATED
    loop.run_for(1)
    node.start_container(cid)
    status = node.container_status(cid)
    assert status.state == CONTAINER_RUNNING
    assert status.created_at == nanos(created) and status.started_at == nanos(created + 1)
    loop.run_for(3)
    status = node.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (CONTAINER_EXITED, 0, "Completed")
    assert status.finished_at == nanos(created + 4)


@pytest.mark.parametrize(
    "code, reason", [(0, "Completed"), (1, "Error"), (42, "Error")],
    ids=["exit 0 is Completed", "exit 1 is Error", "any other code is Error too"],
)
def test_the_exit_code_gives_the_reason(loop, node, code, reason):
    cid = container(node, sandbox(node), "greeter", args=[str(code)])
    node.start_container(cid)
    loop.run_for(5)
    status = node.container_status(cid)
    assert (status.exit_code, status.reason) == (code, reason)


def test_log_lines_carry_the_cri_timestamp_stream_and_tag(loop, node):
    cid = container(node, sandbox(node), "greeter", args=["0"])
    loop.run_for(5)
    node.start_container(cid)
    loop.run_for(10)
    path = node.container_status(cid).log_path
    assert path == "/var/log/pods/default_web_uid-web/app/0.log"
    assert node.read_log(path) == [
        "2025-01-01T00:01:05.000000000Z stdout F hello",
        "2025-01-01T00:01:05.000000000Z stderr F warming up",
        "2025-01-01T00:01:08.000000000Z stdout F bye",
        "2025-01-01T00:01:08.000000000Z stdout F no newline",
    ]


@pytest.mark.parametrize(
    "image, grace, exit_code, stopped_after",
    [
        ("stubborn", 30, 137, 30),
        ("graceful", 30, 0, 2),
        ("plain", 30, 143, 0),
        ("graceful", 0, 137, 0),
    ],
    ids=[
        "a program ignoring SIGTERM is SIGKILLed when the grace period ends and exits 137",
        "a program trapping SIGTERM drains and exits 0 within the grace period",
        "a program without a handler dies of SIGTERM at once with 143",
        "a zero grace period is an immediate SIGKILL",
    ],
)
def test_stop_container_sends_sigterm_then_sigkill(loop, node, image, grace, exit_code, stopped_after):
    cid = container(node, sandbox(node), image)
    node.start_container(cid)
    loop.run_for(1)
    start = loop.now
    done = node.stop_container(cid, grace)
    loop.run_until(start + stopped_after - 0.01) if stopped_after else None
    assert done.done() == (stopped_after == 0)
    loop.run_until(start + stopped_after + 0.01)
    assert done.done()
    status = node.container_status(cid)
    assert (status.state, status.exit_code) == (CONTAINER_EXITED, exit_code)
    assert status.finished_at == nanos(start + stopped_after)


def test_stubborn_program_logs_the_sigterm_it_ignored(loop, node):
    cid = container(node, sandbox(node), "stubborn")
    node.start_container(cid)
    node.stop_container(cid, 5)
    loop.run_for(6)
    assert node.read_log(node.container_status(cid).log_path)[0].endswith(f"stdout F ignoring signal {SIGTERM}")


def test_stop_and_remove_are_idempotent(loop, node):
    pod = sandbox(node)
    cid = container(node, pod, "greeter", args=["0"])
    node.start_container(cid)
    loop.run_for(5)
    assert node.stop_container(cid, 10).done()
    node.remove_container(cid)
    node.remove_container(cid)
    with pytest.raises(CriError) as missing:
        node.container_status(cid)
    assert str(missing.value) == (
        f'rpc error: code = NotFound desc = an error occurred when try to find container "{cid}": not found'
    )
    node.stop_pod_sandbox(pod)
    node.stop_pod_sandbox(pod)
    node.remove_pod_sandbox(pod)
    node.remove_pod_sandbox(pod)
    assert node.list_pod_sandbox() == []


def test_stopping_a_sandbox_kills_its_containers_and_marks_it_not_ready(loop, node):
    pod = sandbox(node)
    cid = container(node, pod, "stubborn")
    node.start_container(cid)
    assert node.pod_sandbox_status(pod).state == SANDBOX_READY
    node.stop_pod_sandbox(pod)
    assert node.pod_sandbox_status(pod).state == SANDBOX_NOTREADY
    assert node.container_status(cid).exit_code == 137
    with pytest.raises(CriError):
        container(node, pod, "greeter", name="late")


def test_a_container_name_is_reserved_until_the_container_is_removed(loop, node):
    pod = sandbox(node)
    first = container(node, pod, "greeter")
    with pytest.raises(CriError, match="failed to reserve container name"):
        container(node, pod, "greeter")
    node.remove_container(first)
    container(node, pod, "greeter")


def test_creating_a_container_needs_its_image_on_the_node(node):
    config = ContainerConfig(ContainerMetadata("app"), "example.com/absent:1.0")
    with pytest.raises(CriError) as failure:
        node.create_container(sandbox(node), config)
    assert failure.value.code == "NotFound"


def test_list_containers_filters_by_state_and_sandbox(loop, node):
    web, db = sandbox(node, "web"), sandbox(node, "db")
    a = container(node, web, "stubborn", name="a")
    b = container(node, db, "stubborn", name="b")
    node.start_container(a)
    assert [c.id for c in node.list_containers(ContainerFilter(state=CONTAINER_RUNNING))] == [a]
    assert [c.id for c in node.list_containers(ContainerFilter(pod_sandbox_id=db))] == [b]
    assert len(node.list_containers()) == 2


def test_containers_of_a_pod_share_net_ipc_uts_but_not_pid_or_mnt(node):
    pod = sandbox(node)
    a, b = container(node, pod, "plain", name="a"), container(node, pod, "plain", name="b")
    na, nb = node.namespaces(a), node.namespaces(b)
    assert (na.net, na.ipc, na.uts) == (nb.net, nb.ipc, nb.uts)
    assert na.pid != nb.pid and na.mnt != nb.mnt
    assert node.pod_sandbox_status(pod).namespaces["net"] == na.net


def test_a_container_cannot_start_twice(node):
    cid = container(node, sandbox(node), "plain")
    node.start_container(cid)
    with pytest.raises(CriError, match="CONTAINER_RUNNING"):
        node.start_container(cid)


def test_version_and_status_describe_the_runtime(node):
    assert node.version()["runtime_name"] == "containerd"
    assert node.version()["runtime_version"] == "v1.7.24"
    assert node.status() == {"RuntimeReady": True, "NetworkReady": True}


class Hungry(Program):
    def start(self, ctx):
        super().start(ctx)
        ctx.set_memory(80 * 1024 * 1024)


def test_lowering_the_memory_limit_below_usage_is_an_oom_kill(loop, registry, pull, node):
    from engine.runtime.cri import LinuxContainerResources

    registry.register("example.com/hungry:1.0", Hungry, size=1)
    pull("example.com/hungry:1.0")
    cid = container(node, sandbox(node), "hungry")
    node.start_container(cid)
    node.update_container_resources(cid, LinuxContainerResources(memory_limit_in_bytes=100 * 1024 * 1024))
    assert node.container_status(cid).state == CONTAINER_RUNNING
    node.update_container_resources(cid, LinuxContainerResources(memory_limit_in_bytes=64 * 1024 * 1024))
    status = node.container_status(cid)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


def test_stop_container_sends_the_images_stop_signal(loop, registry, pull, node):
    class Recorder(Program):
        def on_signal(self, signal):
            self.ctx.exit(signal)

    registry.register("example.com/quits:1.0", Recorder, size=1, stop_signal=3)
    pull("example.com/quits:1.0")
    cid = container(node, sandbox(node), "quits")
    node.start_container(cid)
    node.stop_container(cid, 30)
    assert node.container_status(cid).exit_code == 3


class Shouter(Program):
    def start(self, ctx):
        super().start(ctx)
        ctx.stdout("x" * 20000 + "\n")
        ctx.exit(0)


def test_a_line_longer_than_16k_is_split_into_a_partial_and_a_full_record(loop, registry, pull, node):
    registry.register("example.com/shouter:1.0", Shouter, size=1)
    pull("example.com/shouter:1.0")
    cid = container(node, sandbox(node), "shouter")
    node.start_container(cid)
    records = [line.split(" ", 3) for line in node.read_log(node.container_status(cid).log_path)]
    assert [(tag, len(text)) for _, _, tag, text in records] == [("P", 16384), ("F", 20000 - 16384)]


class Dialler(Program):
    """Connects to the API server's address at start and keeps what answered, and the machine it sees."""

    def start(self, ctx):
        super().start(ctx)
        self.answer = ctx.dial("172.18.0.2", 6443)
        self.machine = ctx.machine


def test_a_host_network_sandbox_shares_the_nodes_namespaces_and_sees_its_machine(loop, registry, pull, runtime):
    from engine.runtime.cri import NAMESPACE_NODE, NamespaceOption
    from engine.sim.hostnet import HostLocalIPAM, HostNetwork
    from engine.sim.machine import Machine

    hostnet = HostNetwork()
    hostnet.listen("172.18.0.2", 6443, "the api server")
    runtime.machine = Machine("node", "172.18.0.3", runtime, hostnet)
    runtime.cni = HostLocalIPAM("10.244.1.0/24")
    registry.register("example.com/dialler:1.0", Dialler, size=1_000_000)
    pull("example.com/dialler:1.0")
    pod = sandbox(runtime, "pod")
    host = runtime.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("host", "default", "uid-host"),
                                                    namespace_options=NamespaceOption(network=NAMESPACE_NODE)))
    assert runtime.pod_sandbox_status(pod).ip == "10.244.1.2"
    assert runtime.pod_sandbox_status(host).ip == ""                   # no CNI ADD: the kubelet reports the node's IP
    assert runtime.pod_sandbox_status(host).namespaces["net"] == runtime.host_namespaces.net
    assert runtime.pod_sandbox_status(pod).namespaces["net"] != runtime.host_namespaces.net
    programs = {}
    for name, sandbox_id in (("pod", pod), ("host", host)):
        container_id = container(runtime, sandbox_id, "dialler")
        runtime.start_container(container_id)
        programs[name] = runtime.program(container_id)
    assert programs["pod"].answer == programs["host"].answer == "the api server"
    assert programs["pod"].machine is None and programs["host"].machine is runtime.machine
    runtime.stop_pod_sandbox(host)
    assert runtime.cni.add("next") == "10.244.1.3"                     # the host sandbox held no pod address
