"""kube-apiserver: the one door to cluster state, and the request pipeline behind it.

Every component, every ``kubectl`` command and every notebook cell reaches
the cluster through ``APIServer.handle`` (or ``watch``), and every request
passes the same stages as in the real server, in this order:

1. authentication: the bearer token names a user and groups (401 if bad);
2. authorization: RBAC allows the verb on the resource, or 403;
3. decoding and defaulting (``engine.api.defaults``);
4. mutating admission (LimitRanger, ServiceAccount, DefaultTolerationSeconds);
5. for Roles, ClusterRoles and their bindings, privilege-escalation
   prevention (``escalation``): 403 if the write grants what the user lacks;
6. validation (422 with the field paths);
7. validating admission (NamespaceLifecycle, ResourceQuota);
8. storage in etcd with optimistic concurrency (409 on a stale
   resourceVersion), finalizers and graceful deletion;
9. watch fan-out through the watch cache.

Every request, allowed or not, is written to the audit log. Only this
module (through ``storage``) writes to the store: no component may.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from engine import flags
from engine.api import errors
from engine.api.defaults import apply_defaults
from engine.api.frozen import FrozenDict, FrozenList, thaw
from engine.api.kinds import REGISTRY, Kind, KindRegistry
from engine.api.meta import new_uid, random_suffix, timestamp
from engine.api.schema import knows, thaw_known, type_of
from engine.api import selectors
from engine.api.validation import validate
from engine.apiserver import strategy
from engine.apiserver.admission import AdmissionChain, Attributes, default_chain
from engine.apiserver import apiextensions
from engine.apiserver.apiextensions import schema as custom_schema
from engine.apiserver.apiextensions.controller import CustomResourceDefinitions
from engine.apiserver.allocators import ServiceAllocator
from engine.apiserver.audit import AuditLog, RowLog
from engine.apiserver.authn import DEFAULT_EXPIRATION_SECONDS, Authenticator, UserInfo
from engine.apiserver.escalation import PRIVILEGED_GROUP, confirm_no_escalation
from engine.apiserver.eviction import evict
from engine.apiserver.fieldvalidation import prune_unknown
from engine.apiserver.patch import apply_patch
from engine.apiserver.rbac import Attributes as AuthzAttributes
from engine.apiserver.rbac import RBACAuthorizer, forbidden_error
from engine.apiserver.storage import ResourceStorage
from engine.apiserver.watchcache import CacheWatcher, Cacher
from engine.sim.loop import Loop
from engine.store.types import CompactedError, Store, prefix_end

_ADDED_ON_DECODE = ("apiVersion", "kind", "metadata")
GENERATE_NAME_ATTEMPTS = 8
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


class WatchDelivery(NamedTuple):
    """One watch event handed to one watcher: when, to whom, what. ``APIServer.deliveries`` keeps each as a plain
    tuple (one per event per watcher) and hands it out as this named tuple (see ``RowLog``)."""

    time: float
    user: str
    resource: str
    type: str
    namespace: str | None
    name: str | None
    revision: int


class Deliveries(RowLog):
    """The watch deliveries, newest last: ``WatchDelivery`` rows (kept as plain tuples, see ``RowLog``)."""

    __slots__ = ()
    row = WatchDelivery


@dataclass(slots=True)
class Request:
    """One API request, as the HTTP front or an in-process client makes it."""

    verb: str                                   # get list watch create update patch delete deletecollection
    resource: str                               # plural (or any name kubectl accepts)
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    group: str | None = None
    patch_type: str | None = None
    shared: bool = False
    """The caller accepts frozen, shared objects (informers): saves a copy per object."""
    warnings: list[str] = field(default_factory=list)
    """Warnings for the caller (unknown fields dropped under ``fieldValidation=Warn``), filled while serving."""


class APIServer:
    """The API server of one cluster, over one store and one simulation loop."""

    def __init__(self, store: Store, loop: Loop, *, authenticator: Authenticator,
                 admission: AdmissionChain | None = None, registry: KindRegistry = REGISTRY,
                 watch_delay: float = flags.watch_delay, audit_capacity: int = 100_000) -> None:
        self.store = store
        self.loop = loop
        self.registry = KindRegistry(list(registry))
        """This server's own copy: CustomResourceDefinitions add kinds to it, never to another server's."""
        self.authenticator = authenticator
        self.admission = admission if admission is not None else default_chain()
        self.watch_delay = watch_delay
        self.audit = AuditLog(audit_capacity)
        self.deliveries = Deliveries(maxlen=audit_capacity)
        """Watch events as delivered to each watcher, newest last (for request traces)."""
        self.cachers: dict[Kind, Cacher] = {}
        self.storages: dict[Kind, ResourceStorage] = {}
        for kind in registry:
            self._install(kind)
        self.rule_resolver = RBACAuthorizer(_CacheRules(self))
        """The RBAC rules a user holds, for privilege-escalation prevention (upstream's ruleResolver): always
        RBAC's, whatever authorizer is plugged in as ``authorizer``."""
        self.authorizer: Any = self.rule_resolver
        self.services = ServiceAllocator(loop.random)
        self.services.rebuild(self.cached_list("services"))
        self.connect_handlers: dict[tuple[str, str], Callable[[Request, dict], Any]] = {}
        self.custom_resources = CustomResourceDefinitions(self)
        self.custom_resources.start()
        self.aggregator: Any = None
        """The aggregation layer (``engine.apiserver.aggregator``) once the cluster can reach Services."""
        self.proxy_handlers: dict[str, Callable[[Request], Any]] = {}
        """``services/proxy`` and ``pods/proxy`` (``engine.apiserver.proxy``), by resource."""

    def _install(self, kind: Kind) -> None:
        cacher = Cacher(kind, self.store, self.loop)
        self.cachers[kind] = cacher
        self.storages[kind] = ResourceStorage(kind, self.store, cacher, self.loop)

    def serve_kind(self, kind: Kind) -> None:
        """Serve a resource a CRD defines (or its new definition): registry, storage, watch cache."""
        old = self.registry.find(f"{kind.plural}.{kind.group}")
        if old is not None and old.group == kind.group and old.plural == kind.plural:
            self.registry.unregister(old)
            cacher, storage = self.cachers.pop(old), self.storages.pop(old)
            cacher.kind = storage.kind = kind
            self.cachers[kind], self.storages[kind] = cacher, storage
        else:
            self._install(kind)
        self.registry.register(kind)

    def unserve_kind(self, kind: Kind) -> None:
        """Stop serving a CRD's resource: its watches end and its name is unknown again."""
        self.registry.unregister(kind)
        cacher = self.cachers.pop(kind, None)
        self.storages.pop(kind, None)
        if cacher is not None:
            cacher.stop()

    # -- read access for admission plugins and the authorizer -----------------
    @property
    def now(self) -> float:
        return self.loop.now

    @property
    def random(self) -> random.Random:
        return self.loop.random

    def cached(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """The current object from the watch cache (frozen), or None."""
        return self.storages[self.registry.lookup(kind)].get(namespace, name)

    def cached_list(self, kind: str, namespace: str | None = None) -> list[dict]:
        resolved = self.registry.lookup(kind)
        return self.cachers[resolved].list(resolved.namespace_prefix(namespace))

    def register_proxy(self, resource: str, handler: Callable[[Request], Any]) -> None:
        """Serve ``<resource>/proxy``: ``handler(request)`` locates the backend itself (``scheme:name:port``)."""
        self.proxy_handlers[resource] = handler

    def register_connect(self, resource: str, subresource: str, handler: Callable[[Request, dict], Any]) -> None:
        """Let a component serve a connect-style subresource (``pods/log``) through the API server."""
        self.connect_handlers[(resource, subresource)] = handler

    # -- the pipeline ---------------------------------------------------------
    def handle(self, request: Request) -> Any:
        """Serve one request; returns the response object or raises ``ApiError``."""
        user: UserInfo | None = None
        kind: Kind | None = None
        code = 200
        result: Any = None
        try:
            user = self.authenticator.authenticate(request.token)
            kind = self._resolve(request)
            self._authorize(user, kind, request)
            if request.subresource == "proxy" and kind.plural in self.proxy_handlers:
                result = self.proxy_handlers[kind.plural](request)
                return result
            handler = getattr(self, f"_{request.verb}", None)
            if handler is None or request.verb == "watch":
                raise errors.method_not_allowed(request.verb, kind.plural, kind.group)
            if self.aggregator is not None and self.aggregator.serves(kind):
                result = self.aggregator.proxy(kind, request)
                return result
            result = handler(kind, request, user)
            code = 201 if request.verb == "create" else 200
            return result
        except errors.ApiError as error:
            code = error.code
            raise
        finally:
            self._audit(request, user, kind, code, result)

    def watch(self, request: Request, handler: Callable[[dict], None]) -> CacheWatcher:
        """Start a watch; ``handler`` receives ``{"type", "object"}`` events on the loop."""
        user: UserInfo | None = None
        kind: Kind | None = None
        code = 200
        try:
            user = self.authenticator.authenticate(request.token)
            kind = self._resolve(request)
            self._authorize(user, kind, request)
            params = request.params
            matcher = self._matcher(kind, params)
            cacher = self.cachers[kind]
            prefix = kind.namespace_prefix(request.namespace)
            if request.name:
                matcher = _only_named(request.name, matcher)
            resource_version = params.get("resourceVersion")
            return cacher.watch(prefix, matcher, handler, resource_version=resource_version,
                                delay=float(params.get("delay", self.watch_delay)),
                                bookmarks=bool(params.get("allowWatchBookmarks")),
                                observer=self._delivery_recorder(user.name, kind))
        except errors.ApiError as error:
            code = error.code
            raise
        finally:
            self._audit(request, user, kind, code)

    def _delivery_recorder(self, user: str, kind: Kind) -> Callable[[dict], None]:
        """Remember each watch event handed to ``user``: with the audit log, it traces a request's effects."""
        def record(event: dict) -> None:
            metadata = event["object"].get("metadata") or {}
            self.deliveries.append((self.loop.now, user, kind.plural, event["type"], metadata.get("namespace"),
                                    metadata.get("name"), int(metadata.get("resourceVersion") or 0)))
        return record

    def _resolve(self, request: Request) -> Kind:
        if request.group is not None:
            kind = self.registry.by_resource(request.group, request.resource)
        else:
            kind = self.registry.find(request.resource)
        if kind is None:
            raise errors.NotFound("the server could not find the requested resource")
        return kind

    def _authorize(self, user: UserInfo, kind: Kind, request: Request) -> None:
        if PRIVILEGED_GROUP in user.groups:
            return
        name = request.name or ""
        if request.verb == "create" and not request.subresource:
            name = ""
        recall = getattr(self.authorizer, "remembered", None)      # an authorizer that remembers its decisions
        remembered = recall(user, request.verb, request.namespace or "", kind.group, kind.plural,
                            request.subresource or "", name) if recall is not None else None
        if remembered is not None and remembered.allowed:
            return
        attrs = AuthzAttributes(user=user, verb=request.verb, namespace=request.namespace or "",
                                api_group=kind.group, resource=kind.plural,
                                subresource=request.subresource or "", name=name, path="",
                                resource_request=True)
        decision = self.authorizer.authorize(attrs)
        if not decision.allowed:
            raise forbidden_error(attrs, decision.reason)

    def _audit(self, request: Request, user: UserInfo | None, kind: Kind | None, code: int,
               result: Any = None) -> None:
        """One audit entry; a write names the object it stored and the resourceVersion it got."""
        name, version = request.name, None
        body = request.body if isinstance(request.body, dict) else {}
        if name is None and request.verb == "create" and code not in (401, 403) and \
                isinstance(body.get("metadata"), dict):
            # LogRequestObject: the create handler names its object once decoded (authn/authz refuse before that)
            name = body["metadata"].get("name") or None
        metadata = result.get("metadata") if isinstance(result, dict) and request.verb in WRITE_VERBS else None
        if isinstance(metadata, dict) and result.get("kind") not in ("Status", None) and \
                not result["kind"].endswith("List"):
            name = name or metadata.get("name")
            version = metadata.get("resourceVersion")
        self.audit.record(self.loop.now, user.name if user else "", tuple(user.groups) if user else (), request.verb,
                          kind.plural if kind else request.resource,
                          kind.group if kind else (request.group or ""), request.namespace, name,
                          request.subresource, code, self.store.revision, version)

    def _matcher(self, kind: Kind, params: dict[str, Any]) -> Callable[[dict], bool] | None:
        labels = params.get("labelSelector") or ""
        fields = params.get("fieldSelector") or ""
        try:
            label_match = _label_matcher(labels) if labels else None
            field_match = _field_matcher(fields, kind) if fields else None
        except ValueError as error:
            raise errors.bad_request(str(error)) from None
        if label_match and field_match:
            return lambda obj: label_match(obj) and field_match(obj)
        return label_match or field_match

    # -- verbs ----------------------------------------------------------------
    def _out(self, obj: dict, request: Request) -> dict:
        return obj if request.shared else thaw(obj)

    def _get(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        storage = self.storages[kind]
        current = storage.require(request.namespace, request.name or "")
        if request.subresource == "scale":
            return self._scale_of(kind, current)
        if request.subresource in (None, "", "status"):
            return self._out(current, request)
        return self._connect(kind, request, current)

    def _connect(self, kind: Kind, request: Request, current: dict) -> Any:
        handler = self.connect_handlers.get((kind.plural, request.subresource or ""))
        if handler is None:
            raise errors.NotFound(f"the server could not find the requested resource ( {kind.plural} "
                                  f"{request.subresource})")
        return handler(request, current)

    def _list(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        params = request.params
        matcher = self._matcher(kind, params)
        prefix = kind.namespace_prefix(request.namespace)
        limit = int(params.get("limit") or 0)
        token = params.get("continue")
        cacher = self.cachers[kind]
        metadata: dict[str, Any] = {}
        if not limit and not token:
            cacher.resync_revision()
            items = cacher.list(prefix, matcher)
            revision = cacher.revision
        else:
            items, revision, next_token, remaining = self._list_page(kind, prefix, matcher, limit, token)
            if next_token:
                metadata["continue"] = next_token
                if matcher is None:
                    metadata["remainingItemCount"] = remaining
        metadata["resourceVersion"] = str(revision)
        out = items if request.shared else [thaw(item) for item in items]
        return {"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": metadata, "items": out}

    def _list_page(self, kind: Kind, prefix: str, matcher: Callable[[dict], bool] | None, limit: int,
                   token: str | None) -> tuple[list[dict], int, str | None, int]:
        """One page of a paginated list, read from etcd at the first page's revision."""
        from engine.apiserver.watchcache import decode
        start, revision = prefix, 0
        if token:
            try:
                state = json.loads(base64.b64decode(token))
                start, revision = state["start"], int(state["rv"])
            except (ValueError, KeyError, TypeError):
                raise errors.bad_request("continue key is not valid: illegal base64 data") from None
            if not start.startswith(prefix):
                raise errors.bad_request("continue key is not valid: key is not under the requested prefix")
        end = prefix_end(prefix)
        items: list[dict] = []
        while True:
            try:
                page = self.store.range(start, end, revision=revision, limit=limit + 1 if limit else 0)
            except CompactedError:
                raise errors.gone("The provided continue parameter is too old to display a consistent list "
                                  "result. You can start a new list without the continue parameter.") from None
            revision = revision or page.revision
            last_key = None
            for kv in page.kvs:
                if limit and len(items) == limit:
                    break
                last_key = kv.key
                obj = decode(kv)
                if matcher is None or matcher(obj):
                    items.append(obj)
            if limit and len(items) == limit:
                more = last_key is not None and self.store.range(last_key + "\0", end, revision=revision,
                                                                 count_only=True).count > 0
                if not more:
                    return items, revision, None, 0
                remaining = self.store.range(last_key + "\0", end, revision=revision, count_only=True).count
                next_token = base64.b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": revision,
                                                          "start": last_key + "\0"}).encode()).decode()
                return items, revision, next_token, remaining
            if not page.more or last_key is None:
                return items, revision, None, 0
            start = last_key + "\0"

    # create ------------------------------------------------------------------
    def _create(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        subresource = request.subresource
        if subresource:
            if subresource == "binding" and kind.kind == "Pod":
                return self._bind(request)
            if subresource == "token" and kind.kind == "ServiceAccount":
                return self._token_request(request)
            if subresource == "eviction" and kind.kind == "Pod":
                return evict(self, kind, request, user)
            if (kind.plural, subresource) in self.connect_handlers:
                return self._connect(kind, request, self.storages[kind].require(request.namespace, request.name or ""))
            raise errors.method_not_allowed("create", f"{kind.plural}/{subresource}", kind.group)
        if isinstance(kind, apiextensions.CustomResourceKind) and kind.terminating:
            raise errors.method_not_allowed("create", kind.plural, kind.group)
        obj = self._decode(kind, request)
        metadata = obj["metadata"]
        apply_defaults(obj)
        apiextensions.apply_defaults(kind, obj)
        attempts = GENERATE_NAME_ATTEMPTS if not metadata.get("name") and metadata.get("generateName") else 1
        for attempt in range(attempts):
            candidate = thaw(obj) if attempts > 1 else obj
            candidate_meta = candidate["metadata"]
            if not candidate_meta.get("name") and candidate_meta.get("generateName"):
                candidate_meta["name"] = candidate_meta["generateName"] + random_suffix(self.loop.random)
            name = candidate_meta.get("name", "")
            attrs = Attributes("CREATE", kind, request.namespace, name, None, candidate, None, user,
                               dry_run=bool(request.params.get("dryRun")))
            self.admission.admit(attrs, self)
            confirm_no_escalation(self.authorizer, self.rule_resolver, kind, candidate, None, user,
                                  request.namespace or "")
            candidate_meta["uid"] = new_uid(self.loop.random)
            candidate_meta["creationTimestamp"] = timestamp(self.loop.now)
            for system_field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                candidate_meta.pop(system_field, None)
            strategy.prepare_for_create(kind, candidate)
            self._check(kind, candidate, None)
            self.admission.validate(attrs, self)
            if attrs.dry_run:
                return candidate
            released = self._allocate(kind, candidate)
            try:
                return self.storages[kind].create(candidate)
            except errors.AlreadyExists:
                released()
                if attempt + 1 == attempts:
                    raise
            except BaseException:
                released()
                raise
        raise AssertionError("unreachable")

    def _decode(self, kind: Kind, request: Request) -> dict:
        body = request.body
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format - accepted media types "
                                     "include: application/json, application/yaml")
        root = None if isinstance(kind, apiextensions.CustomResourceKind) else type_of(kind.api_version, kind.kind)
        if root is not None:        # the copy, and whether it has unknown fields, in one walk
            obj, unknown = thaw_known(body, root)
        else:
            obj, unknown = thaw(body), True
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        if obj["kind"] != kind.kind or obj["apiVersion"] != kind.api_version:
            raise errors.bad_request(f"the API version in the data ({obj['apiVersion']}) does not match the "
                                     f"expected API version ({kind.api_version}) or kind {obj['kind']} is not "
                                     f"{kind.kind}")
        metadata = obj.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise errors.bad_request("metadata must be an object")
        known = not unknown and knows(root, _ADDED_ON_DECODE)      # what setdefault added is known too
        request.warnings += prune_unknown(kind, request.verb, request.params, obj, known=known)
        if kind.namespaced:
            namespace = request.namespace or metadata.get("namespace") or "default"
            if metadata.get("namespace") and metadata["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            metadata["namespace"] = namespace
            request.namespace = namespace
        else:
            metadata.pop("namespace", None)
        if request.name and metadata.get("name") and metadata["name"] != request.name:
            raise errors.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                     % (metadata["name"], request.name))
        return obj

    def _check(self, kind: Kind, obj: dict, old: dict | None) -> None:
        causes = validate(obj, old)
        if isinstance(kind, apiextensions.CustomResourceKind):
            causes += custom_schema.validate(kind.schema, obj)
        if causes:
            raise errors.invalid(kind.kind, obj["metadata"].get("name", ""), causes, kind.group)

    def _token_request(self, request: Request) -> dict:
        """POST serviceaccounts/<name>/token (TokenRequest): a signed token for that account."""
        tokens = self.authenticator.service_accounts
        account = self.storages[self.registry.lookup("serviceaccounts")].require(request.namespace, request.name or "")
        if tokens is None:
            raise errors.ApiError("the TokenRequest API is not enabled on this server")
        body = request.body if isinstance(request.body, dict) else {}
        spec = {key: value for key, value in (body.get("spec") or {}).items() if value is not None}
        spec.setdefault("expirationSeconds", DEFAULT_EXPIRATION_SECONDS)
        audiences = tuple(spec.get("audiences") or ()) or None
        token = tokens.issue(request.namespace or "", account["metadata"]["name"], account["metadata"]["uid"],
                             expiration_seconds=int(spec["expirationSeconds"]), audiences=audiences)
        spec["audiences"] = list(audiences or tokens.audiences)
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "metadata": {"name": account["metadata"]["name"], "namespace": request.namespace,
                             "creationTimestamp": timestamp(self.loop.now)},
                "spec": spec,
                "status": {"token": token,
                           "expirationTimestamp": timestamp(self.loop.now + int(spec["expirationSeconds"]))}}

    def _bind(self, request: Request) -> dict:
        """POST pods/<name>/binding: the scheduler's decision, written as spec.nodeName."""
        body = request.body or {}
        target = (body.get("target") or {}).get("name")
        name = request.name or body.get("metadata", {}).get("name")
        if not target:
            raise errors.invalid("Binding", name or "", [{"reason": "FieldValueRequired", "field": "target.name",
                                                          "message": "Required value"}])
        storage = self.storages[self.registry.lookup("pods")]
        current = storage.require(request.namespace, name)
        if current["spec"].get("nodeName"):
            raise errors.conflict("pods/binding", name,
                                  f'pod {name} is already assigned to node "{current["spec"]["nodeName"]}"')
        if current["metadata"].get("deletionTimestamp"):
            raise errors.conflict("pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")
        scheduled = {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": timestamp(self.loop.now)}
        revision = int(current["metadata"]["resourceVersion"])
        bound = _bound_copy(current, target, scheduled)
        if bound is not None:
            storage.update_frozen(bound, revision, previous=current, added=("spec", "nodeName"))
        else:
            pod = thaw(current)
            pod["spec"]["nodeName"] = target
            conditions = [c for c in pod.setdefault("status", {}).get("conditions", []) if c["type"] != "PodScheduled"]
            conditions.append(scheduled)
            pod["status"]["conditions"] = conditions
            storage.update(pod, revision)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    # update ------------------------------------------------------------------
    def _update(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        if request.subresource == "scale":
            if not isinstance(request.body, dict):
                raise errors.bad_request("the body of the request must be a Scale object")
            return self._write_update(kind, request, user, thaw(request.body))
        obj = self._decode(kind, request)
        return self._write_update(kind, request, user, obj)

    def _write_update(self, kind: Kind, request: Request, user: UserInfo, obj: dict) -> dict:
        storage = self.storages[kind]
        name = request.name or obj["metadata"].get("name", "")
        obj["metadata"]["name"] = name
        current = storage.require(request.namespace, name)
        current_revision = int(current["metadata"]["resourceVersion"])
        wanted = obj["metadata"].get("resourceVersion")
        if wanted not in (None, "") and str(wanted) != str(current_revision):
            raise errors.conflict(kind.plural, name, errors.STALE_OBJECT, kind.group)
        subresource = request.subresource or None
        if subresource == "scale":
            return self._update_scale(kind, request, user, current, obj)
        if subresource == "status":
            new = strategy.prepare_for_status_update(kind, obj, current)
        elif subresource == "finalize" and kind.kind == "Namespace":
            new = thaw(current)
            new["spec"]["finalizers"] = list((obj.get("spec") or {}).get("finalizers") or [])
        elif subresource:
            raise errors.method_not_allowed("update", f"{kind.plural}/{subresource}", kind.group)
        else:
            new = obj
            metadata, old_meta = new["metadata"], current["metadata"]
            for system_field in ("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if system_field in old_meta:
                    metadata[system_field] = old_meta[system_field]
                else:
                    metadata.pop(system_field, None)
            metadata.setdefault("uid", old_meta.get("uid"))
            apply_defaults(new)
            apiextensions.apply_defaults(kind, new)
            strategy.prepare_for_update(kind, new, current)
        attrs = Attributes("UPDATE", kind, request.namespace, name, subresource, new, current, user,
                           dry_run=bool(request.params.get("dryRun")))
        self.admission.admit(attrs, self)
        if not subresource:
            confirm_no_escalation(self.authorizer, self.rule_resolver, kind, new, current, user,
                                  request.namespace or "")
        self._check(kind, new, current)
        self._check_finalizers(kind, new, current)
        self.admission.validate(attrs, self)
        new["metadata"]["resourceVersion"] = str(current_revision)
        if attrs.dry_run:
            return new
        if self._being_finalized(new, current):
            self._release(kind, new)
            return storage.remove(new, current_revision)
        undo = self.services.allocate_update(new, current) if kind.kind == "Service" and not subresource \
            else (lambda: None)
        if new == thaw(current):
            return self._out(current, request)
        try:
            stored = storage.update(new, current_revision)
        except BaseException:
            undo()
            raise
        if kind.kind == "Service" and not subresource:
            self.services.release_unused(stored, current)
        return stored

    def _check_finalizers(self, kind: Kind, new: dict, old: dict) -> None:
        if not old["metadata"].get("deletionTimestamp"):
            return
        before = set(old["metadata"].get("finalizers") or [])
        added = [f for f in new["metadata"].get("finalizers") or [] if f not in before]
        if added:
            quoted = ", ".join(f'"{f}"' for f in added)
            raise errors.invalid(kind.kind, new["metadata"]["name"], [{
                "reason": "FieldValueForbidden", "field": "metadata.finalizers",
                "message": f"Forbidden: no new finalizers can be added if the object is being deleted, "
                           f"found new finalizers []string{{{quoted}}}"}], kind.group)

    @staticmethod
    def _being_finalized(new: dict, old: dict) -> bool:
        """An update that removes the last finalizer of an object already deleted gracefully ends it."""
        old_meta = old["metadata"]
        if old.get("kind") == "Namespace" and (new.get("spec") or {}).get("finalizers"):
            return False        # a namespace also waits for spec.finalizers (the namespace controller's)
        return (bool(old_meta.get("deletionTimestamp")) and not new["metadata"].get("finalizers")
                and old_meta.get("deletionGracePeriodSeconds") == 0)

    def _scale_of(self, kind: Kind, obj: dict) -> dict:
        if "scale" not in kind.subresources:
            raise errors.NotFound("the server could not find the requested resource")
        if isinstance(kind, apiextensions.CustomResourceKind):
            return apiextensions.scale_of(kind, obj)
        metadata = obj["metadata"]
        selector = (obj.get("spec") or {}).get("selector") or {}
        if kind.kind == "ReplicationController":      # core/v1's selector is a plain label map
            selector = {"matchLabels": selector} if selector else {}
        status = {"replicas": (obj.get("status") or {}).get("replicas", 0)}
        if selector:
            status["selector"] = selectors.format_label_selector(selector)
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                             "creationTimestamp") if key in metadata},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)}, "status": status}

    def _update_scale(self, kind: Kind, request: Request, user: UserInfo, current: dict, scale: dict) -> dict:
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", current["metadata"]["name"], [{
                "reason": "FieldValueInvalid", "field": "spec.replicas",
                "message": f"Invalid value: {replicas}: must be greater than or equal to 0"}], "autoscaling")
        new = thaw(current)
        if isinstance(kind, apiextensions.CustomResourceKind):
            apiextensions.set_path(new, (kind.scale or {}).get("specReplicasPath", ".spec.replicas"), replicas)
        else:
            new["spec"]["replicas"] = replicas
        main = Request("update", kind.plural, request.namespace, current["metadata"]["name"], None, new,
                       token=request.token, params=request.params)
        updated = self._write_update(kind, main, user, new)
        return self._scale_of(kind, updated)

    # patch -------------------------------------------------------------------
    def _patch(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        storage = self.storages[kind]
        current = storage.require(request.namespace, request.name or "")
        base = self._scale_of(kind, current) if request.subresource == "scale" else thaw(current)
        patched = apply_patch(base, request.body, request.patch_type or "application/merge-patch+json", kind.kind)
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch must produce an object")
        if not _patch_sets_version(request.body):
            patched.setdefault("metadata", {}).pop("resourceVersion", None)
        if request.subresource != "scale":
            patched["kind"], patched["apiVersion"] = kind.kind, kind.api_version
            request.warnings += prune_unknown(kind, "patch", request.params, patched)
        return self._write_update(kind, request, user, patched)

    # delete ------------------------------------------------------------------
    def delete_for_eviction(self, kind: Kind, request: Request, user: UserInfo, options: dict) -> dict:
        """The delete an allowed eviction ends with: the user needs ``create pods/eviction``, not ``delete``."""
        delete = Request("delete", kind.plural, request.namespace, request.name, None, options, token=request.token)
        return self._delete(kind, delete, user)

    def _delete(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        storage = self.storages[kind]
        current = storage.require(request.namespace, request.name or "")
        options = dict(request.body or {})
        options.update({key: value for key, value in request.params.items()
                        if key in ("propagationPolicy", "gracePeriodSeconds", "dryRun")})
        preconditions = options.get("preconditions") or {}
        metadata = current["metadata"]
        if preconditions.get("uid") and preconditions["uid"] != metadata.get("uid"):
            raise errors.conflict(kind.plural, metadata["name"],
                                  f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                                  f"UID in object meta: {metadata.get('uid')}", kind.group)
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != metadata["resourceVersion"]:
            raise errors.conflict(kind.plural, metadata["name"],
                                  f"Precondition failed: ResourceVersion in precondition: "
                                  f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                                  f"{metadata['resourceVersion']}", kind.group)
        attrs = Attributes("DELETE", kind, request.namespace, metadata["name"], None, None, current, user,
                           dry_run=bool(options.get("dryRun")))
        self.admission.admit(attrs, self)
        self.admission.validate(attrs, self)
        if attrs.dry_run:
            return thaw(current)
        obj = thaw(current)
        revision = int(metadata["resourceVersion"])
        finalizers = list(obj["metadata"].get("finalizers") or [])
        policy = options.get("propagationPolicy")
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if kind.group == "apiextensions.k8s.io" and apiextensions.CLEANUP_FINALIZER not in finalizers:
            finalizers.append(apiextensions.CLEANUP_FINALIZER)     # the CRD waits for its objects to go
        grace = self._grace_period(kind, obj, options.get("gracePeriodSeconds"))
        # A namespace with spec.finalizers turns Terminating; the namespace controller empties it.
        namespace_finalizing = kind.kind == "Namespace" and bool((obj.get("spec") or {}).get("finalizers"))
        if namespace_finalizing:
            if metadata.get("deletionTimestamp"):
                return thaw(current)
            obj.setdefault("status", {})["phase"] = "Terminating"
        elif not finalizers and not grace:
            self._release(kind, obj)
            return storage.remove(obj, revision)
        old_grace = metadata.get("deletionGracePeriodSeconds")
        if metadata.get("deletionTimestamp") and old_grace is not None and grace >= old_grace \
                and finalizers == list(metadata.get("finalizers") or []):
            return thaw(current)
        obj["metadata"]["finalizers"] = finalizers
        obj["metadata"]["deletionTimestamp"] = timestamp(self.loop.now + grace)
        obj["metadata"]["deletionGracePeriodSeconds"] = grace
        if "generation" in obj["metadata"]:
            obj["metadata"]["generation"] += 1
        return storage.update(obj, revision)

    @staticmethod
    def _grace_period(kind: Kind, obj: dict, requested: Any) -> int:
        """Graceful deletion applies to pods that are scheduled and not finished (pod strategy)."""
        if kind.kind != "Pod":
            return 0
        spec, phase = obj.get("spec") or {}, (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        grace = spec.get("terminationGracePeriodSeconds", 30) if requested in (None, "") else int(requested)
        return max(0, int(grace))

    def _allocate(self, kind: Kind, obj: dict) -> Callable[[], None]:
        """A new Service's ClusterIP and node ports; returns how to give them back."""
        return self.services.allocate(obj) if kind.kind == "Service" else (lambda: None)

    def _release(self, kind: Kind, obj: dict) -> None:
        if kind.kind == "Service":
            self.services.release(obj)

    def _deletecollection(self, kind: Kind, request: Request, user: UserInfo) -> dict:
        listing = self._list(kind, Request("list", kind.plural, request.namespace, params=request.params,
                                           shared=True), user)
        deleted = []
        for item in listing["items"]:
            one = Request("delete", kind.plural, item["metadata"].get("namespace"), item["metadata"]["name"],
                          body=request.body, params=request.params, token=request.token)
            try:
                deleted.append(self._delete(kind, one, user))
            except errors.NotFound:
                continue
        return {"kind": kind.list_kind, "apiVersion": kind.api_version,
                "metadata": {"resourceVersion": str(self.store.revision)}, "items": deleted}

    # -- maintenance ----------------------------------------------------------
    def compact(self, revision: int) -> None:
        """Compact etcd history at ``revision``, and the watch caches with it (``engine.apiserver.compact`` does this
        every ``--etcd-compaction-interval``, as the real API server does; a notebook may do it by hand)."""
        self.store.compact(revision)
        for cacher in self.cachers.values():
            cacher.compacted(revision)


def _bound_copy(current: dict, target: Any, scheduled: dict) -> FrozenDict | None:
    """The bound pod as the watch cache would decode it from etcd (no resourceVersion), sharing ``current``'s
    unchanged parts; None when ``current`` or ``target`` is not of the usual shape (the caller copies).

    Same keys in the same order as ``thaw(current)`` edited by ``_bind``: spec.nodeName set, the
    PodScheduled condition replaced (appended last), status added at the end when missing.
    """
    spec, status = current.get("spec"), current.get("status", {})
    if type(target) is not str or type(spec) is not FrozenDict or type(status) not in (FrozenDict, dict):
        return None
    conditions = status.get("conditions", [])
    if not conditions and type(conditions) in (FrozenList, list):
        kept = FrozenList((FrozenDict(scheduled),))
    elif type(conditions) not in (FrozenList, list) or any(type(c) is not FrozenDict for c in conditions):
        return None
    else:
        kept = FrozenList([condition for condition in conditions if condition["type"] != "PodScheduled"])
        list.append(kept, FrozenDict(scheduled))        # not yet shared with anyone
    metadata = FrozenDict(current["metadata"])
    if "resourceVersion" in metadata:
        dict.__delitem__(metadata, "resourceVersion")   # not yet shared with anyone
    # dict(mapping, **members): the members replace those of the same name in place, new ones go last
    return FrozenDict(current, metadata=metadata, spec=FrozenDict(spec, nodeName=target),
                      status=FrozenDict(status, conditions=kept))


def _label_matcher(text: str) -> Callable[[dict], bool]:
    selector = selectors.parse(text)
    return lambda obj: selector.matches(obj["metadata"].get("labels") or {})


_POD_PATH_FIELDS = frozenset({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                              "status.phase", "status.nominatedNodeName"})
"""Pod field labels whose value ``selectors.selectable_fields`` reads as ``field_value(pod, label)``."""


def _field_matcher(text: str, kind: Kind) -> Callable[[dict], bool]:
    selector = selectors.convert_field_selector(kind.kind, text)
    names = tuple({name: None for name, _, _ in selector.terms})
    if kind.kind == "Pod" and not kind.group and names and set(names) <= _POD_PATH_FIELDS:
        # Only the named fields are read (a pod's other selectable fields are never needed here), each
        # straight from its two-level path: what ``selectors.field_value`` reads, term by term.
        terms = tuple((*name.split("."), op == "=", value) for name, op, value in selector.terms)

        def pod_matches(obj: dict) -> bool:
            if obj.get("kind") != "Pod":
                return selector.matches(_selectable_fields(obj, kind.namespaced))
            for section, name, equal, value in terms:
                part = obj.get(section)
                have = part.get(name, "") if isinstance(part, dict) else ""
                if type(have) is not str:
                    have = selectors.field_text(have)
                if (have == value) is not equal:
                    return False
            return True
        return pod_matches
    return lambda obj: selector.matches(_selectable_fields(obj, kind.namespaced))


_FIELDS_KEPT = 1024
_fields_of: dict[tuple[int, bool], tuple[dict, dict[str, str]]] = {}
"""Selectable fields of recent frozen objects, by identity (each entry holds its object, so the id stays its
own): a watch event is matched by every watcher with a field selector, against the new and the old object."""


def _selectable_fields(obj: dict, namespaced: bool) -> dict[str, str]:
    if type(obj) is not FrozenDict:
        return selectors.selectable_fields(obj, namespaced)
    key = (id(obj), namespaced)
    known = _fields_of.get(key)
    if known is not None and known[0] is obj:
        return known[1]
    fields = selectors.selectable_fields(obj, namespaced)
    if len(_fields_of) >= _FIELDS_KEPT:
        del _fields_of[next(iter(_fields_of))]
    _fields_of[key] = (obj, fields)
    return fields


def _only_named(name: str, matcher: Callable[[dict], bool] | None) -> Callable[[dict], bool]:
    """A watch on one object: its name, and whatever selectors the request had."""
    if matcher is None:
        return lambda obj: obj["metadata"].get("name") == name
    return lambda obj: obj["metadata"].get("name") == name and matcher(obj)


def _patch_sets_version(patch: Any) -> bool:
    return isinstance(patch, dict) and "resourceVersion" in (patch.get("metadata") or {})


class _CacheRules:
    """RBAC objects for the authorizer, read from the API server's own watch caches."""

    def __init__(self, server: APIServer) -> None:
        self.server = server
        self._cachers = [server.cachers[server.registry.lookup(resource)]
                         for resource in ("clusterrolebindings", "rolebindings", "clusterroles", "roles")]

    def version(self) -> tuple[int, ...]:
        """Changes whenever an RBAC object does, and only then: the revisions of the four caches' latest changes
        (not their ``revision``, which every bookmark and new watch moves on to the store's: the authorizer would
        forget its decisions each time an informer re-established its watch)."""
        first, second, third, fourth = self._cachers
        return (first.changed_revision, second.changed_revision, third.changed_revision, fourth.changed_revision)

    def list_cluster_role_bindings(self) -> list[dict]:
        return self.server.cached_list("clusterrolebindings")

    def list_role_bindings(self, namespace: str) -> list[dict]:
        return self.server.cached_list("rolebindings", namespace) if namespace else []

    def get_cluster_role(self, name: str) -> dict | None:
        return self.server.cached("clusterroles", None, name)

    def get_role(self, namespace: str, name: str) -> dict | None:
        return self.server.cached("roles", namespace, name)
