"""DefaultTolerationSeconds admission: every pod tolerates an unhealthy node for 300 s.

This is why a pod on a failed node is evicted five minutes after the node
turns NotReady or Unreachable: the node lifecycle controller taints the node
``NoExecute``, and these default tolerations let the pod stay for
``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds``.
A pod that already tolerates the taint (same key or any key, effect
``NoExecute`` or any effect) is left as it is, as the real plugin does.
"""

from __future__ import annotations

from engine import flags
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def add_default_tolerations(pod: dict, not_ready_seconds: int = flags.default_not_ready_toleration_seconds,
                            unreachable_seconds: int = flags.default_unreachable_toleration_seconds) -> None:
    spec = pod.setdefault("spec", {})
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    tolerated = {NOT_READY: False, UNREACHABLE: False}
    for toleration in tolerations:
        if not isinstance(toleration, dict):
            continue
        for key in tolerated:
            if toleration.get("key", "") in (key, "") and toleration.get("effect", "") in ("NoExecute", ""):
                tolerated[key] = True
    added = [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
             for key, seconds in ((NOT_READY, not_ready_seconds), (UNREACHABLE, unreachable_seconds))
             if not tolerated[key]]
    if added:
        spec["tolerations"] = tolerations + added


class DefaultTolerationSeconds(Plugin):
    name = "DefaultTolerationSeconds"
    admits = frozenset({"Pod"})

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind == "Pod" and attrs.operation == "CREATE" and not attrs.subresource:
            add_default_tolerations(attrs.object)
