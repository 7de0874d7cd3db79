"""Per-controller credentials: a ServiceAccount in kube-system, a TokenRequest token, renewed before it expires."""

import engine
from engine.controllers.client_builder import ServiceAccountClient


def test_a_controller_writes_as_its_service_account_and_its_role_applies():
    cluster = engine.Cluster(nodes=0, seed=0)
    credentials = ServiceAccountClient(cluster.client("system:kube-controller-manager"), cluster.loop,
                                       "cronjob-controller")
    assert cluster.get("serviceaccount", "cronjob-controller", "kube-system")
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "pi", "image": "perl:5.34.0"}]}}}}
    credentials.client.create(job)
    entry = [e for e in cluster.apiserver.audit.entries if e.resource == "jobs" and e.verb == "create"][-1]
    assert entry.user == "system:serviceaccount:kube-system:cronjob-controller"
    try:
        credentials.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, "default")
    except engine.ApiError as error:
        assert error.code == 403
    else:
        raise AssertionError("the cronjob-controller role does not allow creating ConfigMaps")


def test_the_token_is_renewed_before_its_hour_is_up():
    cluster = engine.Cluster(nodes=0, seed=0)
    credentials = ServiceAccountClient(cluster.client("system:kube-controller-manager"), cluster.loop,
                                       "cronjob-controller")
    first = credentials.client.token
    cluster.run(2900)                                # 80% of an hour is 2880 s
    assert credentials.client.token != first
    cluster.run(1000)                                # the first token has expired; the new one still works
    assert credentials.client.list("jobs", "default")["items"] == []
    credentials.stop()
