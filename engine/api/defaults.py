"""Defaulting: the values the API server fills in before it validates and stores an object.

This is ``SetDefaults_*`` from ``pkg/apis/*/v1/defaults.go`` (and the
declarative ``+default`` markers of ``k8s.io/api``), applied by kind:
``apply_defaults(obj)`` changes ``obj`` in place so that what a learner reads
back from the engine is what ``kubectl get -o yaml`` shows on a real cluster
(``restartPolicy: Always``, ``imagePullPolicy: IfNotPresent``,
``terminationMessagePath: /dev/termination-log``, ``maxSurge: 25%``...).

Promises:

- Idempotent: defaulting a defaulted object changes nothing.
- Only fields that are missing (or Go's zero value, where Go tests for it) are
  filled; nothing a manifest sets is overwritten, except that resource
  quantities are rewritten in the canonical form the API server serialises
  (``cpu: 0.5`` reads back as ``500m``) and Secret ``stringData`` is folded
  into ``data``, as the API server's conversion does.
- Values that cannot be parsed are left as they are, for validation to report.
- Pod-only defaults (requests copied from limits, ``enableServiceLinks``,
  host ports under ``hostNetwork``) apply to Pods, not to pod templates, as in
  Kubernetes; so a Deployment's template gets the PodSpec defaults only.

Also here, because it belongs to the same create path: ``generate_job_selector``
(the Job strategy's generated selector and labels), which the API server's Job
strategy calls on create. Defaults that need other objects (default tolerations,
priority from a PriorityClass) are admission plugins, in ``engine.apiserver.admission``.

Never here: cluster IP and node port allocation, service account tokens, or
anything else that needs cluster state (that is the API server's REST layer).
"""

from __future__ import annotations

import base64
import copy
from typing import Any, Callable, Mapping

from engine.api.quantity import parse_quantity

__all__ = ["apply_defaults", "default_pod_spec", "default_pod_template", "generate_job_selector",
           "image_pull_policy"]

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_FILE_MODE = 0o644  # 420: configMap, secret, downwardAPI and projected volumes
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800  # 3 hours
DEFAULT_CPU_UTILIZATION = 80  # HorizontalPodAutoscaler with no metrics
RBAC_GROUP = "rbac.authorization.k8s.io"
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"
FINALIZER_KUBERNETES = "kubernetes"

LEGACY_JOB_NAME_LABEL = "job-name"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"

_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte", "downwardAPI", "fc",
    "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk",
    "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)


def apply_defaults(obj: dict) -> None:
    """Fill in the defaults the API server applies to an object of this kind, in place."""
    kind = obj.get("kind") if isinstance(obj, dict) else None
    defaulter = _DEFAULTERS.get(kind) if isinstance(kind, str) else None
    if defaulter is not None:
        defaulter(obj)


# -- small helpers -----------------------------------------------------------

def _dict(parent: dict, key: str) -> dict:
    """``parent[key]`` as a dict, created when missing (Go's embedded structs are never nil)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else {}


def _list(parent: Mapping, key: str) -> list:
    value = parent.get(key)
    return value if isinstance(value, list) else []


def _dicts(parent: Mapping, key: str) -> list[dict]:
    return [item for item in _list(parent, key) if isinstance(item, dict)]


def _set_if_missing(obj: dict, key: str, value: Any) -> None:
    if obj.get(key) in (None, ""):
        obj[key] = value


def _set_if_zero(obj: dict, key: str, value: int) -> None:
    if not obj.get(key):  # Go tests these int fields against 0
        obj[key] = value


def _canonical_quantities(resources: Any) -> None:
    """Rewrite a ResourceList in serialised form, rounded up to milli units (SetDefaults_ResourceList)."""
    if not isinstance(resources, dict):
        return
    for name, value in list(resources.items()):
        try:
            resources[name] = str(parse_quantity(value).round_up(-3))
        except (ValueError, TypeError):
            pass  # validation reports it


def _parses(value: Any) -> bool:
    try:
        parse_quantity(value)
    except (ValueError, TypeError):
        return False
    return True


def _canonical_quantity(obj: Any, key: str) -> None:
    if isinstance(obj, dict) and obj.get(key) is not None:
        try:
            obj[key] = str(parse_quantity(obj[key]))
        except (ValueError, TypeError):
            pass


# -- containers and pod specs ----------------------------------------------

def image_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image, else ``IfNotPresent`` (SetDefaults_Container)."""
    tag = _image_tag(image)
    return "Always" if tag == "latest" else "IfNotPresent"


def _image_tag(image: str) -> str:
    """The tag as parsers.ParseImageName gives it: ``latest`` when there is neither tag nor digest."""
    if not isinstance(image, str) or not image or image != image.strip():
        return ""  # unparsable: Go ignores the error and gets no tag
    name, _, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    has_domain = bool(slash) and ("." in first or ":" in first or first == "localhost")
    path = rest if has_domain else name
    repository, colon, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    if any(c.isupper() for c in repository):
        return ""  # repository names are lower case: ParseNormalizedNamed fails
    return tag if tag or digest else "latest"


def _default_http_get(handler: Any) -> None:
    if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
        http_get = handler["httpGet"]
        _set_if_missing(http_get, "path", "/")
        _set_if_missing(http_get, "scheme", "HTTP")


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    _set_if_zero(probe, "timeoutSeconds", 1)
    _set_if_zero(probe, "periodSeconds", 10)
    _set_if_zero(probe, "successThreshold", 1)
    _set_if_zero(probe, "failureThreshold", 3)
    _default_http_get(probe)


def _default_field_ref(holder: Any) -> None:
    if isinstance(holder, dict) and isinstance(holder.get("fieldRef"), dict):
        _set_if_missing(holder["fieldRef"], "apiVersion", "v1")


def _default_container(container: dict) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy(container.get("image", ""))
    _set_if_missing(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    _set_if_missing(container, "terminationMessagePolicy", "File")
    for port in _dicts(container, "ports"):
        _set_if_missing(port, "protocol", "TCP")
    resources = _dict(container, "resources")
    _canonical_quantities(resources.get("limits"))
    _canonical_quantities(resources.get("requests"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_http_get(lifecycle.get("postStart"))
        _default_http_get(lifecycle.get("preStop"))
    for env in _dicts(container, "env"):
        _default_field_ref(env.get("valueFrom"))


def _default_volume(volume: dict) -> None:
    if not any(volume.get(source) is not None for source in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict) and volume[source].get("defaultMode") is None:
            volume[source]["defaultMode"] = DEFAULT_FILE_MODE
    if isinstance(volume.get("emptyDir"), dict):
        _canonical_quantity(volume["emptyDir"], "sizeLimit")
    if isinstance(volume.get("hostPath"), dict) and volume["hostPath"].get("type") is None:
        volume["hostPath"]["type"] = ""
    if isinstance(volume.get("downwardAPI"), dict):
        for item in _dicts(volume["downwardAPI"], "items"):
            _default_field_ref(item)
    if isinstance(volume.get("projected"), dict):
        for source in _dicts(volume["projected"], "sources"):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict) and token.get("expirationSeconds") is None:
                token["expirationSeconds"] = 3600
            if isinstance(source.get("downwardAPI"), dict):
                for item in _dicts(source["downwardAPI"], "items"):
                    _default_field_ref(item)
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        _default_pvc_spec(_dict(ephemeral["volumeClaimTemplate"], "spec"))


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and the defaults of everything a PodSpec holds (containers, volumes, probes)."""
    _set_if_missing(spec, "dnsPolicy", "ClusterFirst")
    _set_if_missing(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    _set_if_missing(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    # v1 carries the service account twice; conversion keeps both spellings in step.
    if spec.get("serviceAccountName") and not spec.get("serviceAccount"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    elif spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec, key):
            _default_container(container)
    for volume in _dicts(spec, "volumes"):
        _default_volume(volume)
    if isinstance(spec.get("overhead"), dict):
        _canonical_quantities(spec["overhead"])


def default_pod_template(template: Any) -> None:
    """Defaults of a pod template: the PodSpec ones, not the Pod-only ones."""
    if isinstance(template, dict):
        default_pod_spec(_dict(template, "spec"))


def _default_pod(pod: dict) -> None:
    spec = _dict(pod, "spec")
    default_pod_spec(spec)
    # SetDefaults_Pod: only for Pods, never for templates.
    for key in ("containers", "initContainers"):
        for container in _dicts(spec, key):
            resources = _dict(container, "resources")
            limits, requests = resources.get("limits"), resources.get("requests")
            if isinstance(limits, dict) and (requests is None or isinstance(requests, dict)):
                if requests is None:
                    requests = resources["requests"] = {}
                for name, value in limits.items():
                    if name not in requests and _parses(value):  # a bad limit is validation's to report
                        requests[name] = copy.deepcopy(value)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for key in ("containers", "initContainers"):
            for container in _dicts(spec, key):
                for port in _dicts(container, "ports"):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


# -- apps/v1 -------------------------------------------------------------------

def _default_deployment(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _dict(spec, "strategy")
    _set_if_missing(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = "25%"
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    default_pod_template(spec.get("template"))


def _default_replica_set(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    default_pod_template(spec.get("template"))


def _default_replication_controller(obj: dict) -> None:
    """SetDefaults_ReplicationController: selector and labels from the template's labels, one replica."""
    spec = _dict(obj, "spec")
    template = spec.get("template")
    labels = ((template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None) or {}
    if labels and not spec.get("selector"):
        spec["selector"] = dict(labels)
    metadata = _dict(obj, "metadata")
    if labels and not metadata.get("labels"):
        metadata["labels"] = dict(labels)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    default_pod_template(template)


def _default_stateful_set(obj: dict) -> None:
    spec = _dict(obj, "spec")
    _set_if_missing(spec, "podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _dict(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "RollingUpdate" and isinstance(rolling, dict) and rolling.get("partition") is None:
        rolling["partition"] = 0
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    _set_if_missing(retention, "whenDeleted", "Retain")
    _set_if_missing(retention, "whenScaled", "Retain")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    default_pod_template(spec.get("template"))
    for claim in _dicts(spec, "volumeClaimTemplates"):
        _default_pvc(claim)


def _default_daemon_set(obj: dict) -> None:
    spec = _dict(obj, "spec")
    strategy = _dict(spec, "updateStrategy")
    _set_if_missing(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    default_pod_template(spec.get("template"))


# -- batch/v1 ------------------------------------------------------------------

def _default_job(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
    template = spec.get("template")
    template_labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    metadata = _dict(obj, "metadata")
    if template_labels is not None and not metadata.get("labels"):
        metadata["labels"] = copy.deepcopy(template_labels)
    _set_if_missing(spec, "completionMode", "NonIndexed")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in _dicts(policy, "rules"):
            for pattern in _dicts(rule, "onPodConditions"):
                _set_if_missing(pattern, "status", "True")
    default_pod_template(template)


def generate_job_selector(job: dict, uid: str) -> None:
    """The Job strategy's generated selector: labels the template and selects on the controller uid.

    Runs on create unless ``spec.manualSelector`` is true; ``uid`` is the Job's
    new ``metadata.uid`` (set on the Job too when it has none). Labels the user
    already set are kept; validation then rejects conflicting ones. A Job with no
    labels of its own gets the template's, as SetDefaults_Job does on every read.
    """
    spec = _dict(job, "spec")
    if spec.get("manualSelector") is True:
        return
    metadata = _dict(job, "metadata")
    if not metadata.get("uid"):
        metadata["uid"] = uid
    uid = metadata["uid"]
    template_metadata = _dict(_dict(spec, "template"), "metadata")
    labels = _dict(template_metadata, "labels")
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, metadata.get("name", ""))
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    selector = _dict(spec, "selector")
    _dict(selector, "matchLabels").setdefault(CONTROLLER_UID_LABEL, uid)
    # SetDefaults_Job runs again whenever the Job is read back, copying the now generated
    # template labels onto a Job that has none: that is what `kubectl get job -o yaml` shows.
    if not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def _default_cron_job(obj: dict) -> None:
    spec = _dict(obj, "spec")
    _set_if_missing(spec, "concurrencyPolicy", "Allow")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        default_pod_template(_dict(job_template, "spec").get("template"))


# -- core/v1 -----------------------------------------------------------------

def _externally_accessible(spec: Mapping) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _default_service(obj: dict) -> None:
    spec = _dict(obj, "spec")
    _set_if_missing(spec, "sessionAffinity", "None")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    if spec.get("sessionAffinity") == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if config is None or client_ip is None or (isinstance(client_ip, dict) and client_ip.get("timeoutSeconds") is None):
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}}
    _set_if_missing(spec, "type", "ClusterIP")
    for port in _dicts(spec, "ports"):
        _set_if_missing(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if _externally_accessible(spec):
        _set_if_missing(spec, "externalTrafficPolicy", "Cluster")
    if spec.get("internalTrafficPolicy") is None and spec.get("type") in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if spec.get("type") != "ExternalName":
        # The REST layer picks the IP families on create (a single-stack IPv4 cluster here);
        # headless services without a selector ask for both families where there are two.
        if spec.get("ipFamilyPolicy") is None:
            headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
            spec["ipFamilyPolicy"] = "RequireDualStack" if headless_without_selector else "SingleStack"
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]


def _default_namespace(obj: dict) -> None:
    metadata = _dict(obj, "metadata")
    if metadata.get("name"):
        _dict(metadata, "labels")[LABEL_METADATA_NAME] = metadata["name"]
    spec = _dict(obj, "spec")
    if spec.get("finalizers") is None:  # the namespace strategy adds it on create
        spec["finalizers"] = [FINALIZER_KUBERNETES]
    _set_if_missing(_dict(obj, "status"), "phase", "Active")


def _default_node(obj: dict) -> None:
    status = _dict(obj, "status")
    _canonical_quantities(status.get("capacity"))
    _canonical_quantities(status.get("allocatable"))
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = copy.deepcopy(status["capacity"])


def _default_pvc_spec(spec: dict) -> None:
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    resources = spec.get("resources")
    if isinstance(resources, dict):
        _canonical_quantities(resources.get("requests"))
        _canonical_quantities(resources.get("limits"))


def _default_pvc(obj: dict) -> None:
    _default_pvc_spec(_dict(obj, "spec"))
    _set_if_missing(_dict(obj, "status"), "phase", "Pending")


def _default_pv(obj: dict) -> None:
    spec = _dict(obj, "spec")
    _set_if_missing(spec, "persistentVolumeReclaimPolicy", "Retain")
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    _canonical_quantities(spec.get("capacity"))
    if isinstance(spec.get("hostPath"), dict) and spec["hostPath"].get("type") is None:
        spec["hostPath"]["type"] = ""
    _set_if_missing(_dict(obj, "status"), "phase", "Pending")


def _default_secret(obj: dict) -> None:
    _set_if_missing(obj, "type", "Opaque")
    string_data, data = obj.get("stringData"), obj.get("data")
    if isinstance(string_data, dict) and (data is None or isinstance(data, dict)):
        del obj["stringData"]
        if not string_data:
            return
        if data is None:
            data = obj["data"] = {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _default_limit_range(obj: dict) -> None:
    for item in _dicts(_dict(obj, "spec"), "limits"):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _canonical_quantities(item.get(key))
        if item.get("type") != "Container":
            continue
        lists = {key: item.get(key) if item.get(key) is not None else {} for key in
                 ("max", "min", "default", "defaultRequest")}
        if not all(isinstance(value, dict) for value in lists.values()):
            continue  # a list of the wrong type is validation's to report
        default = item["default"] = lists["default"]
        default_request = item["defaultRequest"] = lists["defaultRequest"]
        for name, value in lists["max"].items():
            default.setdefault(name, value)
        for name, value in default.items():
            default_request.setdefault(name, value)
        for name, value in lists["min"].items():
            default_request.setdefault(name, value)


def _default_resource_quota(obj: dict) -> None:
    _canonical_quantities(_dict(obj, "spec").get("hard"))


def _default_endpoints(obj: dict) -> None:
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            _set_if_missing(port, "protocol", "TCP")


# -- other groups ------------------------------------------------------------

def _default_endpoint_slice(obj: dict) -> None:
    for port in _dicts(obj, "ports"):
        if port.get("name") is None:
            port["name"] = ""
        if port.get("protocol") is None:
            port["protocol"] = "TCP"


def _default_role_binding(obj: dict) -> None:
    _set_if_missing(_dict(obj, "roleRef"), "apiGroup", RBAC_GROUP)
    for subject in _dicts(obj, "subjects"):
        if not subject.get("apiGroup"):
            if subject.get("kind") == "ServiceAccount":
                subject["apiGroup"] = ""
            elif subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = RBAC_GROUP


def _default_scaling_rules(rules: Any, default: dict) -> dict:
    if not isinstance(rules, dict):
        return copy.deepcopy(default)
    for key in ("stabilizationWindowSeconds", "selectPolicy", "policies"):
        if rules.get(key) is None and key in default:
            rules[key] = copy.deepcopy(default[key])
    return rules


_SCALE_UP_RULES = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
    {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}
# scaleDown leaves stabilizationWindowSeconds unset: the controller's
# --horizontal-pod-autoscaler-downscale-stabilization flag (5 minutes) applies.
_SCALE_DOWN_RULES = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _default_hpa(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    for metric in _dicts(spec, "metrics"):
        for source in metric.values():
            if isinstance(source, dict):
                _canonical_quantity(source.get("target"), "value")
                _canonical_quantity(source.get("target"), "averageValue")
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):  # only a behavior the user started is completed
        behavior["scaleUp"] = _default_scaling_rules(behavior.get("scaleUp"), _SCALE_UP_RULES)
        behavior["scaleDown"] = _default_scaling_rules(behavior.get("scaleDown"), _SCALE_DOWN_RULES)


def _default_network_policy(obj: dict) -> None:
    spec = _dict(obj, "spec")
    for direction in ("ingress", "egress"):
        for rule in _dicts(spec, direction):
            for port in _dicts(rule, "ports"):
                if port.get("protocol") is None:
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _default_storage_class(obj: dict) -> None:
    if obj.get("reclaimPolicy") is None:
        obj["reclaimPolicy"] = "Delete"
    if obj.get("volumeBindingMode") is None:
        obj["volumeBindingMode"] = "Immediate"


def _default_ingress_class(obj: dict) -> None:
    """SetDefaults_IngressClass: a parameters reference without a scope is cluster-scoped."""
    parameters = (obj.get("spec") or {}).get("parameters")
    if isinstance(parameters, dict) and parameters.get("scope") is None:
        parameters["scope"] = "Cluster"


def _default_priority_class(obj: dict) -> None:
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = "PreemptLowerPriority"


_DEFAULTERS: dict[str, Callable[[dict], None]] = {
    "Pod": _default_pod,
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replica_set,
    "ReplicationController": _default_replication_controller,
    "StatefulSet": _default_stateful_set,
    "DaemonSet": _default_daemon_set,
    "Job": _default_job,
    "CronJob": _default_cron_job,
    "Service": _default_service,
    "Namespace": _default_namespace,
    "Node": _default_node,
    "PersistentVolume": _default_pv,
    "PersistentVolumeClaim": _default_pvc,
    "Secret": _default_secret,
    "LimitRange": _default_limit_range,
    "ResourceQuota": _default_resource_quota,
    "Endpoints": _default_endpoints,
    "EndpointSlice": _default_endpoint_slice,
    "RoleBinding": _default_role_binding,
    "ClusterRoleBinding": _default_role_binding,
    "HorizontalPodAutoscaler": _default_hpa,
    "NetworkPolicy": _default_network_policy,
    "IngressClass": _default_ingress_class,
    "StorageClass": _default_storage_class,
    "PriorityClass": _default_priority_class,
}
