"""The Eviction API: ``POST pods/<name>/eviction``, a delete that respects PodDisruptionBudgets.

``kubectl drain``, the cluster autoscaler and node maintenance tools do not
delete pods: they *evict* them, and the API server decides, pod by pod,
whether the application can afford it (pkg/registry/core/pod/storage/eviction.go):

- a pod that has already finished, is still Pending, or is already being
  deleted is deleted at once: evicting it disrupts nothing more;
- the pod's PodDisruptionBudgets are those in its namespace whose non-empty
  selector matches it; more than one is a 500 (the eviction subresource does
  not support it); none, and the pod is deleted;
- a pod that is not Ready does not count as healthy: it is deleted without
  spending the budget when ``unhealthyPodEvictionPolicy`` is AlwaysAllow, or
  (IfHealthyBudget, the default) when the application already has its desired
  healthy pods;
- otherwise the budget must allow a disruption: a budget the disruption
  controller has not observed yet (``status.observedGeneration`` behind) or
  with ``disruptionsAllowed`` at 0 answers **429 TooManyRequests**, ``Cannot
  evict pod as it would violate the pod's disruption budget.``, with the cause
  ``The disruption budget web-pdb needs 2 healthy pods and has 2 currently``;
  kubectl retries every 5 seconds. When it allows one, the server spends it
  first (``disruptionsAllowed`` minus one, the pod recorded in
  ``status.disruptedPods`` for the disruption controller to confirm), and only
  then deletes the pod, gracefully, with the Eviction's ``deleteOptions``.

The answer is a success ``Status`` (201). Only the API server's own storage
is touched here, as the real eviction REST storage does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api import errors, selectors
from engine.api.frozen import thaw
from engine.api.kinds import Kind
from engine.api.meta import timestamp

if TYPE_CHECKING:
    from engine.apiserver.authn import UserInfo
    from engine.apiserver.server import APIServer, Request

MAX_DISRUPTED_POD_SIZE = 2000
"""Evictions the disruption controller has not confirmed yet, at most (policy's MaxDisruptedPodSize)."""
CONFLICT_RETRIES = 5
"""Attempts at the budget's status update when it changes under us (client-go's DefaultRetry steps)."""
ALWAYS_ALLOW = "AlwaysAllow"


def evict(server: "APIServer", kind: Kind, request: "Request", user: "UserInfo") -> dict[str, Any]:
    """Serve ``POST pods/<name>/eviction``: spend the pod's budget, then delete it."""
    body = request.body if isinstance(request.body, dict) else {}
    if body.get("kind") not in (None, "Eviction"):
        raise errors.bad_request(f"the body of the request was not an Eviction: {body.get('kind')}")
    named = (body.get("metadata") or {}).get("name")
    if named and named != request.name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    options = dict(body.get("deleteOptions") or {})
    if request.params.get("dryRun"):
        options["dryRun"] = request.params["dryRun"]
    pod = server.storages[kind].require(request.namespace, request.name or "")
    if not _can_ignore_budget(pod):
        budgets = _budgets_of(server, pod)
        if len(budgets) > 1:
            raise errors.ApiError("This pod has more than one PodDisruptionBudget, which the eviction "
                                  "subresource does not support.")
        if budgets and not _unhealthy_may_go(pod, budgets[0]):
            _check_and_decrement(server, pod["metadata"]["name"], budgets[0], dry_run=bool(options.get("dryRun")))
        elif budgets:
            # Delete only the pod that was judged unhealthy, not a newer version of it.
            options.setdefault("preconditions", {})["resourceVersion"] = pod["metadata"]["resourceVersion"]
    if not options.get("dryRun"):
        server.delete_for_eviction(kind, request, user, options)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _can_ignore_budget(pod: dict) -> bool:
    """Finished, not yet started, or already going: evicting it costs the application nothing."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _budgets_of(server: "APIServer", pod: dict) -> list[dict]:
    """The budgets whose selector matches the pod; a nil or empty selector matches nothing here."""
    labels = pod["metadata"].get("labels") or {}
    found = []
    for budget in server.cached_list("poddisruptionbudgets", pod["metadata"].get("namespace")):
        selector = (budget.get("spec") or {}).get("selector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            continue
        try:
            if selectors.from_label_selector(selector).matches(labels):
                found.append(budget)
        except ValueError:
            continue
    return found


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _unhealthy_may_go(pod: dict, budget: dict) -> bool:
    """An unready pod leaves without spending the budget under the budget's unhealthy-pod policy."""
    if _ready(pod):
        return False
    if (budget.get("spec") or {}).get("unhealthyPodEvictionPolicy") == ALWAYS_ALLOW:
        return True
    status = budget.get("status") or {}
    desired = status.get("desiredHealthy", 0)
    return status.get("currentHealthy", 0) >= desired and desired > 0


def _check_and_decrement(server: "APIServer", pod_name: str, budget: dict, *, dry_run: bool) -> None:
    storage = server.storages[server.registry.lookup("poddisruptionbudgets")]
    namespace, name = budget["metadata"]["namespace"], budget["metadata"]["name"]
    for attempt in range(CONFLICT_RETRIES):
        current = budget if attempt == 0 else storage.require(namespace, name)
        status = current.get("status") or {}
        if status.get("observedGeneration", 0) < current["metadata"].get("generation", 0):
            raise _too_many_requests(f"The disruption budget {name} is still being processed by the server.",
                                     retry_after=10)
        allowed = status.get("disruptionsAllowed", 0)
        if allowed < 0:
            raise errors.Forbidden("pdb disruptions allowed is negative")
        if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
            raise errors.Forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
        if allowed == 0:
            raise _too_many_requests(f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} healthy "
                                     f"pods and has {status.get('currentHealthy', 0)} currently")
        if dry_run:
            return
        updated = thaw(current)
        new_status = updated.setdefault("status", {})
        new_status["disruptionsAllowed"] = allowed - 1
        new_status.setdefault("disruptedPods", {})[pod_name] = timestamp(server.now)
        if allowed - 1 == 0:
            _set_disruption_allowed_false(new_status, server.now)
        try:
            storage.update(updated, int(current["metadata"]["resourceVersion"]))
            return
        except errors.Conflict:
            continue
    raise errors.conflict("poddisruptionbudgets", name, "the object has been modified; please apply your "
                          "changes to the latest version and try again", "policy")


def _set_disruption_allowed_false(status: dict, now: float) -> None:
    """The DisruptionAllowed condition turns False with reason InsufficientPods (pdb helpers)."""
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
    previous = next((c for c in status.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
    since = previous["lastTransitionTime"] if previous and previous.get("status") == "False" else timestamp(now)
    conditions.append({"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods", "message": "",
                       "observedGeneration": status.get("observedGeneration", 0), "lastTransitionTime": since})
    status["conditions"] = conditions


def _too_many_requests(cause: str, retry_after: int = 0) -> errors.TooManyRequests:
    details: dict[str, Any] = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return errors.TooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.",
                                  details=details)
