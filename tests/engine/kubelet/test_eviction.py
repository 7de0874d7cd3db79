import pytest

from engine.kubelet.eviction import EvictionManager
from engine.kubelet.eviction_signals import (
    Observation,
    Threshold,
    eviction_message,
    local_storage_violation,
    observe,
    parse_thresholds,
    rank,
    thresholds_met,
)
from engine.kubelet.stats import StatsProvider
from engine.runtime.cri import ContainerConfig, ContainerMetadata, PodSandboxConfig, PodSandboxMetadata
from engine.runtime.runc import linux_resources

Mi = 1024 * 1024


def pod(name, requests=None, limits=None, priority=None, **extra):
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    spec = {"containers": [{"name": name, "image": "polinux/stress", "resources": resources}], **extra}
    if priority is not None:
        spec["priority"] = priority
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": spec}


def stats(name, working_set):
    return {"podRef": {"name": name, "uid": f"uid-{name}"}, "memory": {"workingSetBytes": working_set},
            "containers": [{"name": name, "memory": {"workingSetBytes": working_set}}]}


# -- pure parts -------------------------------------------------------------------

def test_ranking_for_memory_puts_pods_over_their_requests_first():
    pods = [pod("guaranteed", {"memory": "300Mi"}, {"memory": "300Mi"}),
            pod("burstable-under", {"memory": "400Mi"}),
            pod("burstable-over", {"memory": "100Mi"}),
            pod("best-effort")]
    usage = {"guaranteed": 250 * Mi, "burstable-under": 200 * Mi, "burstable-over": 400 * Mi, "best-effort": 100 * Mi}
    ranked = rank(pods, lambda p: stats(p["metadata"]["name"], usage[p["metadata"]["name"]]), "memory")
    # over their requests first, the larger usage above the request first; then the pods within their requests
    # (Guaranteed pods always are), again by usage above the request: not by QoS class as such
    assert [p["metadata"]["name"] for p in ranked] == ["burstable-over", "best-effort", "guaranteed", "burstable-under"]


@pytest.mark.parametrize("pods, usage, expected", [
    ([pod("high", priority=1000), pod("low", priority=0)], {"high": 300, "low": 100}, ["low", "high"]),
    ([pod("known"), pod("unknown")], {"known": 300}, ["unknown", "known"]),
    ([pod("big"), pod("small")], {"big": 300, "small": 100}, ["big", "small"]),
], ids=["among pods over their requests the lower priority goes first",
        "a pod without stats goes first",
        "at equal priority the larger usage above the request goes first"])
def test_ranking_rules(pods, usage, expected):
    def stats_of(p):
        name = p["metadata"]["name"]
        return stats(name, usage[name] * Mi) if name in usage else None
    assert [p["metadata"]["name"] for p in rank(pods, stats_of, "memory")] == expected


def test_thresholds_parse_and_percentages_are_of_the_capacity():
    thresholds = parse_thresholds({"memory.available": "100Mi", "nodefs.available": "10%"})
    observations = {"memory.available": Observation(99 * Mi, 1024 * Mi),
                    "nodefs.available": Observation(11 * Mi, 100 * Mi)}
    assert thresholds_met(thresholds, observations) == [Threshold("memory.available", "100Mi")]
    with pytest.raises(ValueError, match="grace period must be specified"):
        parse_thresholds({}, {"memory.available": "200Mi"})


def test_the_eviction_message_names_the_threshold_and_the_containers_over_their_requests():
    p = pod("hog", {"memory": "64Mi"})
    message, annotations = eviction_message("memory", p, stats("hog", 300 * Mi), Threshold("memory.available", "100Mi"),
                                            Observation(92 * Mi, 1024 * Mi))
    assert message == ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 92Mi. "
                       "Container hog was using 300Mi, request is 64Mi, has larger consumption of memory. ")
    assert annotations == {"offending_containers": "hog", "offending_containers_usage": "300Mi",
                           "starved_resource": "memory"}


# -- against a runtime ------------------------------------------------------------

@pytest.fixture
def stress_node(node, loop):
    node.images.pull_image("polinux/stress")
    loop.run_for(30)
    return node


def run(node, p, megabytes):
    meta = p["metadata"]
    sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata(meta["name"], "default", meta["uid"])))
    container = p["spec"]["containers"][0]
    config = ContainerConfig(ContainerMetadata(container["name"]), "polinux/stress",
                             args=["--vm", "1", "--vm-bytes", f"{megabytes}M", "--vm-hang", "1"],
                             resources=linux_resources(container["resources"]))
    node.start_container(node.create_container(sandbox, config))
    return sandbox


class Node:
    """What the kubelet core gives the eviction manager: its pods, a kill, a condition setter."""

    def __init__(self, loop, runtime, recorder, memory="1Gi", **options):
        self.loop, self.runtime = loop, runtime
        self.pods, self.sandboxes, self.killed, self.conditions = [], {}, [], []
        self.stats = StatsProvider(runtime, loop, "node-1", {"memory": memory, "ephemeral-storage": "20Gi"})
        self.manager = EvictionManager(loop, recorder, {"memory": memory}, self.stats, lambda: list(self.pods),
                                       self.kill, lambda kind, on: self.conditions.append((loop.now, kind, on)),
                                       **options)

    def add(self, p, megabytes):
        self.pods.append(p)
        self.sandboxes[p["metadata"]["uid"]] = run(self.runtime, p, megabytes)

    def kill(self, p, status, grace):
        self.killed.append((self.loop.now, p["metadata"]["name"], status, grace))
        self.pods.remove(p)
        self.runtime.stop_pod_sandbox(self.sandboxes[p["metadata"]["uid"]])


def test_the_summary_adds_containers_up_to_pods_and_the_node(loop, stress_node):
    node = Node(loop, stress_node, None)
    node.add(pod("a"), 100)
    node.add(pod("b"), 200)
    loop.run_for(5)
    summary = node.stats.summary()
    pods = {p["podRef"]["name"]: p for p in summary["pods"]}
    assert sorted(pods) == ["a", "b"]
    assert pods["b"]["memory"]["workingSetBytes"] == 200 * Mi
    assert summary["node"]["memory"]["workingSetBytes"] == 300 * Mi
    assert summary["node"]["memory"]["availableBytes"] == 724 * Mi
    assert pods["a"]["containers"][0]["cpu"]["usageNanoCores"] == 100_000_000
    assert observe(summary)["memory.available"] == Observation(724 * Mi, 1024 * Mi)


def test_under_memory_pressure_pods_are_evicted_one_per_pass_in_qos_order(loop, stress_node, recorder):
    node = Node(loop, stress_node, recorder, memory="900Mi")
    node.add(pod("guaranteed", {"memory": "300Mi"}, {"memory": "300Mi"}), 250)
    node.add(pod("burstable", {"memory": "100Mi"}), 250)
    node.add(pod("best-effort"), 200)
    node.add(pod("burstable-under", {"memory": "400Mi"}), 350)
    loop.run_for(5)
    node.manager.start()
    loop.run_for(60)
    assert [name for _, name, _, _ in node.killed] == ["best-effort", "burstable"]
    status, grace = node.killed[0][2], node.killed[0][3]
    assert status["phase"] == "Failed" and status["reason"] == "Evicted" and grace == 1
    assert status["message"].startswith("The node was low on resource: memory. Threshold quantity: 100Mi, available: ")
    assert "Container best-effort was using 200Mi, request is 0, has larger consumption of memory. " in status["message"]
    assert status["conditions"][0]["type"] == "DisruptionTarget"
    assert recorder.messages("Evicted")[0] == status["message"]
    assert node.killed[1][1] == "burstable" and node.killed[1][0] - node.killed[0][0] == 10
    assert node.conditions[0][1:] == ("MemoryPressure", True)


def test_memory_pressure_rejects_best_effort_pods_and_clears_after_the_transition_period(loop, stress_node, recorder):
    node = Node(loop, stress_node, recorder, hard={"memory.available": "100Mi"})
    node.add(pod("guaranteed", {"memory": "1000Mi"}, {"memory": "1000Mi"}), 950)
    loop.run_for(5)
    node.manager.synchronize()
    assert node.manager.admit(pod("new")) == (False, "Evicted", "The node had condition: [MemoryPressure]. ")
    assert node.manager.admit(pod("tolerant", tolerations=[
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"}]))[0]
    assert node.manager.admit(pod("burstable", {"memory": "10Mi"}))[0]
    node.runtime.stop_pod_sandbox(node.sandboxes["uid-guaranteed"])
    node.pods.clear()
    pressure_seen = loop.now
    node.manager.start()
    loop.run_for(290)
    assert node.manager.is_under_memory_pressure()
    loop.run_for(20)
    assert not node.manager.is_under_memory_pressure()
    assert node.conditions[-1][1:] == ("MemoryPressure", False)
    assert 300 <= node.conditions[-1][0] - pressure_seen <= 310
    assert node.manager.admit(pod("new")) == (True, "", "")


def test_a_soft_threshold_evicts_only_after_its_grace_period(loop, stress_node, recorder):
    node = Node(loop, stress_node, recorder, hard={}, soft={"memory.available": "300Mi"},
                soft_grace_period={"memory.available": 60}, max_pod_grace_period=30)
    node.add(pod("best-effort", terminationGracePeriodSeconds=10), 800)
    loop.run_for(5)
    node.manager.start()
    loop.run_for(55)
    assert node.killed == [] and node.manager.is_under_memory_pressure()
    loop.run_for(10)
    assert [name for _, name, _, _ in node.killed] == ["best-effort"]
    assert node.killed[0][3] == 10


def test_critical_pods_are_never_evicted(loop, stress_node, recorder):
    node = Node(loop, stress_node, recorder)
    node.add(pod("critical", priority=2_000_000_000), 980)
    loop.run_for(5)
    assert node.manager.synchronize() == []
    assert node.manager.admit(pod("critical-too", priority=2_000_001_000))[0]


def test_disk_pressure_ranks_by_ephemeral_storage_and_names_the_containers_writing_most():
    def disk(name, used):
        return {"podRef": {"name": name}, "ephemeral-storage": {"usedBytes": used},
                "containers": [{"name": name, "rootfs": {"usedBytes": used}, "logs": {"usedBytes": 0}}]}
    pods = [pod("quiet"), pod("writer"), pod("reserved", {"ephemeral-storage": "2Gi"})]
    usage = {"quiet": 10 * Mi, "writer": 900 * Mi, "reserved": 1024 * Mi}
    ranked = rank(pods, lambda p: disk(p["metadata"]["name"], usage[p["metadata"]["name"]]), "ephemeral-storage")
    assert [p["metadata"]["name"] for p in ranked] == ["writer", "quiet", "reserved"]
    threshold = Threshold("nodefs.available", "10%")
    message, _ = eviction_message("ephemeral-storage", pods[1], disk("writer", 900 * Mi), threshold,
                                  Observation(5 * Mi, 1000 * Mi))
    assert message == ("The node was low on resource: ephemeral-storage. Threshold quantity: 100Mi, "
                       "available: 5Mi. Container writer was using 900Mi, request is 0, has larger consumption of "
                       "ephemeral-storage. ")


def storage_stats(volume_used=0, rootfs=0):
    return {"volume": [{"name": "cache", "usedBytes": volume_used}], "ephemeral-storage": {"usedBytes": volume_used + rootfs},
            "containers": [{"name": "app", "rootfs": {"usedBytes": rootfs}, "logs": {"usedBytes": 0}}]}


def storage_pod(size_limit=None, *limits):
    containers = [{"name": name, "resources": {"limits": {"ephemeral-storage": limit}}} for name, limit in limits]
    empty_dir = {"sizeLimit": size_limit} if size_limit else {}
    return {"metadata": {"name": "p", "uid": "u"}, "spec": {"volumes": [{"name": "cache", "emptyDir": empty_dir}],
                                                          "containers": containers or [{"name": "app"}]}}


@pytest.mark.parametrize("p, usage, message", [
    (storage_pod("1Mi"), storage_stats(volume_used=2 * Mi), 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". '),
    (storage_pod("1Mi"), storage_stats(volume_used=Mi), None),
    (storage_pod(None, ("app", "1Mi"), ("side", "1Mi")), storage_stats(volume_used=3 * Mi),
     "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "),
    (storage_pod(None, ("app", "1Mi"), ("side", "4Mi")), storage_stats(rootfs=2 * Mi),
     'Container app exceeded its local ephemeral storage limit "1Mi". '),
], ids=["an emptyDir over its sizeLimit", "an emptyDir at its sizeLimit is fine",
        "a pod over the sum of its containers' ephemeral-storage limits",
        "a container over its own ephemeral-storage limit"])
def test_local_storage_violations(p, usage, message):
    assert local_storage_violation(p, usage) == message


def test_a_pod_over_its_emptydir_size_limit_is_evicted_without_node_pressure(loop, stress_node, recorder):
    node = Node(loop, stress_node, recorder)
    p = pod("writer")
    p["spec"]["volumes"] = [{"name": "cache", "emptyDir": {"sizeLimit": "1Mi"}}]
    node.add(p, 10)
    directory = "/var/lib/kubelet/pods/uid-writer/volumes/kubernetes.io~empty-dir/cache"
    stress_node.host_fs[directory + "/blob"] = "x" * (2 * Mi)
    assert node.manager.synchronize() == [p]
    assert node.killed[0][2] == {"phase": "Failed", "reason": "Evicted",
                                 "message": 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". '}
    assert node.conditions == []
