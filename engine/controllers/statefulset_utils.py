"""A StatefulSet's pod identity and health, as pure functions (``pkg/controller/statefulset/stateful_set_utils.go``).

Each pod of a StatefulSet is ``<set>-<ordinal>``, with the hostname of that
name, the subdomain of the governing Service (``serviceName``), the labels
``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``,
the ``controller-revision-hash`` label naming its ControllerRevision, and a
PersistentVolumeClaim ``<claim>-<set>-<ordinal>`` per volumeClaimTemplate,
mounted as the volume of the template's name. ``new_versioned_pod`` decides
which revision a recreated pod gets (below the partition: the current one).
"""

from __future__ import annotations

import copy
import re

from engine.api.meta import owner_reference, parse_timestamp
from engine.controllers.controller_utils import is_pod_ready, pod_from_template, pod_ready_condition
from engine.controllers.history import CONTROLLER_REVISION_HASH_LABEL

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def parent_and_ordinal(pod: dict) -> tuple[str, int]:
    """getParentNameAndOrdinal: (``web``, 2) for ``web-2``; ("", -1) for a name of another shape."""
    match = _ORDINAL.match(pod["metadata"]["name"])
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def ordinal(pod: dict) -> int:
    return parent_and_ordinal(pod)[1]


def is_member_of(sts: dict, pod: dict) -> bool:
    return parent_and_ordinal(pod)[0] == sts["metadata"]["name"]


def pod_name(sts: dict, ordinal_: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal_}"


def claim_name(template_name: str, sts: dict, ordinal_: int) -> str:
    """getPersistentVolumeClaimName: ``<claim>-<set>-<ordinal>``."""
    return f"{template_name}-{sts['metadata']['name']}-{ordinal_}"


def pod_revision(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH_LABEL, "")


def claims_for(sts: dict, ordinal_: int) -> list[tuple[str, dict]]:
    """getPersistentVolumeClaims: one claim per template, labelled with the set's selector labels."""
    claims = []
    match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    for template in sts["spec"].get("volumeClaimTemplates") or ():
        claim = copy.deepcopy(template)
        metadata = claim.setdefault("metadata", {})
        template_name = metadata.get("name", "")
        metadata["name"] = claim_name(template_name, sts, ordinal_)
        metadata["namespace"] = sts["metadata"]["namespace"]
        metadata["labels"] = {**(metadata.get("labels") or {}), **match_labels}
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            metadata.pop(key, None)
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim.pop("status", None)
        claims.append((template_name, claim))
    return claims


def new_pod(sts: dict, template: dict, ordinal_: int, revision: str) -> dict:
    """newStatefulSetPod with its identity (name, hostname, subdomain, labels) and storage, at ``revision``."""
    pod = pod_from_template(template, sts, owner_reference(sts))
    name = pod_name(sts, ordinal_)
    metadata = pod["metadata"]
    metadata.pop("generateName", None)
    metadata["name"] = name
    metadata["namespace"] = sts["metadata"]["namespace"]
    labels = metadata.setdefault("labels", {})
    labels[POD_NAME_LABEL] = name
    labels[POD_INDEX_LABEL] = str(ordinal_)
    labels[CONTROLLER_REVISION_HASH_LABEL] = revision
    spec = pod["spec"]
    spec["hostname"] = name
    if sts["spec"].get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    volumes = [v for v in spec.get("volumes") or () if v.get("name") not in
               {t for t, _ in claims_for(sts, ordinal_)}]
    for template_name, claim in claims_for(sts, ordinal_):
        volumes.append({"name": template_name, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}})
    if volumes:
        spec["volumes"] = volumes
    return pod


def new_versioned_pod(sts: dict, current_template: dict, current_revision: str, update_revision: str,
                      ordinal_: int) -> dict:
    """newVersionedStatefulSetPod: below the partition (or currentReplicas) the current revision, else the update."""
    strategy = sts["spec"].get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type", "RollingUpdate") == "RollingUpdate" and (
            (rolling is None and ordinal_ < ((sts.get("status") or {}).get("currentReplicas") or 0))
            or (rolling is not None and ordinal_ < (rolling.get("partition") or 0))):
        return new_pod(sts, current_template, ordinal_, current_revision)
    return new_pod(sts, sts["spec"]["template"], ordinal_, update_revision)


def is_running_and_ready(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    if not is_running_and_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = (pod_ready_condition(pod) or {}).get("lastTransitionTime")
    return since is not None and parse_timestamp(since) + min_ready_seconds <= now


def is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_failed(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Failed"


def is_healthy(pod: dict) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)
