"""lab13_own_controller: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see = 'course/13_objects_and_controllers.ipynb, section "5. Your own kind, your own controller"'
    return [
        md("intro", """
# Lab 13: your own kind, your own controller

Kubernetes is *objects* (desired state, written by people) and *controllers* (programs that make the
world match them). Every built-in kind has its controller; in this lab you add a kind of your own, the
**Website**, and write the whole controller for it, the way operators are written:

```yaml
apiVersion: course.example.com/v1
kind: Website
metadata: {name: blog}
spec: {image: "nginx:1.27", replicas: 2, port: 80}
```

For each Website your controller keeps a **Deployment** and a **Service** of the same name (owned by the
Website, so the garbage collector deletes them with it), and writes the Website's **status**.

1. `website_crd()`: the CustomResourceDefinition that makes the API server serve Websites;
2. `owner_reference`, `desired_deployment`, `desired_service`: the desired state, as plain dicts;
3. `WebsiteController`: informers, a work queue and `sync(key)`, started as a component of a cluster.

The lecture is `course/13_objects_and_controllers.ipynb`; the engine's controllers (for example
`engine/controllers/namespace.py`) follow the same pattern. Graded cells: 10 points. Hidden tests run
your controller in clusters: through creations, spec changes, a stop and a restart with an empty cache,
dropped watches, objects deleted or changed behind its back, and deletions, and they read the API
server's audit log to count your controller's writes.
"""),
        code("setup", f"""
import engine
from engine.api import thaw
from engine.api.errors import AlreadyExists, ApiError, NotFound
from engine.client import WorkQueue, run_workers
from engine.grading import check, fail
from engine.grading.own_controller import WEBSITE, own_controller_cluster, run_controller, url_of, with_desired

SECTION = {see!r}   # where the checks below send you


def website(name, image="nginx:1.27", replicas=2, port=80):
    \"\"\"A Website manifest in the default namespace.\"\"\"
    return {{"apiVersion": "course.example.com/v1", "kind": "Website",
            "metadata": {{"name": name, "namespace": "default"}},
            "spec": {{"image": image, "replicas": replicas, "port": port}}}}


print(WEBSITE.api_version, WEBSITE.kind, WEBSITE.plural)
print(with_desired({{"spec": {{"replicas": 2, "paused": False}}}}, {{"metadata": {{}}, "spec": {{"replicas": 2}}}}))
print(with_desired({{"spec": {{"replicas": 2, "paused": False}}}}, {{"metadata": {{}}, "spec": {{"replicas": 3}}}}))
"""),
        md("crd_intro", """
## Part 1: the CustomResourceDefinition (2 points)

`website_crd()` returns the manifest of an `apiextensions.k8s.io/v1` CustomResourceDefinition named
`websites.course.example.com`: group `course.example.com`, version `v1` (served and the storage
version), `Namespaced`, kind `Website`, plural `websites`, singular `website`, short name `ws`, and:

- the **status subresource** (`subresources: {status: {}}`): then a client can only change `status`
  through `websites/status`, and only `spec` changes bump `metadata.generation`;
- a structural `openAPIV3Schema` where `spec` is an object with `image` (a string, at least 1
  character, **required**), `replicas` (an integer, at least 0, **default 1**) and `port` (an integer
  from 1 to 65535, **default 80**), and `status` an object with `observedGeneration` and
  `readyReplicas` (integers) and `url` (a string). Fields the schema does not declare are pruned.
"""),
        solution("website_crd", """
def website_crd():
    \"\"\"The CustomResourceDefinition of the Website kind.\"\"\"
    ### BEGIN SOLUTION
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "websites.course.example.com"},
        "spec": {
            "group": "course.example.com", "scope": "Namespaced",
            "names": {"plural": "websites", "singular": "website", "kind": "Website", "shortNames": ["ws"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["image"], "properties": {
                        "image": {"type": "string", "minLength": 1},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 80}}},
                    "status": {"type": "object", "properties": {
                        "observedGeneration": {"type": "integer"},
                        "readyReplicas": {"type": "integer"},
                        "url": {"type": "string"}}}}}},
            }],
        },
    }
    ### END SOLUTION
"""),
        tests("test_crd", 2, """
cluster = own_controller_cluster(website_crd())
print(cluster.kubectl("get crd"))
cluster.apply(website("blog"))
print(cluster.kubectl("get ws"))
check(cluster.get("ws", "blog")["spec"]["port"] == 80, "an unset port defaults to 80 (the schema's default)",
      got=cluster.get("ws", "blog")["spec"], see=SECTION)
try:
    cluster.apply(website("broken", replicas=-1))
    refused = None
except ApiError as error:
    refused = str(error)
check(refused is not None and "spec.replicas" in refused, "a Website with replicas -1 is refused, naming spec.replicas",
      got=refused, see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.own_controller_checks import check_crd
check_crd(website_crd(), seed=130)
### END HIDDEN TESTS
"""),
        md("desired_intro", """
## Part 2: the desired state (2 points)

Three plain functions of a Website (a dict as the API server stores it, with `metadata.uid`):

- `owner_reference(website)`: `{"apiVersion": "course.example.com/v1", "kind": "Website", "name": ...,
  "uid": ..., "controller": True, "blockOwnerDeletion": True}`: the garbage collector follows it;
- `desired_deployment(website)`: an `apps/v1` Deployment named like the Website, in its namespace, with
  the label `app: <name>`, the owner reference, `spec.replicas` from the Website, the selector
  `matchLabels: {app: <name>}`, and a pod template with that label and one container `web` running
  `spec.image` with `ports: [{containerPort: <port>}]`;
- `desired_service(website)`: a `v1` Service named like the Website, same namespace, label and owner
  reference, selecting `app: <name>`, with `ports: [{port: <port>, targetPort: <port>}]`.
"""),
        solution("desired_objects", """
def owner_reference(website):
    ### BEGIN SOLUTION
    meta = website["metadata"]
    return {"apiVersion": website["apiVersion"], "kind": website["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}
    ### END SOLUTION


def object_metadata(website):
    ### BEGIN SOLUTION
    meta = website["metadata"]
    return {"name": meta["name"], "namespace": meta["namespace"], "labels": {"app": meta["name"]},
            "ownerReferences": [owner_reference(website)]}
    ### END SOLUTION


def desired_deployment(website):
    ### BEGIN SOLUTION
    name, spec = website["metadata"]["name"], website["spec"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": object_metadata(website),
            "spec": {"replicas": spec["replicas"], "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": spec["image"],
                                                           "ports": [{"containerPort": spec["port"]}]}]}}}}
    ### END SOLUTION


def desired_service(website):
    ### BEGIN SOLUTION
    name, port = website["metadata"]["name"], website["spec"]["port"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": object_metadata(website),
            "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]}}
    ### END SOLUTION
"""),
        tests("test_desired", 2, """
blog = website("blog", image="nginx:1.25", replicas=3, port=8080)
blog["metadata"]["uid"] = "6f1c4c9e-uid"
deployment, service = desired_deployment(blog), desired_service(blog)
check(deployment["metadata"].get("ownerReferences") == [owner_reference(blog)] and
      owner_reference(blog)["uid"] == "6f1c4c9e-uid" and owner_reference(blog)["controller"] is True,
      "the Deployment carries the Website's owner reference (its uid, controller: true)",
      got=deployment["metadata"].get("ownerReferences"), see=SECTION)
check(deployment["spec"]["replicas"] == 3 and deployment["spec"]["selector"] == {"matchLabels": {"app": "blog"}},
      "replicas and selector come from the Website", got=deployment["spec"], see=SECTION)
check(service["spec"]["ports"] == [{"port": 8080, "targetPort": 8080}], "the Service exposes spec.port",
      got=service["spec"], see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.own_controller_checks import check_desired
check_desired(desired_deployment, desired_service, seed=131)
### END HIDDEN TESTS
"""),
        md("controller_intro", """
## Part 3: the controller (6 points)

`WebsiteController(context)` is a component, built like every controller of the engine (and like
Kubernetes' sample-controller). `context.client` is its client (it runs as the user
`website-controller`, allowed what a Website controller needs), `context.informers` its
SharedInformerFactory, `context.loop` the cluster's clock.

- `__init__`: informers for `websites`, `deployments` and `services`
  (`context.informers.informer("websites")`); a `WorkQueue(context.loop, name="website")`. The event
  handlers only put keys on the queue: a Website's own `namespace/name` on add, update **and** delete;
  for a Deployment or Service, its *owner's* key, read from its `ownerReferences` (a deleted object
  may arrive as a tombstone whose `.obj` is the last state);
- `start()`: start the informers (`context.informers.start()`) and the workers
  (`run_workers(queue, self.sync)`); `stop()`: stop both (`workers.stop()`, `informers.stop()`);
- `sync(key)`: **level-triggered**. Read the Website from the lister (`informer.lister.get(key)`); if it
  is gone, do nothing (the garbage collector deletes what it owned). For the Deployment and the Service,
  get the current object **from the lister**: create the desired one when there is none; otherwise
  `with_desired(current, desired)` gives the object to `client.update`, or None when nothing differs.
  Then the status: `{"observedGeneration": <metadata.generation>, "readyReplicas": <the Deployment's
  status.readyReplicas, 0 when absent>, "url": url_of(website)}`, written with `client.update_status`
  (on a copy: `thaw(website)`) only when it differs from the stored one. Raise on errors: the workers
  retry the key with backoff.

Objects from listers are frozen: never change them, copy them (`thaw`) first.
"""),
        solution("controller", """
class WebsiteController:
    \"\"\"Keeps a Deployment and a Service for every Website, and the Website's status.\"\"\"

    ### BEGIN SOLUTION
    def __init__(self, context):
        self.client = context.client
        self.informers = context.informers
        self.queue = WorkQueue(context.loop, name="website")
        self.websites = self.informers.informer("websites")
        self.deployments = self.informers.informer("deployments")
        self.services = self.informers.informer("services")
        self.websites.add_event_handler(on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new),
                                        on_delete=self.queue.add_key)
        for owned in (self.deployments, self.services):
            owned.add_event_handler(on_add=self.enqueue_owner, on_update=lambda old, new: self.enqueue_owner(new),
                                    on_delete=self.enqueue_owner)
        self.workers = None

    def enqueue_owner(self, obj):
        obj = getattr(obj, "obj", obj)           # a delete tombstone carries the last state
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Website" and ref.get("controller"):
                self.queue.add(obj["metadata"]["namespace"] + "/" + ref["name"])

    def start(self):
        self.informers.start()
        self.workers = run_workers(self.queue, self.sync)

    def stop(self):
        if self.workers is not None:
            self.workers.stop()
        self.informers.stop()

    def sync(self, key):
        website = self.websites.lister.get(key)
        if website is None:
            return
        for desired, informer in ((desired_deployment(website), self.deployments),
                                  (desired_service(website), self.services)):
            current = informer.lister.get(key)
            if current is None:
                self.client.create(desired)
            else:
                updated = with_desired(current, desired)
                if updated is not None:
                    self.client.update(updated)
        deployment = self.deployments.lister.get(key)
        ready = ((deployment or {}).get("status") or {}).get("readyReplicas", 0)
        status = {"observedGeneration": website["metadata"]["generation"], "readyReplicas": ready,
                  "url": url_of(website)}
        if website.get("status") != status:
            updated = thaw(website)
            updated["status"] = status
            self.client.update_status(updated)
    ### END SOLUTION
"""),
        tests("test_converges", 2, """
cluster = own_controller_cluster()
controller = run_controller(cluster, WebsiteController)
cluster.apply(website("blog", replicas=2))
cluster.run(5)
print(cluster.kubectl("get ws,deploy,svc"))
blog = cluster.get("ws", "blog")
check(cluster.get("deploy", "blog")["spec"]["replicas"] == 2, "the Website's Deployment has its 2 replicas",
      got=cluster.kubectl("get deploy"), see=SECTION)
check((blog.get("status") or {}).get("observedGeneration") == 1, "status.observedGeneration is written (status subresource)",
      got=blog.get("status"), see=SECTION)
blog["spec"]["image"] = "nginx:1.25"
cluster.apply(blog)
cluster.run(5)
image = cluster.get("deploy", "blog")["spec"]["template"]["spec"]["containers"][0]["image"]
check(image == "nginx:1.25", "a change of spec.image reaches the Deployment", got=image, see=SECTION,
      hint="enqueue the Website's key on every add, update and delete; sync compares what is with what should be")
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.own_controller_checks import check_converges
check_converges(WebsiteController, seed=132)
### END HIDDEN TESTS
"""),
        tests("test_level_triggered", 2, """
cluster = own_controller_cluster()
controller = run_controller(cluster, WebsiteController)
cluster.apply(website("blog"))
cluster.run(5)
controller.stop()
cluster.apply(website("shop"))          # while the controller is down: no event will ever reach it
cluster.delete("deploy", "blog")
cluster.run(5)
controller.start()                      # a new instance: its informers list everything again
cluster.run(5)
names = sorted(d["metadata"]["name"] for d in cluster.list("deploy"))
check(names == ["blog", "shop"], "after a restart the controller acts on what it missed", got=names, see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.own_controller_checks import check_level_triggered
check_level_triggered(WebsiteController, seed=133)
### END HIDDEN TESTS
"""),
        tests("test_idempotent", 2, """
cluster = own_controller_cluster()
controller = run_controller(cluster, WebsiteController)
cluster.apply(website("blog"))
cluster.run(5)
mark = controller.audit_mark()
controller.sync("default/blog")
controller.sync("default/blog")
writes = [(e.verb, e.resource, e.subresource) for e in controller.writes(mark)]
check(writes == [], "with nothing to do, sync writes nothing", got=writes, see=SECTION)
cluster.delete("ws", "blog")
cluster.run(10)
check(cluster.list("deploy") == [], "the garbage collector deletes the Deployment with its Website (ownerReferences)",
      got=cluster.kubectl("get deploy"), see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.own_controller_checks import check_idempotent
check_idempotent(WebsiteController, seed=134)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

An operator: a CustomResourceDefinition (served by the API server's apiextensions part, see
`engine/apiserver/apiextensions/`) and a controller written as `sample-controller/controller.go` is:
handlers that only enqueue keys, a level-triggered `syncHandler` that reads the cache, compares and
writes only the difference, status through its own subresource, and ownership left to the garbage
collector (`engine/controllers/garbagecollector.py`), which finds your kind through discovery like any
other. The same loop is every controller of `kube-controller-manager`.
"""),
    ]


FULL = {"test_crd": 2, "test_desired": 2, "test_converges": 2, "test_level_triggered": 2, "test_idempotent": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import",)
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_crd", "check_desired", "check_converges", "check_level_triggered", "check_idempotent",
           "own_controller_checks")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_edge_triggered": ("controller", "on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new),",
                             "on_add=self.queue.add_key,", {"test_converges", "test_level_triggered"},
                             "every add, update and delete"),
    "wrong_no_lister_check": ("controller", "current = informer.lister.get(key)", "current = None",
                              {"test_converges", "test_level_triggered", "test_idempotent"}, "AlreadyExists"),
    "wrong_no_owner_references": ("desired_objects", '"ownerReferences": [owner_reference(website)]}',
                                  '}', {"test_desired", "test_converges", "test_level_triggered",
                                        "test_idempotent"}, "ownerReferences"),
    "wrong_status_by_update": ("controller", "self.client.update_status(updated)", "self.client.update(updated)",
                               {"test_converges", "test_level_triggered", "test_idempotent"}, "status subresource"),
    "wrong_crd_without_status": ("website_crd", '"subresources": {"status": {}},', "", {"test_crd"},
                                 "status subresource"),
}


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text): student -> (answer
    cell id, its wrong source, graded cells that fail, words in feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab13_own_controller._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
