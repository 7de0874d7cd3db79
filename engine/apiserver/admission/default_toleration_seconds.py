"""DefaultTolerationSeconds admission: every pod tolerates an unhealthy node for 300 s.

This is why a pod on a failed node is evicted five minutes after the node
turns NotReady or Unreachable: the node lifecycle controller taints the node
``NoExecute``, and these default tolerations let the pod stay for
``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds``.
"""

from __future__ import annotations

from engine import flags
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def _tolerates(tolerations: list[dict], key: str) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect", "")
        if effect not in ("", "NoExecute"):
            continue
        if toleration.get("key", "") in ("", key) and (
                toleration.get("operator") == "Exists" or toleration.get("key") == key):
            return True
    return False


class DefaultTolerationSeconds(Plugin):
    name = "DefaultTolerationSeconds"

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "Pod" or attrs.operation != "CREATE" or attrs.subresource:
            return
        spec = attrs.object.setdefault("spec", {})
        tolerations = spec.setdefault("tolerations", [])
        for key, seconds in ((NOT_READY, flags.default_not_ready_toleration_seconds),
                             (UNREACHABLE, flags.default_unreachable_toleration_seconds)):
            if not _tolerates(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": seconds})
