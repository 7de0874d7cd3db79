"""The decoder's part: the JSON types each kind's fields must have.

The real API server decodes JSON into Go structs before it validates, so a
field of the wrong JSON type never reaches validation (it is a 400). The
engine has no typed decoder, so this table plays its part: ``type_checked``
reports a value of the wrong type as ``FieldValueTypeInvalid`` and leaves it
out of the copy the kind's checks see. Fields not listed are not
type-checked; a JSON null is the zero value, as if the field were absent.
The caller's object is never changed.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api.validation.fields import Errors, child, index, key

_S, _I, _B, _N, _Q, _IOS, _ANY = "string", "integer", "boolean", "number", "quantity", "intOrString", "any"


def _L(item: Any) -> tuple:
    return ("list", item)


def _M(value: Any) -> tuple:
    return ("map", value)


_SM, _QM, _SL = _M(_S), _M(_Q), _L(_S)
_OBJECT_META = {"name": _S, "generateName": _S, "namespace": _S, "uid": _S, "resourceVersion": _S, "generation": _I,
                "creationTimestamp": _S, "deletionTimestamp": _S, "deletionGracePeriodSeconds": _I, "labels": _SM,
                "annotations": _SM, "finalizers": _SL,
                "ownerReferences": _L({"apiVersion": _S, "kind": _S, "name": _S, "uid": _S, "controller": _B,
                                       "blockOwnerDeletion": _B})}
_LABEL_SELECTOR = {"matchLabels": _SM, "matchExpressions": _L({"key": _S, "operator": _S, "values": _SL})}
_HTTP_GET = {"path": _S, "port": _IOS, "host": _S, "scheme": _S, "httpHeaders": _L({"name": _S, "value": _S})}
_HANDLER = {"exec": {"command": _SL}, "httpGet": _HTTP_GET, "tcpSocket": {"port": _IOS, "host": _S},
            "sleep": {"seconds": _I}}
_PROBE = {"exec": {"command": _SL}, "httpGet": _HTTP_GET, "tcpSocket": {"port": _IOS, "host": _S},
          "grpc": {"port": _I, "service": _S}, "initialDelaySeconds": _I, "timeoutSeconds": _I, "periodSeconds": _I,
          "successThreshold": _I, "failureThreshold": _I, "terminationGracePeriodSeconds": _I}
_KEY_REF = {"name": _S, "key": _S, "optional": _B}
_CONTAINER = {
    "name": _S, "image": _S, "command": _SL, "args": _SL, "workingDir": _S,
    "ports": _L({"name": _S, "containerPort": _I, "hostPort": _I, "protocol": _S, "hostIP": _S}),
    "env": _L({"name": _S, "value": _S, "valueFrom": {
        "fieldRef": {"apiVersion": _S, "fieldPath": _S}, "configMapKeyRef": _KEY_REF, "secretKeyRef": _KEY_REF,
        "resourceFieldRef": {"containerName": _S, "resource": _S, "divisor": _Q}}}),
    "envFrom": _L({"prefix": _S, "configMapRef": {"name": _S, "optional": _B}, "secretRef": {"name": _S, "optional": _B}}),
    "resources": {"limits": _QM, "requests": _QM}, "volumeMounts": _L({"name": _S, "mountPath": _S, "subPath": _S,
                                                                       "readOnly": _B}),
    "livenessProbe": _PROBE, "readinessProbe": _PROBE, "startupProbe": _PROBE,
    "lifecycle": {"postStart": _HANDLER, "preStop": _HANDLER}, "terminationMessagePath": _S,
    "terminationMessagePolicy": _S, "imagePullPolicy": _S, "restartPolicy": _S, "stdin": _B, "tty": _B,
    "securityContext": {"runAsUser": _I, "runAsGroup": _I, "privileged": _B, "allowPrivilegeEscalation": _B,
                        "runAsNonRoot": _B, "readOnlyRootFilesystem": _B},
}
_KEY_TO_PATH = _L({"key": _S, "path": _S, "mode": _I})
_PVC_SPEC = {"accessModes": _SL, "selector": _LABEL_SELECTOR, "resources": {"requests": _QM, "limits": _QM},
             "volumeName": _S, "storageClassName": _S, "volumeMode": _S}
_VOLUME = {"name": _S, "emptyDir": {"medium": _S, "sizeLimit": _Q}, "hostPath": {"path": _S, "type": _S},
           "secret": {"secretName": _S, "defaultMode": _I, "items": _KEY_TO_PATH, "optional": _B},
           "configMap": {"name": _S, "defaultMode": _I, "items": _KEY_TO_PATH, "optional": _B},
           "persistentVolumeClaim": {"claimName": _S, "readOnly": _B}, "nfs": {"server": _S, "path": _S, "readOnly": _B},
           "downwardAPI": {"defaultMode": _I, "items": _L({"path": _S, "mode": _I, "fieldRef": {"apiVersion": _S,
                                                                                             "fieldPath": _S}})},
           "projected": {"defaultMode": _I, "sources": _L({"serviceAccountToken": {"audience": _S,
                                                                                   "expirationSeconds": _I, "path": _S}})},
           "ephemeral": {"volumeClaimTemplate": {"metadata": _OBJECT_META, "spec": _PVC_SPEC}}}
for _source in ("gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "iscsi", "glusterfs", "flocker", "rbd", "cinder",
                "cephfs", "quobyte", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
                "portworxVolume", "azureDisk", "storageos", "scaleIO", "csi", "image"):
    _VOLUME[_source] = {}
_NODE_SELECTOR_REQUIREMENT = {"key": _S, "operator": _S, "values": _SL}
_POD_AFFINITY_TERM = {"labelSelector": _LABEL_SELECTOR, "namespaceSelector": _LABEL_SELECTOR, "topologyKey": _S,
                      "namespaces": _SL}
_POD_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": _L(_POD_AFFINITY_TERM),
                 "preferredDuringSchedulingIgnoredDuringExecution": _L({"weight": _I,
                                                                        "podAffinityTerm": _POD_AFFINITY_TERM})}
_POD_SPEC = {
    "containers": _L(_CONTAINER), "initContainers": _L(_CONTAINER), "ephemeralContainers": _L(_CONTAINER),
    "volumes": _L(_VOLUME), "restartPolicy": _S, "terminationGracePeriodSeconds": _I, "activeDeadlineSeconds": _I,
    "dnsPolicy": _S, "nodeSelector": _SM, "serviceAccountName": _S, "serviceAccount": _S, "nodeName": _S,
    "hostNetwork": _B, "hostPID": _B, "hostIPC": _B, "hostname": _S, "subdomain": _S, "schedulerName": _S,
    "priorityClassName": _S, "priority": _I, "preemptionPolicy": _S, "enableServiceLinks": _B, "overhead": _QM,
    "securityContext": {"runAsUser": _I, "runAsGroup": _I, "fsGroup": _I, "runAsNonRoot": _B,
                        "supplementalGroups": _L(_I)},
    "imagePullSecrets": _L({"name": _S}),
    "tolerations": _L({"key": _S, "operator": _S, "value": _S, "effect": _S, "tolerationSeconds": _I}),
    "affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": _L({
            "matchExpressions": _L(_NODE_SELECTOR_REQUIREMENT), "matchFields": _L(_NODE_SELECTOR_REQUIREMENT)})},
        "preferredDuringSchedulingIgnoredDuringExecution": _L({"weight": _I, "preference": {
            "matchExpressions": _L(_NODE_SELECTOR_REQUIREMENT), "matchFields": _L(_NODE_SELECTOR_REQUIREMENT)}})},
        "podAffinity": _POD_AFFINITY, "podAntiAffinity": _POD_AFFINITY},
    "dnsConfig": {"nameservers": _SL, "searches": _SL, "options": _L({"name": _S, "value": _S})},
    "topologySpreadConstraints": _L({"maxSkew": _I, "topologyKey": _S, "whenUnsatisfiable": _S,
                                     "labelSelector": _LABEL_SELECTOR, "minDomains": _I}),
    "os": {"name": _S},
}
_POD_TEMPLATE = {"metadata": _OBJECT_META, "spec": _POD_SPEC}
_ROLLING = {"maxSurge": _IOS, "maxUnavailable": _IOS, "partition": _I}
_JOB_SPEC = {"parallelism": _I, "completions": _I, "activeDeadlineSeconds": _I, "backoffLimit": _I,
             "backoffLimitPerIndex": _I, "maxFailedIndexes": _I, "selector": _LABEL_SELECTOR, "manualSelector": _B,
             "template": _POD_TEMPLATE, "ttlSecondsAfterFinished": _I, "completionMode": _S, "suspend": _B,
             "podReplacementPolicy": _S, "managedBy": _S}
_METRIC_TARGET = {"type": _S, "value": _Q, "averageValue": _Q, "averageUtilization": _I}
_NETWORK_POLICY_PEER = {"podSelector": _LABEL_SELECTOR, "namespaceSelector": _LABEL_SELECTOR,
                        "ipBlock": {"cidr": _S, "except": _SL}}
_NETWORK_POLICY_PORT = {"protocol": _S, "port": _IOS, "endPort": _I}
_INGRESS_BACKEND = {"service": {"name": _S, "port": {"name": _S, "number": _I}},
                    "resource": {"apiGroup": _S, "kind": _S, "name": _S}}
_PVC = {"metadata": _OBJECT_META, "spec": _PVC_SPEC}

_KIND_SCHEMAS: dict[str, dict] = {
    "Pod": {"spec": _POD_SPEC},
    "Deployment": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE,
                            "strategy": {"type": _S, "rollingUpdate": _ROLLING}, "minReadySeconds": _I,
                            "revisionHistoryLimit": _I, "progressDeadlineSeconds": _I, "paused": _B}},
    "ReplicaSet": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE,
                            "minReadySeconds": _I}},
    "ReplicationController": {"spec": {"replicas": _I, "selector": _SM, "template": _POD_TEMPLATE,
                                       "minReadySeconds": _I}},
    "DaemonSet": {"spec": {"selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE, "minReadySeconds": _I,
                           "updateStrategy": {"type": _S, "rollingUpdate": _ROLLING}, "revisionHistoryLimit": _I}},
    "StatefulSet": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE, "serviceName": _S,
                             "podManagementPolicy": _S, "updateStrategy": {"type": _S, "rollingUpdate": _ROLLING},
                             "volumeClaimTemplates": _L(_PVC), "revisionHistoryLimit": _I, "minReadySeconds": _I,
                             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": _S, "whenScaled": _S},
                             "ordinals": {"start": _I}}},
    "Job": {"spec": _JOB_SPEC},
    "CronJob": {"spec": {"schedule": _S, "timeZone": _S, "startingDeadlineSeconds": _I, "concurrencyPolicy": _S,
                         "suspend": _B, "jobTemplate": {"metadata": _OBJECT_META, "spec": _JOB_SPEC},
                         "successfulJobsHistoryLimit": _I, "failedJobsHistoryLimit": _I}},
    "Service": {"spec": {"ports": _L({"name": _S, "protocol": _S, "appProtocol": _S, "port": _I, "targetPort": _IOS,
                                      "nodePort": _I}),
                         "selector": _SM, "clusterIP": _S, "clusterIPs": _SL, "type": _S, "externalIPs": _SL,
                         "sessionAffinity": _S, "loadBalancerIP": _S, "loadBalancerSourceRanges": _SL,
                         "externalName": _S, "externalTrafficPolicy": _S, "healthCheckNodePort": _I,
                         "publishNotReadyAddresses": _B, "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": _I}},
                         "ipFamilies": _SL, "ipFamilyPolicy": _S, "allocateLoadBalancerNodePorts": _B,
                         "loadBalancerClass": _S, "internalTrafficPolicy": _S}},
    "ConfigMap": {"data": _SM, "binaryData": _SM, "immutable": _B},
    "Secret": {"data": _SM, "stringData": _SM, "type": _S, "immutable": _B},
    "Namespace": {"spec": {"finalizers": _SL}, "status": {"phase": _S}},
    "Node": {"spec": {"podCIDR": _S, "podCIDRs": _SL, "providerID": _S, "unschedulable": _B,
                      "taints": _L({"key": _S, "value": _S, "effect": _S, "timeAdded": _S})},
             "status": {"capacity": _QM, "allocatable": _QM}},
    "PersistentVolume": {"spec": {"capacity": _QM, "accessModes": _SL, "persistentVolumeReclaimPolicy": _S,
                                  "storageClassName": _S, "volumeMode": _S, "hostPath": {"path": _S, "type": _S},
                                  "nfs": {"server": _S, "path": _S}, "local": {"path": _S}}},
    "PersistentVolumeClaim": {"spec": _PVC_SPEC},
    "LimitRange": {"spec": {"limits": _L({"type": _S, "max": _QM, "min": _QM, "default": _QM, "defaultRequest": _QM,
                                          "maxLimitRequestRatio": _QM})}},
    "ResourceQuota": {"spec": {"hard": _QM, "scopes": _SL}},
    "Endpoints": {"subsets": _L({"addresses": _L({"ip": _S, "hostname": _S, "nodeName": _S}),
                                 "notReadyAddresses": _L({"ip": _S, "hostname": _S, "nodeName": _S}),
                                 "ports": _L({"name": _S, "port": _I, "protocol": _S})})},
    "Event": {"involvedObject": {"kind": _S, "namespace": _S, "name": _S, "uid": _S}, "reason": _S, "message": _S,
              "type": _S, "count": _I, "source": {"component": _S, "host": _S}},
    "ControllerRevision": {"revision": _I},
    "Role": {"rules": _L({"apiGroups": _SL, "resources": _SL, "verbs": _SL, "resourceNames": _SL,
                          "nonResourceURLs": _SL})},
    "RoleBinding": {"roleRef": {"apiGroup": _S, "kind": _S, "name": _S},
                    "subjects": _L({"kind": _S, "apiGroup": _S, "name": _S, "namespace": _S})},
    "Lease": {"spec": {"holderIdentity": _S, "leaseDurationSeconds": _I, "acquireTime": _S, "renewTime": _S,
                       "leaseTransitions": _I}},
    "EndpointSlice": {"addressType": _S, "endpoints": _L({"addresses": _SL, "hostname": _S, "nodeName": _S, "zone": _S,
                                                          "conditions": {"ready": _B, "serving": _B,
                                                                         "terminating": _B}}),
                      "ports": _L({"name": _S, "protocol": _S, "port": _I, "appProtocol": _S})},
    "NetworkPolicy": {"spec": {"podSelector": _LABEL_SELECTOR, "policyTypes": _SL,
                               "ingress": _L({"from": _L(_NETWORK_POLICY_PEER), "ports": _L(_NETWORK_POLICY_PORT)}),
                               "egress": _L({"to": _L(_NETWORK_POLICY_PEER), "ports": _L(_NETWORK_POLICY_PORT)})}},
    "Ingress": {"spec": {"ingressClassName": _S, "defaultBackend": _INGRESS_BACKEND,
                         "tls": _L({"hosts": _SL, "secretName": _S}),
                         "rules": _L({"host": _S, "http": {"paths": _L({"path": _S, "pathType": _S,
                                                                        "backend": _INGRESS_BACKEND})}})},
                "status": {"loadBalancer": {"ingress": _L({"ip": _S, "hostname": _S})}}},
    "IngressClass": {"spec": {"controller": _S, "parameters": {"apiGroup": _S, "kind": _S, "name": _S, "scope": _S,
                                                               "namespace": _S}}},
    "StorageClass": {"provisioner": _S, "parameters": _SM, "reclaimPolicy": _S, "volumeBindingMode": _S,
                     "allowVolumeExpansion": _B, "mountOptions": _SL},
    "HorizontalPodAutoscaler": {"spec": {
        "scaleTargetRef": {"apiVersion": _S, "kind": _S, "name": _S}, "minReplicas": _I, "maxReplicas": _I,
        "metrics": _L({"type": _S, "resource": {"name": _S, "target": _METRIC_TARGET},
                       "containerResource": {"name": _S, "container": _S, "target": _METRIC_TARGET},
                       "pods": {"target": _METRIC_TARGET}, "object": {"target": _METRIC_TARGET},
                       "external": {"target": _METRIC_TARGET}})}},
    "PriorityClass": {"value": _I, "globalDefault": _B, "description": _S, "preemptionPolicy": _S},
    "PodDisruptionBudget": {"spec": {"minAvailable": _IOS, "maxUnavailable": _IOS, "selector": _LABEL_SELECTOR,
                                     "unhealthyPodEvictionPolicy": _S},
                            "status": {"observedGeneration": _I, "disruptionsAllowed": _I, "currentHealthy": _I,
                                       "desiredHealthy": _I, "expectedPods": _I, "disruptedPods": _SM}},
}
_KIND_SCHEMAS["ClusterRole"] = dict(_KIND_SCHEMAS["Role"], aggregationRule={
    "clusterRoleSelectors": _L(_LABEL_SELECTOR)})
_KIND_SCHEMAS["ClusterRoleBinding"] = _KIND_SCHEMAS["RoleBinding"]
_TYPE_NAMES = {_S: "string", _I: "integer", _B: "boolean", _N: "number", _Q: "string", _IOS: "integer or string"}


def _scalar(value: Any, kind: str) -> tuple[bool, Any]:
    if kind == _ANY:
        return True, value
    is_int = isinstance(value, int) and not isinstance(value, bool)
    whole = isinstance(value, float) and value.is_integer()
    if kind == _S:
        return isinstance(value, str), value
    if kind == _B:
        return isinstance(value, bool), value
    if kind in (_I, _IOS):
        if is_int or whole:
            return True, int(value)
        return kind == _IOS and isinstance(value, str), value
    if kind in (_N, _Q):
        return (is_int or isinstance(value, float) or (kind == _Q and isinstance(value, str))), value
    return True, value


def _typed(value: Any, schema: Any, path: str, errs: Errors) -> tuple[bool, Any]:
    """(ok, cleaned copy): wrong types are reported and left out of the copy."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            errs.type_invalid(path, value, "object")
            return False, None
        out = {}
        for name, item in value.items():
            if item is None:
                continue  # JSON null: the zero value, as if absent
            sub = schema.get(name) if isinstance(name, str) else None
            if sub is None:
                out[name] = item
                continue
            ok, cleaned = _typed(item, sub, child(path, name), errs)
            if ok:
                out[name] = cleaned
        return True, out
    if isinstance(schema, tuple):
        container, sub = schema
        if container == "list":
            if not isinstance(value, list):
                errs.type_invalid(path, value, "array")
                return False, None
            items = []
            for i, item in enumerate(value):
                ok, cleaned = (True, None) if item is None else _typed(item, sub, index(path, i), errs)
                items.append(cleaned if ok else None)
            return True, items
        if not isinstance(value, dict):
            errs.type_invalid(path, value, "object")
            return False, None
        out = {}
        for name, item in value.items():
            ok, cleaned = _typed(item, sub, key(path, str(name)), errs)
            if ok and isinstance(name, str):
                out[name] = cleaned
        return True, out
    ok, cleaned = _scalar(value, schema)
    if not ok:
        errs.type_invalid(path, value, _TYPE_NAMES.get(schema, schema))
    return ok, cleaned


_SLOW = object()
"""``_pruned``'s answer when ``_typed`` would report something: only the walk with paths can say what."""
_DROP = object()


def _pruned(value: Any, schema: Any) -> Any:
    """What ``_typed`` gives for a ``value`` it would report nothing about, sharing every part it would copy
    unchanged (``value`` itself when nothing changes: no null to drop, no whole float to make an integer);
    ``_SLOW`` when it would report a field."""
    if type(schema) is dict:
        if not isinstance(value, dict):
            return _SLOW
        changed = None
        for name, item in value.items():
            if item is None:
                new = _DROP
            else:
                sub = schema.get(name) if type(name) is str else None
                if sub is None or (sub is _S and type(item) is str) or (sub is _I and type(item) is int):
                    continue
                new = _pruned(item, sub)
                if new is item:
                    continue
                if new is _SLOW:
                    return _SLOW
            if changed is None:
                changed = {}
            changed[name] = new
        if changed is None:
            return value
        out = dict(value)                   # the same keys in the same order, less the dropped ones
        for name, new in changed.items():
            if new is _DROP:
                del out[name]
            else:
                out[name] = new
        return out
    if type(schema) is tuple:
        container, sub = schema
        if container == "list":
            if not isinstance(value, list):
                return _SLOW
            items = None
            for position, item in enumerate(value):
                if item is None:
                    continue
                new = _pruned(item, sub)
                if new is item:
                    continue
                if new is _SLOW:
                    return _SLOW
                if items is None:
                    items = list(value)
                items[position] = new
            return value if items is None else items
        if not isinstance(value, dict):
            return _SLOW
        out = None
        for name, item in value.items():
            if type(name) is not str:
                return _SLOW
            new = _pruned(item, sub)
            if new is _SLOW:
                return _SLOW
            if new is not item and out is None:
                out = dict(value)
            if out is not None:
                out[name] = new
        return value if out is None else out
    if schema == _S:
        return value if isinstance(value, str) else _SLOW
    if schema == _ANY:
        return value
    ok, cleaned = _scalar(value, schema)
    return cleaned if ok else _SLOW


_PLAIN_EVENT_METADATA = frozenset({"name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp",
                                   "deletionTimestamp"})
_STRING_OR_NULL = frozenset({str, type(None)})


def plainly_typed_event(obj: Any) -> bool:
    """Whether ``type_checked(obj, "Event", errs)`` surely reports nothing, and its copy differs from ``obj`` only
    by the nulls it drops: an Event of the usual shape (string metadata without labels, annotations, owners,
    finalizers or generation; an involvedObject and a source of strings; an integer count). False means only
    "ask ``type_checked``"."""
    if type(obj) is not dict:
        return False
    get = obj.get
    metadata, involved, source, count = get("metadata"), get("involvedObject"), get("source"), get("count")
    if type(metadata) is not dict or not metadata.keys() <= _PLAIN_EVENT_METADATA \
            or not set(map(type, metadata.values())) <= _STRING_OR_NULL:
        return False
    if involved is not None and (type(involved) is not dict
                                 or not set(map(type, involved.values())) <= _STRING_OR_NULL):
        return False
    if source is not None and (type(source) is not dict or not set(map(type, source.values())) <= _STRING_OR_NULL):
        return False
    if count is not None and type(count) is not int:
        return False
    return set(map(type, (get("apiVersion"), get("kind"), get("reason"), get("message"), get("type")))) \
        <= _STRING_OR_NULL


_SCHEMAS: dict[str, dict] = {}


def type_checked(obj: Mapping[str, Any], kind: str, errs: Errors) -> Mapping[str, Any]:
    """A copy of ``obj`` without its fields of the wrong JSON type, each reported to ``errs``. When there is
    nothing to report, the parts that copy would leave unchanged are ``obj``'s own (``obj`` itself when nothing
    changes): checks only read them."""
    schema = _SCHEMAS.get(kind)
    if schema is None:
        schema = _SCHEMAS[kind] = {"apiVersion": _S, "kind": _S, "metadata": _OBJECT_META,
                                   **_KIND_SCHEMAS.get(kind, {})}
    fast = _pruned(obj, schema)
    if fast is not _SLOW:
        return fast
    return _typed(obj, schema, "", errs)[1]
