"""The apiextensions controllers inside the API server: a stored CRD becomes a served resource.

The real apiextensions-apiserver runs, in kube-apiserver's process, a few
controllers over CustomResourceDefinitions; ours are the same three, on one
watch of the CRDs through the server's loopback identity (``system:apiserver``
in ``system:masters``, as kube-apiserver's loopback client):

- the NamingConditionController accepts the CRD's names unless another CRD
  of the same group already has them (``NamesAccepted``: ``NoConflicts`` /
  ``PluralConflict`` / ``KindConflict``) and writes ``status.acceptedNames``;
- the EstablishingController then marks it ``Established``
  (``InitialNamesAccepted``), and the API server starts serving the resource:
  discovery lists it, its storage and watch cache exist, clients may use it;
- the finalizer controller: deleting a CRD only marks it (the delete adds the
  ``customresourcecleanup.apiextensions.k8s.io`` finalizer); the controller
  sets ``Terminating`` (``InstanceDeletionInProgress``), deletes every object
  of the kind, looks again every 5 s until none is left, then sets
  ``InstanceDeletionCompleted`` and removes the finalizer, and the CRD goes.
  While it terminates, creating objects of the kind answers 405.

All writes go through ``APIServer.handle`` with the loopback token, so they are
authenticated, admitted, validated and audited like anyone's.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import timestamp
from engine.apiserver.apiextensions.kind import CLEANUP_FINALIZER, CustomResourceKind, kind_from_crd
from engine.apiserver.authn import UserInfo

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer

log = logging.getLogger(__name__)

LOOPBACK_USER = "system:apiserver"
CRDS = "customresourcedefinitions"
INSTANCE_CHECK_SECONDS = 5.0
"""How often the finalizer controller looks again for objects that are still going (``wait.Poll`` 5 s)."""


def set_condition(conditions: list[dict], type_: str, status: str, reason: str, message: str,
                  now: float) -> list[dict]:
    """``SetCRDCondition``: replace one condition, keeping its transition time when the status stays."""
    out, found = [], False
    for condition in conditions:
        if condition.get("type") == type_:
            found = True
            moved = condition.get("status") != status
            condition = {"type": type_, "status": status,
                         "lastTransitionTime": timestamp(now) if moved else condition.get("lastTransitionTime"),
                         "reason": reason, "message": message}
        out.append(condition)
    if not found:
        out.append({"type": type_, "status": status, "lastTransitionTime": timestamp(now), "reason": reason,
                    "message": message})
    return out


def accepted_names(crd: dict, others: list[dict]) -> tuple[dict, tuple[str, str, str]]:
    """The names a CRD may have given the other CRDs of its group, and its NamesAccepted condition."""
    spec = crd["spec"]
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    for other in others:
        other_spec = other.get("spec") or {}
        if other["metadata"]["name"] == crd["metadata"]["name"] or other_spec.get("group") != spec.get("group"):
            continue
        taken = (other.get("status") or {}).get("acceptedNames") or {}
        used = {taken.get("plural"), taken.get("singular"), *(taken.get("shortNames") or ())}
        if names.get("plural") in used:
            return {}, ("False", "PluralConflict", f'"{names["plural"]}" is already in use')
        if names.get("kind") in (taken.get("kind"), taken.get("listKind")):
            return {}, ("False", "KindConflict", f'"{names["kind"]}" is already in use')
    return names, ("True", "NoConflicts", "no conflicts found")


class CustomResourceDefinitions:
    """The CRD controllers of one API server, and the resources they made it serve."""

    def __init__(self, server: "APIServer") -> None:
        self.server = server
        self.token = secrets.token_hex(16)
        server.authenticator.static.add(self.token, UserInfo(LOOPBACK_USER, ("system:masters",)))
        self.served: dict[str, CustomResourceKind] = {}
        """CRD name -> the resource served for it."""
        self._checks: set[str] = set()
        self._watch: Any = None

    def start(self) -> None:
        from engine.apiserver.server import Request
        self._watch = self.server.watch(Request("watch", CRDS, token=self.token, params={"delay": 0.0}),
                                        self._on_event)

    def _request(self, verb: str, **fields: Any) -> Any:
        from engine.apiserver.server import Request
        return self.server.handle(Request(verb, CRDS, token=self.token, **fields))

    # -- events ---------------------------------------------------------------------------------
    def _on_event(self, event: dict) -> None:
        if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return
        crd = event["object"]
        name = crd["metadata"]["name"]
        if event["type"] == "DELETED":
            self._unserve(name)
            return
        if crd["metadata"].get("deletionTimestamp"):
            self._finalize(name)
            return
        self._accept(crd)

    # -- naming and establishing ----------------------------------------------------------------
    def _accept(self, crd: dict) -> None:
        others = self.server.cached_list(CRDS)
        names, (status, reason, message) = accepted_names(crd, others)
        now = self.server.loop.now
        old_status = crd.get("status") or {}
        conditions = [dict(c) for c in old_status.get("conditions") or ()]
        conditions = set_condition(conditions, "NamesAccepted", status, reason, message, now)
        if status == "True":
            conditions = set_condition(conditions, "Established", "True", "InitialNamesAccepted",
                                       "the initial names have been accepted", now)
        else:
            conditions = set_condition(conditions, "Established", "False", "NotAccepted",
                                       "not all names are accepted", now)
        storage = [v["name"] for v in (crd.get("spec") or {}).get("versions") or () if v.get("storage")]
        new_status = {"acceptedNames": names or thaw(old_status.get("acceptedNames") or {}),
                      "conditions": conditions,
                      "storedVersions": sorted(set(old_status.get("storedVersions") or ()) | set(storage))}
        if new_status != thaw(old_status):
            updated = thaw(crd)
            updated["status"] = new_status
            try:
                crd = self._request("update", name=crd["metadata"]["name"], subresource="status", body=updated)
            except errors.ApiError as error:     # a newer CRD is on its way: its event decides
                log.info("apiextensions: status of %s not written: %s", crd["metadata"]["name"], error)
                return
        if status == "True":
            self._serve(crd)

    def _serve(self, crd: dict, *, terminating: bool = False) -> None:
        kind = kind_from_crd(crd, terminating=terminating)
        name = crd["metadata"]["name"]
        if kind is None:
            self._unserve(name)
            return
        self.served[name] = kind
        self.server.serve_kind(kind)

    def _unserve(self, name: str) -> None:
        kind = self.served.pop(name, None)
        if kind is not None:
            self.server.unserve_kind(kind)

    # -- the customresourcecleanup finalizer ------------------------------------------------------
    def _finalize(self, name: str) -> None:
        crd = self.server.cached(CRDS, None, name)
        if crd is None or CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
            return
        kind = self.served.get(name)
        if kind is not None and not kind.terminating:
            self._serve(crd, terminating=True)
            kind = self.served.get(name)
        self._write_terminating(crd, "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress")
        if kind is not None and self._delete_instances(kind):
            if name not in self._checks:
                self._checks.add(name)
                self.server.loop.call_later(INSTANCE_CHECK_SECONDS, self._check_again, name,
                                            label=f"apiextensions finalizer {name}")
            return
        crd = self.server.cached(CRDS, None, name)
        if crd is None:
            return
        crd = self._write_terminating(crd, "False", "InstanceDeletionCompleted", "removed all instances")
        updated = thaw(crd)
        updated["metadata"]["finalizers"] = [f for f in updated["metadata"].get("finalizers") or ()
                                             if f != CLEANUP_FINALIZER]
        try:
            self._request("update", name=name, body=updated)
        except errors.ApiError as error:
            log.info("apiextensions: finalizer of %s not removed: %s", name, error)

    def _check_again(self, name: str) -> None:
        self._checks.discard(name)
        self._finalize(name)

    def _write_terminating(self, crd: dict, status: str, reason: str, message: str) -> dict:
        conditions = [dict(c) for c in (crd.get("status") or {}).get("conditions") or ()]
        conditions = set_condition(conditions, "Terminating", status, reason, message, self.server.loop.now)
        if conditions == list((crd.get("status") or {}).get("conditions") or ()):
            return crd
        updated = thaw(crd)
        updated.setdefault("status", {})["conditions"] = conditions
        try:
            return self._request("update", name=crd["metadata"]["name"], subresource="status", body=updated)
        except errors.ApiError as error:
            log.info("apiextensions: status of %s not written: %s", crd["metadata"]["name"], error)
            return crd

    def _delete_instances(self, kind: CustomResourceKind) -> int:
        """Delete every object of the kind; return how many are still there (held by finalizers)."""
        from engine.apiserver.server import Request
        listing = self.server.handle(Request("list", kind.plural, group=kind.group, token=self.token))
        for item in listing["items"]:
            metadata = item["metadata"]
            if metadata.get("deletionTimestamp"):
                continue
            try:
                self.server.handle(Request("delete", kind.plural, metadata.get("namespace"), metadata["name"],
                                           group=kind.group, token=self.token))
            except errors.NotFound:
                continue
        return len(self.server.handle(Request("list", kind.plural, group=kind.group, token=self.token))["items"])
