"""A pod's footprint (requests, non-zero requests, host ports) and shape: computed once per stored pod version
and once per shape, never mixed up between pods that differ in what the scheduler reads."""

from __future__ import annotations

from engine.scheduler.nodeinfo import footprint, pod_request, shape


def _pod(name: str, cpu: str = "100m", uid: str | None = None, generation: int | None = None,
         container: str = "app", tolerations: list | None = None, host_port: int | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": "default"}
    if uid is not None:
        metadata["uid"] = uid
    if generation is not None:
        metadata["generation"] = generation
    port = {"containerPort": 80, **({"hostPort": host_port} if host_port else {})}
    spec: dict = {"containers": [{"name": container, "image": "nginx", "ports": [port],
                                  "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {"metadata": metadata, "spec": spec}


def test_pods_never_stored_with_one_name_keep_their_own_requests() -> None:
    memo: dict = {}
    assert pod_request(_pod("web", "100m"), memo)["cpu"] == 100
    assert pod_request(_pod("web", "2"), memo)["cpu"] == 2000


def test_a_stored_pod_is_computed_again_when_its_spec_changes() -> None:
    memo: dict = {}
    first = footprint(_pod("web", "100m", uid="u1", generation=1), memo)
    assert footprint(_pod("web", "100m", uid="u1", generation=1), memo) is first
    changed = footprint(_pod("web", "500m", uid="u1", generation=2), memo)
    assert changed[0]["cpu"] == 500 and first[0]["cpu"] == 100


def test_replicas_of_one_shape_share_one_footprint() -> None:
    memo: dict = {}
    one = footprint(_pod("web-1", uid="u1", generation=1, container="a", host_port=8080), memo)
    other = footprint(_pod("web-2", uid="u2", generation=1, container="b", host_port=8080), memo)
    assert other is one
    assert one[2] == [("0.0.0.0", "TCP", 8080)]


def test_the_shape_reads_what_node_local_plugins_read_and_nothing_else() -> None:
    assert shape(_pod("a", container="x")) == shape(_pod("b", container="y", uid="u9", generation=3))
    assert shape(_pod("a")) != shape(_pod("a", cpu="200m"))
    assert shape(_pod("a")) != shape(_pod("a", host_port=80))
    toleration = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert shape(_pod("a")) != shape(_pod("a", tolerations=toleration))
    pinned = _pod("a")
    pinned["spec"]["nodeName"] = "node-1"
    assert shape(pinned) != shape(_pod("a"))
