"""``kubectl rollout``: status, history, undo, restart, pause and resume.

Interface: ``HANDLERS[sub](invocation) -> str`` for each subcommand, plus the
pure pieces the handlers use: ``status_message(obj)`` (the status viewers of
``kubectl/pkg/polymorphichelpers/rollout_status.go``), ``history(deployment,
replicasets)`` and ``rollback_target(deployment, replicasets, to_revision)``.

A Deployment's history is its ReplicaSets: each carries the revision in the
``deployment.kubernetes.io/revision`` annotation and the reason in
``kubernetes.io/change-cause``. A DaemonSet's or StatefulSet's history is its
ControllerRevisions (``revision`` field, saved template patch in ``data``). ``undo`` is the real client-side rollback:
copy the chosen ReplicaSet's pod template (without ``pod-template-hash``) and
annotations back into the Deployment with one JSON patch; the Deployment
controller does the rest. ``status`` reports the current state once and
never blocks (the real one watches until done).
"""

from __future__ import annotations

import copy

from engine.api.meta import timestamp
from engine.api.selectors import from_label_selector
from engine.client.client import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from engine.kubectl.cli import Invocation, KubectlError, resolve_kind, scope_of
from engine.kubectl.printers import resource_prefix
from engine.kubectl.tabwriter import DESCRIBE_MINWIDTH, DESCRIBE_PADDING, format_tabbed

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
POD_TEMPLATE_HASH = "pod-template-hash"
ANNOTATIONS_TO_SKIP = {"kubectl.kubernetes.io/last-applied-configuration", REVISION,
                       "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
                       "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to"}


def _target(invocation: Invocation) -> tuple[str, str]:
    args = invocation.args
    if not args:
        raise KubectlError("required resource not specified")
    if "/" in args[0]:
        type_name, _, name = args[0].partition("/")
    elif len(args) >= 2:
        type_name, name = args[0], args[1]
    else:
        raise KubectlError("required resource not specified")
    kind = resolve_kind(type_name)
    if kind.kind not in ("Deployment", "DaemonSet", "StatefulSet"):
        raise KubectlError(f'no {invocation.verb.split()[1]} is implemented for {kind.group_resource}: rollout '
                           f'works on deployments, daemonsets and statefulsets')
    return kind.plural, name


def _annotation(obj: dict, key: str) -> str | None:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(key)


def _revision(obj: dict) -> int | None:
    try:
        return int(_annotation(obj, REVISION) or "")
    except ValueError:
        return None


def owned_replicasets(deployment: dict, replicasets: list[dict]) -> list[dict]:
    """The objects kubectl counts as the owner's history: selected by its selector, controlled by it (uid).

    ``deploymentutil.GetAllReplicaSets`` lists by the selector first, so an object without the
    selected labels is not history even when its ownerReference points at the owner.
    """
    uid = deployment["metadata"].get("uid")
    selector = from_label_selector((deployment.get("spec") or {}).get("selector"))
    return [rs for rs in replicasets
            if selector.matches(rs["metadata"].get("labels"))
            and any(ref.get("controller") and ref.get("uid") == uid
                    for ref in rs["metadata"].get("ownerReferences") or [])]


# -- status -------------------------------------------------------------------

def status_message(obj: dict) -> tuple[str, bool]:
    """The status viewer's message for a Deployment, DaemonSet or StatefulSet, and whether it is done."""
    kind = obj.get("kind")
    name = obj["metadata"]["name"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = int(obj["metadata"].get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    if kind == "Deployment":
        if generation > observed:
            return "Waiting for deployment spec update to be observed...", False
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
                raise KubectlError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas")
        updated = int(status.get("updatedReplicas") or 0)
        if replicas is not None and updated < replicas:
            return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} new replicas '
                    f'have been updated...'), False
        total = int(status.get("replicas") or 0)
        if total > updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are '
                    f'pending termination...'), False
        available = int(status.get("availableReplicas") or 0)
        if available < updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated '
                    f'replicas are available...'), False
        return f'deployment "{name}" successfully rolled out', True
    if kind == "DaemonSet":
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            raise KubectlError("rollout status is only available for RollingUpdate strategy type")
        if generation > observed:
            return "Waiting for daemon set spec update to be observed...", False
        desired = int(status.get("desiredNumberScheduled") or 0)
        updated = int(status.get("updatedNumberScheduled") or 0)
        available = int(status.get("numberAvailable") or 0)
        if updated < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have '
                    f'been updated...'), False
        if available < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
                    f'are available...'), False
        return f'daemon set "{name}" successfully rolled out', True
    # StatefulSet
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise KubectlError("rollout status is only available for RollingUpdate strategy type")
    if observed == 0 or generation > observed:
        return "Waiting for statefulset spec update to be observed...", False
    replicas = spec.get("replicas")
    ready = int(status.get("readyReplicas") or 0)
    if replicas is not None and ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...", False
    updated = int(status.get("updatedReplicas") or 0)
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < replicas - partition:
            return (f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} new pods "
                    f"have been updated..."), False
        return f"partitioned roll out complete: {updated} new pods have been updated...", True
    if status.get("updateRevision") != status.get("currentRevision"):
        return (f"waiting for statefulset rolling update to complete {updated} pods at revision "
                f"{status.get('updateRevision')}..."), False
    return (f"statefulset rolling update complete {int(status.get('currentReplicas') or 0)} pods at revision "
            f"{status.get('currentRevision')}..."), True


def status(invocation: Invocation) -> str:
    """``kubectl rollout status``: one look at the status, as the watch loop's first message."""
    plural, name = _target(invocation)
    kind = resolve_kind(plural)
    obj = invocation.client.get(plural, name, scope_of(invocation, kind))
    message, _ = status_message(obj)
    return message


# -- history and undo ---------------------------------------------------------

def history_table(entries: dict[int, dict]) -> str:
    """``printHistory``: the ``REVISION  CHANGE-CAUSE`` table of revision-numbered objects."""
    if not entries:
        return "No rollout history found."
    lines = ["REVISION\tCHANGE-CAUSE\n"]
    for revision in sorted(entries):
        lines.append(f"{revision}\t{_annotation(entries[revision], CHANGE_CAUSE) or '<none>'}\n")
    return format_tabbed("".join(lines), DESCRIBE_MINWIDTH, DESCRIBE_PADDING)


def history(deployment: dict, replicasets: list[dict]) -> str:
    """The history of a Deployment: its owned ReplicaSets by their revision annotation."""
    revisions: dict[int, dict] = {}
    for rs in owned_replicasets(deployment, replicasets):
        revision = _revision(rs)
        if revision is not None:
            revisions[revision] = rs
    return history_table(revisions)


def controller_revisions(owner: dict, revisions: list[dict]) -> dict[int, dict]:
    """A DaemonSet's or StatefulSet's history: its ControllerRevisions by ``revision``."""
    return {int(revision.get("revision") or 0): revision
            for revision in owned_replicasets(owner, revisions)}


def _replicasets(invocation: Invocation, namespace: str | None) -> list[dict]:
    return invocation.client.list("replicasets", namespace)["items"]


def _revision_template(revision: dict) -> dict:
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def history_command(invocation: Invocation) -> str:
    """``kubectl rollout history deployment/web [--revision=N]`` (daemonsets and statefulsets too)."""
    plural, name = _target(invocation)
    kind = resolve_kind(plural)
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(plural, name, namespace)
    wanted = invocation.flag_int("revision") or 0
    header = f"{resource_prefix(kind)}/{name}"
    if kind.kind == "Deployment":
        owned = owned_replicasets(obj, _replicasets(invocation, namespace))
        entries = {revision: rs for rs in owned if (revision := _revision(rs)) is not None}
        templates = {revision: rs["spec"]["template"] for revision, rs in entries.items()}
    else:
        entries = controller_revisions(obj, invocation.client.list("controllerrevisions", namespace)["items"])
        templates = {revision: _revision_template(entry) for revision, entry in entries.items()}
    if wanted:
        if wanted not in entries:
            raise KubectlError("unable to find the specified revision")
        from engine.kubectl.describe import pod_template_text
        return f"{header} with revision #{wanted}\n{pod_template_text(templates[wanted])}\n\n"
    return f"{header} \n{history_table(entries)}\n"  # kubectl leaves a space after the name


def rollback_target(deployment: dict, replicasets: list[dict], to_revision: int = 0) -> dict:
    """The ReplicaSet to roll back to: revision ``to_revision``, or the one before the latest."""
    latest, latest_revision = None, -1
    previous, previous_revision = None, -1
    for rs in owned_replicasets(deployment, replicasets):
        revision = _revision(rs)
        if revision is None:
            continue
        if to_revision == 0:
            if latest_revision < revision:
                previous, previous_revision = latest, latest_revision
                latest, latest_revision = rs, revision
            elif previous_revision < revision:
                previous, previous_revision = rs, revision
        elif revision == to_revision:
            return rs
    if to_revision > 0:
        raise KubectlError(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise KubectlError(f'no rollout history found for deployment "{deployment["metadata"]["name"]}"')
    return previous


def _without_hash(template: dict) -> dict:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return template


def undo(invocation: Invocation) -> str:
    """``kubectl rollout undo deployment/web [--to-revision=N]``."""
    plural, name = _target(invocation)
    kind = resolve_kind(plural)
    if kind.kind != "Deployment":
        return _undo_from_controller_revisions(invocation, plural, name)
    namespace = scope_of(invocation, kind)
    deployment = invocation.client.get(plural, name, namespace)
    if (deployment.get("spec") or {}).get("paused"):
        raise KubectlError("you cannot rollback a paused deployment; resume it first with 'kubectl rollout "
                           "resume' and try again")
    to_revision = invocation.flag_int("to-revision") or 0
    target = rollback_target(deployment, _replicasets(invocation, namespace), to_revision)
    template = _without_hash(target["spec"]["template"])
    label = f"{resource_prefix(kind)}/{name}"
    if template == _without_hash(deployment["spec"]["template"]):
        return (f"{label} skipped rollback (current template already matches revision "
                f"{_revision(target)})")
    annotations = {key: value for key, value in (deployment["metadata"].get("annotations") or {}).items()
                   if key in ANNOTATIONS_TO_SKIP}
    annotations.update({key: value for key, value in (target["metadata"].get("annotations") or {}).items()
                        if key not in ANNOTATIONS_TO_SKIP})
    patch = [{"op": "replace", "path": "/spec/template", "value": template},
             {"op": "replace" if deployment["metadata"].get("annotations") is not None else "add",
              "path": "/metadata/annotations", "value": annotations}]
    invocation.client.patch(plural, name, patch, namespace, patch_type=JSON_PATCH)
    return f"{label} rolled back"


def _undo_from_controller_revisions(invocation: Invocation, plural: str, name: str) -> str:
    """The DaemonSet and StatefulSet rollbackers: re-apply a ControllerRevision's saved patch."""
    kind = resolve_kind(plural)
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(plural, name, namespace)
    entries = controller_revisions(obj, invocation.client.list("controllerrevisions", namespace)["items"])
    to_revision = invocation.flag_int("to-revision") or 0
    target = None
    if to_revision:
        target = entries.get(to_revision)
    elif len(entries) > 1:
        target = entries[sorted(entries)[-2]]
    if target is None:
        raise KubectlError(f"unable to find specified revision {to_revision} in history")
    label = f"{resource_prefix(kind)}/{name}"
    revision = int(target.get("revision") or 0)
    if _revision_template(target) == (obj.get("spec") or {}).get("template"):
        return f"{label} skipped rollback (current template already matches revision {revision})"
    invocation.client.patch(plural, name, target.get("data") or {}, namespace, patch_type=STRATEGIC_MERGE_PATCH)
    return f"{label} rolled back"


# -- restart, pause, resume ---------------------------------------------------

def restart(invocation: Invocation) -> str:
    """``kubectl rollout restart``: stamp ``kubectl.kubernetes.io/restartedAt`` on the pod template."""
    plural, name = _target(invocation)
    kind = resolve_kind(plural)
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(plural, name, namespace)
    if (obj.get("spec") or {}).get("paused"):
        raise KubectlError(f'{kind.group_resource} "{name}" can\'t restart paused deployment (run rollout '
                           f'resume first)')
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: timestamp(invocation.now)}}}}}
    invocation.client.patch(plural, name, patch, namespace, patch_type=MERGE_PATCH)
    return f"{resource_prefix(kind)}/{name} restarted"


def _set_paused(invocation: Invocation, paused: bool) -> str:
    plural, name = _target(invocation)
    kind = resolve_kind(plural)
    if kind.kind != "Deployment":
        raise KubectlError(f'{kind.group_resource} "{name}" {"pausing" if paused else "resuming"} is not supported')
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(plural, name, namespace)
    if bool((obj.get("spec") or {}).get("paused")) == paused:
        raise KubectlError(f'{kind.group_resource} "{name}" is {"already paused" if paused else "not paused"}')
    invocation.client.patch(plural, name, {"spec": {"paused": True if paused else None}}, namespace,
                            patch_type=MERGE_PATCH)
    return f"{resource_prefix(kind)}/{name} {'paused' if paused else 'resumed'}"


def pause(invocation: Invocation) -> str:
    """``kubectl rollout pause deployment/web``."""
    return _set_paused(invocation, True)


def resume(invocation: Invocation) -> str:
    """``kubectl rollout resume deployment/web``."""
    return _set_paused(invocation, False)


HANDLERS = {"status": status, "history": history_command, "undo": undo, "restart": restart, "pause": pause,
            "resume": resume}
