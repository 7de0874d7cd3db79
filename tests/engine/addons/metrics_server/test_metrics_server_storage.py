"""metrics-server's storage and scraper: rates from cumulative counters, two scrapes before metrics, drop-outs."""

import pytest

from engine.addons.metrics_server.scraper import Scraper, decode, node_address
from engine.addons.metrics_server.storage import MetricsBatch, MetricsPoint, MetricsStorage
from engine.api.meta import timestamp
from engine.kubelet.server import KubeletError
from engine.sim.hostnet import HostNetwork

S = 1_000_000_000


def summary(node, at, node_cpu, node_memory, pods=(), started=0.0):
    """A Summary API answer: cumulative CPU in ns, working sets in bytes; pods are (ns, name, container, cpu, mem)."""
    stamp = timestamp(at)
    return {"node": {"nodeName": node, "startTime": timestamp(0),
                     "cpu": {"time": stamp, "usageCoreNanoSeconds": node_cpu},
                     "memory": {"time": stamp, "workingSetBytes": node_memory}},
            "pods": [{"podRef": {"namespace": ns, "name": name},
                      "containers": [{"name": container, "startTime": timestamp(started),
                                      "cpu": {"time": stamp, "usageCoreNanoSeconds": cpu},
                                      "memory": {"time": stamp, "workingSetBytes": memory}}]}
                     for ns, name, container, cpu, memory in pods]}


def batch_of(*summaries):
    batch = MetricsBatch()
    for item in summaries:
        decode(item, batch)
    return batch


def test_cpu_is_the_rate_between_two_cumulative_samples_and_memory_the_latest_working_set():
    storage = MetricsStorage()
    storage.store(batch_of(summary("n1", 15, 10 * S, 100, [("default", "web", "nginx", 2 * S, 50)])))
    storage.store(batch_of(summary("n1", 30, 10 * S + 15 * S // 2, 200, [("default", "web", "nginx", 5 * S, 70)])))
    node = storage.node_usage("n1")
    assert node.cpu_nanocores == S // 2 and node.memory_bytes == 200
    assert (node.timestamp, node.window) == (30.0, 15.0)
    web = storage.pod_usage("default", "web")["nginx"]
    assert web.cpu_nanocores == S // 5 and web.memory_bytes == 70


def test_the_first_scrape_has_no_metrics():
    storage = MetricsStorage()
    storage.store(batch_of(summary("n1", 15, 10 * S, 100, [("default", "web", "nginx", S, 50)])))
    assert storage.node_usage("n1") is None
    assert storage.pod_usage("default", "web") is None
    assert storage.node_names() == ["n1"]


def test_a_node_missing_from_a_scrape_drops_out_and_starts_over_when_it_comes_back():
    storage = MetricsStorage()
    storage.store(batch_of(summary("n1", 15, 0, 1), summary("n2", 15, 0, 1)))
    storage.store(batch_of(summary("n1", 30, S, 1), summary("n2", 30, S, 1)))
    storage.store(batch_of(summary("n1", 45, 2 * S, 1)))
    assert storage.node_usage("n2") is None and storage.node_names() == ["n1"]
    storage.store(batch_of(summary("n1", 60, 3 * S, 1), summary("n2", 60, 4 * S, 1)))
    assert storage.node_usage("n2") is None            # one point again
    assert storage.node_usage("n1").cpu_nanocores == round(S / 15)


def test_a_restarted_container_starts_over():
    storage = MetricsStorage()
    storage.store(batch_of(summary("n1", 15, 0, 1, [("default", "web", "c", 9 * S, 1)])))
    storage.store(batch_of(summary("n1", 30, S, 1, [("default", "web", "c", S, 1)], started=20.0)))
    assert storage.pod_usage("default", "web") is None


def test_a_pod_has_metrics_only_when_every_container_has_two_points():
    storage = MetricsStorage()
    storage.store(MetricsBatch(pods={("d", "p"): {"a": MetricsPoint(0, 15, 0, 1)}}))
    storage.store(MetricsBatch(pods={("d", "p"): {"a": MetricsPoint(0, 30, S, 1), "b": MetricsPoint(0, 30, S, 1)}}))
    assert storage.pod_usage("d", "p") is None


class Kubelet:
    def __init__(self, answers):
        self.answers = answers

    def get(self, path):
        assert path == "/stats/summary"
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def node(name, ip):
    return {"metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}


def test_preferred_address_types_pick_the_address():
    assert node_address(node("n1", "172.18.0.3"), ("InternalIP",)) == "172.18.0.3"
    assert node_address(node("n1", "172.18.0.3"), ("Hostname", "InternalIP")) == "n1"
    assert node_address(node("n1", "172.18.0.3"), ("ExternalIP",)) is None


@pytest.mark.parametrize("failure", ["refused", "error"])
def test_a_node_whose_kubelet_is_down_is_left_out_of_the_batch(failure):
    hostnet = HostNetwork()
    hostnet.listen("172.18.0.2", 10250, Kubelet([summary("n1", 15, 0, 1)]))
    if failure == "error":
        hostnet.listen("172.18.0.3", 10250, Kubelet([KubeletError(500, "internal error")]))
    batch = Scraper(hostnet.dial, ("InternalIP",)).scrape([node("n1", "172.18.0.2"), node("n2", "172.18.0.3")])
    assert list(batch.nodes) == ["n1"]


def test_the_rate_function_is_pluggable_and_none_means_no_metrics():
    from engine.addons.metrics_server.storage import MetricsBatch, MetricsPoint, MetricsStorage, cpu_rate

    def doubled(prev, last):
        rate = cpu_rate(prev, last)
        return None if rate is None else 2 * rate

    storage = MetricsStorage(cpu_rate=doubled)
    for at, used in ((0.0, 0), (15.0, 3_000_000_000)):
        storage.store(MetricsBatch(nodes={"node-1": MetricsPoint(0.0, at, used, 1024)}))
    assert storage.node_usage("node-1").cpu_nanocores == 400_000_000
    assert MetricsStorage(cpu_rate=lambda prev, last: None).node_usage("node-1") is None


@pytest.mark.parametrize("prev, last, rate", [
    (None, (0.0, 15.0, 10), None),
    ((0.0, 0.0, 0), (0.0, 15.0, 3_750_000_000), 250_000_000),
    ((0.0, 15.0, 9_000), (20.0, 30.0, 100), None),
    ((0.0, 15.0, 9_000), (0.0, 15.0, 9_000), None),
    ((0.0, 15.0, 9_000), (0.0, 30.0, 8_000), None),
], ids=["no earlier sample: no rate", "the difference over the window, in nanocores",
        "a restarted container (another start time): no rate", "the same sample twice: no rate",
        "a counter that went backwards: no rate"])
def test_cpu_rate(prev, last, rate):
    from engine.addons.metrics_server.storage import MetricsPoint, cpu_rate
    point = lambda values: None if values is None else MetricsPoint(*values, memory_usage=0)   # noqa: E731
    assert cpu_rate(point(prev), point(last)) == rate
