"""The own-controller lab's checks: a controller written like sample-controller passes, typical mistakes are
named (an edge-triggered handler, no lister lookup, no ownerReferences, status without its subresource, a stop
that does not stop, owned objects not watched), and ``with_desired`` writes only what differs."""

from __future__ import annotations

import copy

import pytest

from engine.api import thaw
from engine.client import WorkQueue, run_workers
from engine.grading import GradingFailure
from engine.grading.own_controller import _CRD, url_of, with_desired
from engine.grading.own_controller_checks import (
    check_converges, check_crd, check_desired, check_idempotent, check_level_triggered,
)


def owner_reference(website):
    meta = website["metadata"]
    return {"apiVersion": "course.example.com/v1", "kind": "Website", "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def desired_deployment(website, owned=True):
    name, spec = website["metadata"]["name"], website["spec"]
    meta = {"name": name, "namespace": website["metadata"]["namespace"], "labels": {"app": name}}
    if owned:
        meta["ownerReferences"] = [owner_reference(website)]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": spec["replicas"], "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "web", "image": spec["image"], "ports": [{"containerPort": spec["port"]}]}]}}}}


def desired_service(website):
    name, port = website["metadata"]["name"], website["spec"]["port"]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": website["metadata"]["namespace"], "labels": {"app": name},
                         "ownerReferences": [owner_reference(website)]},
            "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]}}


class WebsiteController:
    on_update = True
    watch_owned = True
    look_in_lister = True
    status_subresource = True

    def __init__(self, context):
        self.client, self.informers = context.client, context.informers
        self.queue = WorkQueue(context.loop, name="website")
        self.websites = self.informers.informer("websites")
        self.deployments = self.informers.informer("deployments")
        self.services = self.informers.informer("services")
        handlers = {"on_add": self.queue.add_key, "on_delete": self.queue.add_key}
        if self.on_update:
            handlers["on_update"] = lambda old, new: self.queue.add_key(new)
        self.websites.add_event_handler(**handlers)
        if self.watch_owned:
            for owned in (self.deployments, self.services):
                owned.add_event_handler(on_update=lambda old, new: self.enqueue_owner(new),
                                        on_delete=self.enqueue_owner)

    def enqueue_owner(self, obj):
        obj = getattr(obj, "obj", obj)
        for ref in obj["metadata"].get("ownerReferences") or []:
            self.queue.add(obj["metadata"]["namespace"] + "/" + ref["name"])

    def start(self):
        self.informers.start()
        self.workers = run_workers(self.queue, self.sync)

    def stop(self):
        self.workers.stop()
        self.informers.stop()

    def sync(self, key):
        website = self.websites.lister.get(key)
        if website is None:
            return
        for desired, informer in ((desired_deployment(website), self.deployments),
                                  (desired_service(website), self.services)):
            current = informer.lister.get(key) if self.look_in_lister else None
            if current is None:
                self.client.create(desired)
            elif (updated := with_desired(current, desired)) is not None:
                self.client.update(updated)
        deployment = self.deployments.lister.get(key) or {}
        status = {"observedGeneration": website["metadata"]["generation"],
                  "readyReplicas": (deployment.get("status") or {}).get("readyReplicas", 0), "url": url_of(website)}
        if website.get("status") != status:
            updated = thaw(website)
            updated["status"] = status
            (self.client.update_status if self.status_subresource else self.client.update)(updated)


class EdgeTriggered(WebsiteController):
    on_update = False


class NoListerLookup(WebsiteController):
    look_in_lister = False


class StatusByUpdate(WebsiteController):
    status_subresource = False


class NeverStops(WebsiteController):
    def stop(self):
        pass


class OwnedNotWatched(WebsiteController):
    watch_owned = False


def test_a_controller_written_like_sample_controller_passes_every_check():
    check_crd(copy.deepcopy(_CRD), seed=1)
    check_desired(desired_deployment, desired_service, seed=2)
    check_converges(WebsiteController, seed=3)
    check_level_triggered(WebsiteController, seed=4)
    check_idempotent(WebsiteController, seed=5)


def test_a_crd_without_the_status_subresource_is_named():
    crd = copy.deepcopy(_CRD)
    del crd["spec"]["versions"][0]["subresources"]
    with pytest.raises(GradingFailure, match="status subresource"):
        check_crd(crd, seed=1)


def test_a_crd_without_defaults_is_named():
    crd = copy.deepcopy(_CRD)
    del crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["port"]["default"]
    with pytest.raises(GradingFailure, match="port to 80"):
        check_crd(crd, seed=1)


def test_desired_objects_without_owner_references_are_named():
    with pytest.raises(GradingFailure, match="garbage collector will never delete"):
        check_desired(lambda website: desired_deployment(website, owned=False), desired_service, seed=2)


@pytest.mark.parametrize("controller, check, words", [
    (EdgeTriggered, check_converges, "every add, update and delete"),
    (NoListerLookup, check_idempotent, "AlreadyExists"),
    (NoListerLookup, check_converges, "409 AlreadyExists"),
    (StatusByUpdate, check_converges, "status subresource"),
    (NeverStops, check_level_triggered, "after stop()"),
    (OwnedNotWatched, check_level_triggered, "watch the Deployments and Services too"),
], ids=["an edge-triggered handler misses a spec change", "creating without the lister raises AlreadyExists",
        "the audit log shows the 409s of creates without the lister", "status written by a plain update is kept out",
        "a stop() that does not stop is caught", "owned objects deleted behind its back need their owner enqueued"])
def test_a_typical_mistake_is_named(controller, check, words):
    with pytest.raises(GradingFailure) as failure:
        check(controller, seed=7)
    assert words in str(failure.value)


def test_with_desired_writes_only_what_differs_and_keeps_defaulted_fields():
    current = {"metadata": {"name": "blog", "labels": {"app": "blog"}},
               "spec": {"replicas": 2, "strategy": {"type": "RollingUpdate"},
                        "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}}
    same = {"metadata": {"name": "blog", "labels": {"app": "blog"}},
            "spec": {"replicas": 2, "ports": [{"port": 80, "targetPort": 80}]}}
    assert with_desired(current, same) is None
    changed = with_desired(current, {**same, "spec": {"replicas": 3, "ports": [{"port": 80, "targetPort": 80}]}})
    assert changed["spec"]["replicas"] == 3 and changed["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert changed["spec"]["ports"] == [{"port": 80, "targetPort": 80}]
