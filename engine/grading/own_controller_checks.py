"""The own-controller lab's hidden checks: the learner's CRD, desired objects and controller, judged by behaviour.

Interface (each raises a ``GradingFailure`` whose message names the mistake and where to look):

- ``check_crd(crd, seed)``: the CRD is accepted and established, serves ``websites`` (short name ``ws``)
  with a status subresource, defaults ``replicas`` and ``port``, refuses what the schema forbids with the
  field named, and keeps the status fields it declares;
- ``check_desired(desired_deployment, desired_service, seed)``: the desired objects of seeded Websites
  against the reference (names, labels, selector, image, replicas, port, the controller ownerReference);
- ``check_converges(controller_class, seed)``: a Website gets its Deployment and Service, owned by it,
  and its status (through the status subresource); a spec change is followed;
- ``check_level_triggered(controller_class, seed)``: objects changed while the controller was stopped,
  a restart with an empty cache, dropped watches and owned objects deleted behind its back all end
  as the Websites say;
- ``check_idempotent(controller_class, seed)``: a sync with nothing to do writes nothing (the audit log
  says), and deleting a Website lets the garbage collector delete what it owned.

Each check runs one small cluster for at most a few virtual minutes.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from engine.api import errors
from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, describe_exception, fail
from engine.grading.integrity import ensure_installed
from engine.grading.own_controller import (
    SEE, WEBSITE, _deployment, _owner, _service, own_controller_cluster, run_controller, url_of,
)

NAMES = ("blog", "shop", "docs", "wiki", "status", "api", "home", "news")
IMAGES = ("nginx:1.27", "nginx:1.25", "httpd:2.4", "caddy:2.8")


def _website(name: str, image: str, replicas: int, port: int, namespace: str = "default") -> dict:
    return {"apiVersion": WEBSITE.api_version, "kind": WEBSITE.kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"image": image, "replicas": replicas, "port": port}}


def _random_websites(rng: random.Random, count: int) -> list[dict]:
    names = rng.sample(NAMES, count)
    return [_website(name, rng.choice(IMAGES), rng.randint(1, 4), rng.choice((80, 8080, 3000))) for name in names]


# -- the CRD ----------------------------------------------------------------------------------------------
def _refused(client: Any, obj: dict) -> errors.ApiError | None:
    try:
        client.create(obj)
    except errors.ApiError as error:
        return error
    return None


def check_crd(crd: Any, seed: int) -> None:
    ensure_installed("engine.cluster")
    if not isinstance(crd, dict):
        fail("WEBSITE_CRD should be the CustomResourceDefinition manifest, a dict", got=crd, see=SEE)
    from engine.grading.integrity import fresh_cluster
    cluster = fresh_cluster(nodes=0, seed=seed, components=[])
    try:
        cluster.apply(copy.deepcopy(crd))
    except errors.ApiError as error:
        fail(f"the API server refused your CustomResourceDefinition: {error}", see=SEE)
    cluster.run(1)
    served = cluster.apiserver.registry.find(WEBSITE.resource)
    if served is None:
        fail(f"no resource {WEBSITE.resource} is served: the CRD's spec.group must be {WEBSITE.group!r} and its "
             f"names.plural 'websites' (and the CRD's name {WEBSITE.resource!r})", see=SEE)
    facts = {"kind": served.kind, "namespaced": served.namespaced, "shortNames": list(served.short_names),
             "status subresource": "status" in served.subresources, "version": served.version}
    wanted = {"kind": "Website", "namespaced": True, "shortNames": ["ws"], "status subresource": True,
              "version": "v1"}
    if facts != wanted:
        fail("the Website resource is not served as the lab asks (kind, scope, short names, the status "
             "subresource, version v1)", expected=wanted, got=facts, see=SEE)
    rng = random.Random(seed)
    client = cluster.admin
    image = rng.choice(IMAGES)
    bare = _website("bare", image, 1, 80)
    del bare["spec"]["replicas"], bare["spec"]["port"]
    bare["status"] = {"readyReplicas": 7}
    try:
        created = client.create(bare)
    except errors.ApiError as error:
        fail(f"a Website with only spec.image was refused: {error}", see=SEE)
    got = {"replicas": created["spec"].get("replicas"), "port": created["spec"].get("port"),
           "status kept on create": "status" in created}
    if got != {"replicas": 1, "port": 80, "status kept on create": False}:
        fail("a Website created with only spec.image: replicas should default to 1 and port to 80, and a status "
             "sent on create is dropped when status is a subresource",
             expected={"replicas": 1, "port": 80, "status kept on create": False}, got=got, see=SEE)
    for spec, field, why in (({"image": image, "replicas": -1}, "spec.replicas", "replicas below 0"),
                             ({"replicas": 2}, "spec.image", "no image (spec.image is required)"),
                             ({"image": ""}, "spec.image", "an empty image (minLength 1)"),
                             ({"image": image, "port": 70000}, "spec.port", "a port above 65535"),
                             ({"image": image, "replicas": "three"}, "spec.replicas", "replicas as a string")):
        error = _refused(client, {**_website("bad", image, 1, 80), "spec": spec})
        causes = [cause.get("field") for cause in (error.status.get("details") or {}).get("causes") or []] \
            if isinstance(error, errors.Invalid) else []
        if field not in causes:
            fail(f"a Website with {why} should be refused with 422 naming {field}; the schema must say so",
                 got=str(error) if error else "created", see=SEE)
    status = {"observedGeneration": 1, "readyReplicas": 0, "url": url_of(created)}
    created["status"] = status
    written = client.update_status(created)
    if written.get("status") != status:
        fail("status fields the controller writes were pruned: declare status.observedGeneration, "
             "status.readyReplicas (integers) and status.url (a string) in the schema",
             expected=status, got=written.get("status"), see=SEE)


# -- the desired objects ----------------------------------------------------------------------------------
def _deployment_facts(deployment: Any) -> dict:
    meta, spec = deployment["metadata"], deployment["spec"]
    container = spec["template"]["spec"]["containers"][0]
    return {"name": meta["name"], "namespace": meta.get("namespace"), "labels": meta.get("labels"),
            "ownerReferences": meta.get("ownerReferences"), "replicas": spec.get("replicas"),
            "selector": spec.get("selector"), "template labels": spec["template"]["metadata"].get("labels"),
            "image": container.get("image"), "ports": container.get("ports")}


def _service_facts(service: Any) -> dict:
    meta = service["metadata"]
    return {"name": meta["name"], "namespace": meta.get("namespace"), "labels": meta.get("labels"),
            "ownerReferences": meta.get("ownerReferences"), "selector": service["spec"].get("selector"),
            "ports": service["spec"].get("ports")}


def _diagnose_owner(case: tuple, expected: Any, got: Any) -> str | None:
    if got.error is not None or not isinstance(got.value, dict):
        return None
    refs = got.value.get("ownerReferences")
    if not refs:
        return ("no ownerReferences: without one pointing at the Website (controller: true), the garbage "
                "collector will never delete this object when its Website goes")
    want = expected.value["ownerReferences"][0]
    if refs[0].get("uid") != want["uid"]:
        return "the ownerReference must carry the Website's metadata.uid: the collector matches owners by uid"
    return None


def check_desired(desired_deployment: Any, desired_service: Any, seed: int) -> None:
    ensure_installed()
    owns = [OwnWork(what, [_deployment, _service, _owner], see=SEE) for what in ("desired_deployment",
                                                                                 "desired_service")]
    rng = random.Random(seed)
    cases = []
    for website in _random_websites(rng, 6):
        website["metadata"].update(uid=f"{rng.getrandbits(64):016x}-uid", generation=rng.randint(1, 5),
                                   namespace=rng.choice(("default", "team-a")))
        cases.append((website,))
    describe = lambda website: f"Website {website['metadata']['namespace']}/{website['metadata']['name']} " \
                               f"spec={website['spec']}"          # noqa: E731
    compare(owns[0].wrap(desired_deployment), lambda w: _deployment_facts(_deployment(w)), cases,
            normalize=_deployment_facts, what="desired_deployment", describe=describe, diagnose=_diagnose_owner,
            see=SEE)
    compare(owns[1].wrap(desired_service), lambda w: _service_facts(_service(w)), cases, normalize=_service_facts,
            what="desired_service", describe=describe, diagnose=_diagnose_owner, see=SEE)
    owns[0].check(desired_deployment)
    owns[1].check(desired_service)



# -- the controller in a cluster --------------------------------------------------------------------------
def _owned_by(cluster: Any, resource: str, website: dict) -> list[dict]:
    uid = website["metadata"]["uid"]
    return [obj for obj in cluster.list(resource, website["metadata"]["namespace"])
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or ())]


def _current(cluster: Any, resource: str, name: str, namespace: str = "default") -> dict | None:
    try:
        return cluster.get(resource, name, namespace)
    except errors.NotFound:
        return None


def _live_deployment_facts(deployment: dict) -> dict:
    facts = _deployment_facts(deployment)
    facts["ports"] = [port.get("containerPort") for port in facts["ports"] or ()]
    return facts


def _live_service_facts(service: dict) -> dict:
    facts = _service_facts(service)
    facts["ports"] = [(port.get("port"), port.get("targetPort")) for port in facts["ports"] or ()]
    return facts


def _diagnosis(handle: Any, mark: int, key: str) -> str:
    """What the audit log and a direct call of sync(key) say about a controller that did not converge."""
    notes = []
    for event in handle.writes(mark):
        if event.code == 409 and event.verb == "create":
            notes.append(f"your controller's create of {event.resource} {event.name} answered 409 AlreadyExists: "
                         f"it created without looking in the lister first (get the object from the informer's "
                         f"lister, create only when it is not there)")
            break
    for event in handle.writes(mark):
        if event.code == 403:
            notes.append(f"a {event.verb} of {event.resource} was forbidden (403)")
            break
    try:
        handle.controller.sync(key)
    except Exception as error:                    # the learner's exception is the diagnosis
        notes.append(f"calling your sync({key!r}) raised {describe_exception(error)}")
    return ("\nWhat went wrong: " + "; ".join(notes)) if notes else ""


def _expect_converged(cluster: Any, handle: Any, name: str, mark: int, when: str, hint: str | None = None) -> None:
    website = cluster.get(WEBSITE.resource, name)
    key = f"{website['metadata']['namespace']}/{name}"
    for resource, reference, facts in (("deployments", _deployment, _live_deployment_facts),
                                       ("services", _service, _live_service_facts)):
        kind = reference(website)["kind"]
        owned = _owned_by(cluster, resource, website)
        if len(owned) > 1:
            fail(f"{when}: {len(owned)} {resource} are owned by Website {name}; there should be one: look up the "
                 f"one you made in the lister (it is named like the Website) instead of creating another",
                 got=sorted(obj["metadata"]["name"] for obj in owned), see=SEE)
        current = _current(cluster, resource, name, website["metadata"]["namespace"])
        if current is None:
            fail(f"{when}: there is no {kind} {name}" + _diagnosis(handle, mark, key), hint=hint, see=SEE)
        want, got = facts(reference(website)), facts(current)
        if want != got:
            why = ""
            if not got["ownerReferences"]:
                why = (" It has no ownerReferences: the garbage collector cannot know it belongs to the Website "
                       "(set metadata.ownerReferences with the Website's uid, controller: true).")
            fail(f"{when}: the {kind} {name} is not what Website {name} asks for.{why}"
                 + _diagnosis(handle, mark, key), expected=want, got=got, hint=hint, see=SEE)
    deployment = _current(cluster, "deployments", name, website["metadata"]["namespace"]) or {}
    status = {"observedGeneration": website["metadata"]["generation"],
              "readyReplicas": (deployment.get("status") or {}).get("readyReplicas", 0), "url": url_of(website)}
    if website.get("status") != status:
        why = ""
        if not website.get("status") and any(e.resource == WEBSITE.plural and not e.subresource
                                             and e.verb in ("update", "patch") for e in handle.writes(mark)):
            why = (" Your controller updated the Website itself, and an update of the main resource keeps the "
                   "stored status: write status through the status subresource (client.update_status).")
        fail(f"{when}: the status of Website {name} is not up to date.{why}" + _diagnosis(handle, mark, key),
             expected=status,
             got=website.get("status"), hint=hint, see=SEE)


EDGE_HINT = ("a controller reacts to the state, not to the kind of event: enqueue the Website's key on every add, "
             "update and delete, and let sync(key) compare what is with what should be")
OWNED_HINT = ("watch the Deployments and Services too, and when one changes or goes, enqueue its owner's key "
              "(from its ownerReferences)")


def _run(cluster: Any, seconds: float) -> None:
    """Run the cluster; an exception your handlers raise on the cluster's loop becomes feedback."""
    try:
        cluster.run(seconds)
    except Exception as error:              # the learner's handler raised inside an informer
        fail(f"your controller raised on the cluster's loop: {describe_exception(error)}", see=SEE)


def _started(controller_class: type, seed: int, count: int) -> tuple[Any, Any, list[str], random.Random]:
    ensure_installed("engine.cluster")
    rng = random.Random(seed)
    cluster = own_controller_cluster(seed=seed)
    handle = run_controller(cluster, controller_class)
    _run(cluster, 1)
    mark = handle.audit_mark()
    websites = _random_websites(rng, count)
    cluster.apply(websites)
    _run(cluster, 5)
    names = [w["metadata"]["name"] for w in websites]
    for name in names:
        _expect_converged(cluster, handle, name, mark, f"5 s after Website {name} was created")
    return cluster, handle, names, rng


def _set_spec(cluster: Any, name: str, **changes: Any) -> None:
    website = cluster.get(WEBSITE.resource, name)
    website["spec"].update(changes)
    cluster.admin.update(website)


def check_converges(controller_class: type, seed: int) -> None:
    cluster, handle, names, rng = _started(controller_class, seed, 2)
    mark = handle.audit_mark()
    image = rng.choice([image for image in IMAGES if image != cluster.get(WEBSITE.resource, names[0])["spec"]["image"]])
    _set_spec(cluster, names[0], image=image, replicas=rng.randint(5, 6))
    _run(cluster, 5)
    _expect_converged(cluster, handle, names[0], mark, f"5 s after Website {names[0]}'s spec.image and "
                      "spec.replicas changed", hint=EDGE_HINT)
    _expect_converged(cluster, handle, names[1], mark, f"Website {names[1]} (unchanged)")


def check_level_triggered(controller_class: type, seed: int) -> None:
    cluster, handle, (first, second), rng = _started(controller_class, seed, 2)
    handle.stop()
    mark = handle.audit_mark()
    late = rng.choice([name for name in NAMES if name not in (first, second)])
    cluster.apply(_website(late, rng.choice(IMAGES), 2, 80))
    cluster.delete("deployment", first)
    _set_spec(cluster, second, replicas=rng.randint(5, 6))
    _run(cluster, 5)
    if handle.writes(mark) or _current(cluster, "deployments", late) is not None:
        fail("after stop(), your controller still acted: stop() must stop its workers and its informers "
             "(they run on the cluster's loop until you stop them)", got=[(e.verb, e.resource, e.name)
                                                                      for e in handle.writes(mark)][:3], see=SEE)
    handle.start()
    _run(cluster, 5)
    restarted = "5 s after a restart (a new instance, an empty cache): while it was stopped"
    _expect_converged(cluster, handle, late, mark, f"{restarted} Website {late} was created", hint=EDGE_HINT)
    _expect_converged(cluster, handle, first, mark, f"{restarted} Website {first}'s Deployment was deleted",
                      hint=EDGE_HINT)
    _expect_converged(cluster, handle, second, mark, f"{restarted} Website {second}'s spec.replicas changed",
                      hint=EDGE_HINT)
    cluster.delete("service", first)
    _run(cluster, 5)
    _expect_converged(cluster, handle, first, mark, f"5 s after someone deleted Website {first}'s Service",
                      hint=OWNED_HINT)
    cluster.admin.scale("deployments", second, "default", 9)
    _run(cluster, 5)
    _expect_converged(cluster, handle, second, mark, f"5 s after someone scaled Website {second}'s Deployment "
                      "to 9 by hand", hint=OWNED_HINT)
    handle.drop_watches(20)
    _set_spec(cluster, late, image=rng.choice([i for i in IMAGES if i != cluster.get(WEBSITE.resource, late)["spec"]["image"]]))
    _run(cluster, 30)
    _expect_converged(cluster, handle, late, mark, f"30 s after Website {late}'s image changed while the controller's "
                      "watches were down for 20 s (the informers relist or resume, and the events arrive late)",
                      hint=EDGE_HINT)


def check_idempotent(controller_class: type, seed: int) -> None:
    cluster, handle, (first, second), _rng = _started(controller_class, seed, 2)
    mark = handle.audit_mark()
    for name in (first, second):
        for _ in range(2):
            try:
                handle.controller.sync(f"default/{name}")
            except Exception as error:        # the learner's exception is the finding
                fail(f"with nothing to do, your sync('default/{name}') raised {describe_exception(error)}"
                     + (": look in the lister before creating" if isinstance(error, errors.AlreadyExists) else ""),
                     see=SEE)
    writes = [(event.verb, event.resource, event.subresource, event.name) for event in handle.writes(mark)]
    if writes:
        fail(f"with nothing to do, two calls of sync per Website made {len(writes)} writes: compare what is with what "
             "should be, and write only what differs (with_desired returns None when nothing does)",
             got=writes[:4], see=SEE)
    _run(cluster, 60)
    writes = [(event.verb, event.resource, event.subresource, event.name) for event in handle.writes(mark)]
    if writes:
        fail(f"for a minute nothing changed, yet your controller made {len(writes)} writes: each write is an event "
             "that wakes it again; write only what differs", got=writes[:4], see=SEE)
    cluster.delete(WEBSITE.resource, first)
    _run(cluster, 10)
    left = [(kind, first) for kind in ("deployments", "services") if _current(cluster, kind, first) is not None]
    if left:
        fail(f"10 s after Website {first} was deleted, what it owned is still there: with an ownerReference to the "
             "Website (its uid, controller: true) the garbage collector deletes them; the controller itself "
             "deletes nothing", got=left, see=SEE)
    _expect_converged(cluster, handle, second, mark, f"Website {second}, after Website {first} was deleted")


__all__ = ["check_converges", "check_crd", "check_desired", "check_idempotent", "check_level_triggered"]
