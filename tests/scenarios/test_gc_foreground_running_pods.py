"""Foreground deletion of a Deployment whose pods have just been created: the owner waits for the whole chain.

The garbage collector deletes the ReplicaSet in the foreground and keeps its ownerReference
blocking (upstream unblocks only when a dependent is itself deleting dependents, to break cycles),
so the Deployment stays, with deletionTimestamp and the foregroundDeletion finalizer, until the
ReplicaSet is gone, which waits for its pods' graceful termination
(``kubectl delete --cascade=foreground`` right after a create saw the Deployment go first).
"""

import pytest

import engine

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.14.2"}]
"""


def test_the_deployment_outlives_its_replicaset_and_pods_in_a_foreground_delete() -> None:
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(APP)
    c.run(1)
    assert len(c.list("pods", selector="app=web")) == 2
    c.delete("deployment", "web", propagation_policy="Foreground")
    for _ in range(300):
        c.run(0.1)
        replicasets = c.list("replicasets", selector="app=web")
        deployments = [d for d in c.list("deployments") if d["metadata"]["name"] == "web"]
        if replicasets:
            assert deployments, "the Deployment went before its ReplicaSet"
            assert deployments[0]["metadata"]["finalizers"] == ["foregroundDeletion"]
            assert replicasets[0]["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is True
        if not deployments:
            break
    assert c.list("pods", selector="app=web") == [] and c.list("replicasets", selector="app=web") == []
    with pytest.raises(engine.ApiError):
        c.get("deployment", "web")
