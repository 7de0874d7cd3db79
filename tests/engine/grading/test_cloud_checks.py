"""The cloud lab's checks: a provider and a reconcile written as upstream's pass, and typical mistakes are named
(no finalizer, an error swallowed, create instead of update, the finalizer removed before the load balancer is
deleted, a target list that keeps excluded nodes, an answer that hands its work to the engine)."""

from __future__ import annotations

import pytest

from engine.api.errors import ApiError
from engine.grading import GradingFailure
from engine.grading.cloud import (EXCLUDE_LABEL, FINALIZER, CloudError, CloudNotFound, HealthCheck, Listener,
                                  cloud_cluster, load_balancer_name, load_balancer_service, set_finalizers,
                                  set_load_balancer_status)
from engine.grading.cloud_checks import (check_deletion, check_ensure, check_flaky, check_lifecycle,
                                         check_listeners_targets)


def listeners(service):
    return [Listener(port.get("protocol", "TCP"), port["port"], port["nodePort"]) for port in service["spec"]["ports"]]


def targets(nodes, honour_exclusion=True):
    ids = []
    for node in nodes:
        metadata, provider_id = node["metadata"], node["spec"].get("providerID")
        excluded = honour_exclusion and EXCLUDE_LABEL in metadata.get("labels", {})
        if metadata.get("deletionTimestamp") or excluded or not provider_id:
            continue
        ids.append(provider_id.rsplit("/", 1)[-1])
    return sorted(ids)


def ensure_load_balancer(cloud, service, nodes, look_first=True):
    name = load_balancer_name(service)
    wanted_listeners, wanted_targets = listeners(service), targets(nodes)
    if not look_first:
        lb = cloud.create_load_balancer(name, wanted_listeners, wanted_targets, HealthCheck())
        return {"ingress": [{"ip": lb.address, "ipMode": "VIP"}]}
    try:
        [lb] = cloud.describe_load_balancers([name])
    except CloudNotFound:
        lb = cloud.create_load_balancer(name, wanted_listeners, wanted_targets, HealthCheck())
    else:
        if lb.listeners != wanted_listeners or lb.targets != wanted_targets:
            cloud.modify_load_balancer(name, listeners=wanted_listeners, targets=wanted_targets)
    return {"ingress": [{"ip": lb.address, "ipMode": "VIP"}]}


def make_reconcile(*, finalizer=True, retry=True, finalizer_first=False):
    def reconcile(controller, service):
        metadata = service["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        cloud, client, event = controller.provider.cloud, controller.client, controller.recorder.event
        try:
            if metadata.get("deletionTimestamp") or service["spec"].get("type") != "LoadBalancer":
                if FINALIZER not in finalizers:
                    return
                if finalizer_first:
                    set_finalizers(client, service, [f for f in finalizers if f != FINALIZER])
                cloud.delete_load_balancer(load_balancer_name(service))
                if not finalizer_first:
                    set_finalizers(client, service, [f for f in finalizers if f != FINALIZER])
                if not metadata.get("deletionTimestamp"):
                    set_load_balancer_status(client, service, {})
                return
            if finalizer and FINALIZER not in finalizers:
                set_finalizers(client, service, finalizers + [FINALIZER])
            status = ensure_load_balancer(cloud, service, controller.nodes.lister.list())
            if (service.get("status") or {}).get("loadBalancer") != status:
                set_load_balancer_status(client, service, status)
        except (CloudError, ApiError) as error:
            event(service, "Warning", "SyncLoadBalancerFailed", f"Error syncing load balancer: {error}")
            if retry:
                raise
    return reconcile


def test_the_upstream_shaped_answers_pass_every_check():
    check_listeners_targets(listeners, targets, seed=60)
    check_ensure(ensure_load_balancer, seed=61)
    reconcile = make_reconcile()
    check_lifecycle(reconcile, seed=62)
    check_deletion(reconcile, seed=63)
    check_flaky(reconcile, seed=64)


@pytest.mark.parametrize("check, answer, words", [
    (lambda answer: check_listeners_targets(listeners, answer, seed=60),
     lambda nodes: targets(nodes, honour_exclusion=False), "exclude-from-external-load-balancers"),
    (lambda answer: check_ensure(answer, seed=61),
     lambda cloud, service, nodes: ensure_load_balancer(cloud, service, nodes, look_first=False),
     "look before you create"),
    (lambda answer: check_deletion(answer, seed=63), make_reconcile(finalizer=False), FINALIZER),
    (lambda answer: check_flaky(answer, seed=64), make_reconcile(retry=False), "must raise"),
    (lambda answer: check_flaky(answer, seed=64), make_reconcile(finalizer_first=True), "no load balancer is left"),
], ids=["targets that keep an excluded node", "a create on every call instead of an update",
        "no finalizer: the load balancer outlives its Service", "an error swallowed is never retried",
        "the finalizer removed before the load balancer is deleted leaks it when the delete fails"])
def test_a_typical_mistake_is_named(check, answer, words):
    with pytest.raises(GradingFailure) as caught:
        check(answer)
    assert words in str(caught.value)


def test_an_answer_that_hands_the_sync_to_the_engine_gets_no_marks():
    def reconcile(controller, service):
        controller._sync_load_balancer(f"default/{service['metadata']['name']}", service)
    with pytest.raises(GradingFailure) as caught:
        check_deletion(reconcile, seed=63)
    assert "engine's own implementation" in str(caught.value)


def test_the_seam_runs_the_learners_reconcile_instead_of_the_controllers_sync():
    calls = []
    cluster = cloud_cluster(lambda controller, service: calls.append(service["metadata"]["name"]))
    cluster.apply(load_balancer_service("web"))
    cluster.run(3)
    assert calls == ["web"] and cluster.cloud.load_balancers() == []
    assert not (cluster.get("svc", "web").get("status") or {}).get("loadBalancer")
