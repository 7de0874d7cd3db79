"""``kubectl logs``: kubectl's cmd/logs and polymorphichelpers.LogsForObject, against the ``pods/log`` subresource.

Interface: ``logs(invocation) -> str``, what kubectl prints: the notices kubectl writes to stderr while it
picks pods and containers (they come first: kubectl writes them before it reads any log), then each log
stream in turn.

- ``POD`` / ``pod/POD`` [``CONTAINER`` | ``-c CONTAINER``]: that pod's container; with no container, the
  ``kubectl.kubernetes.io/default-container`` annotation or the first container, with the stderr notice
  ``Defaulted container "a" out of: a, b`` when there was a choice.
- ``TYPE/NAME`` for a Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job or Service:
  the object's pod selector (SelectorsForObject), and of its pods the first in ``podutils.ByLogging`` order
  (scheduled, Running before Unknown before Pending, Ready, Ready longest, most restarts, oldest), with the
  stderr notice ``Found 3 pods, using pod/web-abc`` when several match. Other kinds: ``cannot get the logs
  from *v1.ConfigMap: selector for *v1.ConfigMap not implemented``. No pod matching: kubectl waits
  ``--pod-running-timeout`` (20s) for one to appear; this kubectl does not wait on the virtual clock, so it
  answers at once with the error the wait ends in.
- ``-l SELECTOR``: every matching pod, in the order the API lists them, ``--tail`` defaulting to 10;
  ``No resources found in NS namespace.`` when none match. ``-f`` with more streams than
  ``--max-log-requests`` (default 5) is refused with kubectl's message.
- ``--all-containers``, ``--prefix`` (``[pod/NAME/CONTAINER] `` before every line), ``--previous``,
  ``--tail``, ``--timestamps``, ``--limit-bytes``.

When no component serves ``pods/log`` it answers with the message the kubelet would give for the container's
state (``container "nginx" in pod "web" is waiting to start: ContainerCreating``), computed from the pod's
status. A stream that fails stops the output there, as kubectl's sequential reading does. This module never
waits, follows or advances the clock: ``-f`` prints what has been logged so far.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.api import errors
from engine.api.meta import parse_timestamp
from engine.api.selectors import SelectorError, from_label_selector, from_set
from engine.apiserver.server import Request
from engine.kubectl.cli import Invocation, KubectlError, format_api_error, resolve_kind

USAGE = ("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument "
         "for the logs command")
SELECTOR_TAIL = 10
"""kubectl's ``selectorTail``: the default ``--tail`` with ``-l``."""
MAX_FOLLOW_CONCURRENCY = 5
"""``--max-log-requests``'s default."""
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
SELECTED_BY_SPEC = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
"""Kinds whose pods ``spec.selector`` (a LabelSelector) picks; ReplicationController and Service use a map."""


@dataclass
class LogRequest:
    """One stream kubectl will read: a pod's container."""

    pod: dict
    container: str


# -- the kubelet's answer when nothing serves pods/log ------------------------

def _container_status(pod: dict, name: str) -> dict | None:
    status = pod.get("status") or {}
    for entry in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if entry.get("name") == name:
            return entry
    return None


def log_state_error(pod: dict, container: str, previous: bool) -> str | None:
    """The kubelet's ``validateContainerLogStatus`` message, or None when logs can be read."""
    pod_name = pod["metadata"]["name"]
    entry = _container_status(pod, container)
    if entry is None:
        return f'container "{container}" in pod "{pod_name}" is waiting to start: ContainerCreating'
    state = entry.get("state") or {}
    last = (entry.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            return f'previous terminated container "{container}" in pod "{pod_name}" not found'
        return None
    if state.get("running") is not None:
        return None
    if state.get("terminated") is not None:
        if state["terminated"].get("containerID") or (last and last.get("containerID")):
            return None
        return f'container "{container}" in pod "{pod_name}" is terminated'
    if last is not None:
        return None if last.get("containerID") else f'container "{container}" in pod "{pod_name}" is terminated'
    waiting = state.get("waiting")
    if waiting is not None:
        reason = waiting.get("reason", "")
        if reason == "ErrImagePull":
            return f'container "{container}" in pod "{pod_name}" is waiting to start: image can\'t be pulled'
        if reason == "ImagePullBackOff":
            return (f'container "{container}" in pod "{pod_name}" is waiting to start: trying and failing to '
                    f'pull image')
        return f'container "{container}" in pod "{pod_name}" is waiting to start: {reason}'
    return f'container "{container}" in pod "{pod_name}" is waiting to start - no logs yet'


# -- podutils.ByLogging -------------------------------------------------------

def _ready_since(pod: dict) -> float | None:
    """When the Ready condition last turned True, or None when the pod is not Ready."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            stamp = condition.get("lastTransitionTime")
            return parse_timestamp(stamp) if stamp else float("inf")
    return None


def _created(pod: dict) -> float:
    stamp = pod["metadata"].get("creationTimestamp")
    return parse_timestamp(stamp) if stamp else float("inf")     # a zero time sorts last


PHASE_ORDER = {"Running": 0, "Unknown": 1, "Pending": 2}


def by_logging(pod: dict) -> tuple:
    """The sort key of kubectl's ``podutils.ByLogging``: the best pod to read logs from comes first."""
    ready_since = _ready_since(pod)
    restarts = max([c.get("restartCount", 0) for c in (pod.get("status") or {}).get("containerStatuses") or []],
                   default=0)
    return (not (pod.get("spec") or {}).get("nodeName"),
            PHASE_ORDER.get((pod.get("status") or {}).get("phase"), 0),
            ready_since is None,
            ready_since if ready_since is not None else 0.0,
            -restarts,
            _created(pod))


# -- choosing the streams -----------------------------------------------------

def _go_type(kind_name: str, version: str) -> str:
    return f"*{version}.{kind_name}"


def pod_selector(obj: dict) -> str:
    """polymorphichelpers.SelectorsForObject: the selector of the pods an object stands for."""
    kind_name = obj.get("kind", "")
    version = obj.get("apiVersion", "v1").rpartition("/")[2]
    spec = obj.get("spec") or {}
    try:
        if kind_name in SELECTED_BY_SPEC:
            return str(from_label_selector(spec.get("selector")))
        if kind_name == "ReplicationController":
            return str(from_set(spec.get("selector")))
        if kind_name == "Service":
            if not spec.get("selector"):
                raise KubectlError(f"cannot get the logs from {_go_type(kind_name, version)}: invalid service "
                                   f"'{obj['metadata']['name']}': Service is defined without a selector")
            return str(from_set(spec.get("selector")))
    except SelectorError as error:
        raise KubectlError(f"cannot get the logs from {_go_type(kind_name, version)}: invalid label selector: "
                           f"{error}") from None
    go_type = _go_type(kind_name, version)
    raise KubectlError(f"cannot get the logs from {go_type}: selector for {go_type} not implemented")


def _get(invocation: Invocation, plural: str, name: str) -> dict:
    try:
        return invocation.client.get(plural, name, invocation.namespace)
    except errors.NotFound as error:
        raise KubectlError(f"error from server (NotFound): {error.message} in namespace "
                           f'"{invocation.namespace}"') from None


def _pods(invocation: Invocation, notices: list[str]) -> list[dict]:
    """The pods whose logs are read: the named pod, the first of a workload's, or all a selector matches."""
    namespace = invocation.namespace
    selector = invocation.flags.get("selector")
    if selector:
        pods = invocation.client.list("pods", namespace, label_selector=selector)["items"]
        if not pods:
            notices.append(f"No resources found in {namespace} namespace.\n")
        return pods
    target = invocation.args[0]
    if "/" not in target:
        return [_get(invocation, "pods", target)]
    type_name, _, name = target.partition("/")
    kind = resolve_kind(type_name)
    obj = _get(invocation, kind.plural, name)
    if kind.kind == "Pod" and not kind.group:
        return [obj]
    pods = invocation.client.list("pods", namespace, label_selector=pod_selector(obj))["items"]
    if not pods:
        raise KubectlError("timed out waiting for the condition")
    pods.sort(key=by_logging)
    if len(pods) > 1:
        notices.append(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n")
    return pods[:1]


def _all_names(spec: dict) -> tuple[list[str], list[str], list[str]]:
    return ([c.get("name") for c in spec.get("initContainers") or []],
            [c.get("name") for c in spec.get("containers") or []],
            [c.get("name") for c in spec.get("ephemeralContainers") or []])


def _requests_for(invocation: Invocation, pod: dict, container: str, notices: list[str]) -> list[LogRequest]:
    spec = pod.get("spec") or {}
    init_names, names, ephemeral = _all_names(spec)
    if invocation.flag_bool("all-containers"):
        return [LogRequest(pod, name) for name in init_names + names + ephemeral]
    if not container:
        annotated = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
        container = annotated if annotated in names else names[0] if names else ""
        if (len(names) > 1 or init_names or ephemeral) and annotated not in names:
            everything = names + [f"{n} (init)" for n in init_names] + [f"{n} (ephem)" for n in ephemeral]
            notices.append(f'Defaulted container "{container}" out of: {", ".join(everything)}\n')
    if container not in init_names + names + ephemeral:
        raise KubectlError(f"container {container} is not valid for pod {pod['metadata']['name']}")
    return [LogRequest(pod, container)]


def _params(invocation: Invocation) -> dict:
    params: dict = {}
    if invocation.flag_bool("previous"):
        params["previous"] = True
    tail = invocation.flag_int("tail")
    if tail is None and invocation.flags.get("selector"):
        tail = SELECTOR_TAIL
    if tail is not None and tail < -1:
        raise KubectlError("--tail must be greater than or equal to -1")
    if tail is not None and tail >= 0:
        params["tailLines"] = tail
    if invocation.flag_bool("timestamps"):
        params["timestamps"] = True
    limit = invocation.flag_int("limit-bytes")
    if limit is not None and limit < 0:
        raise KubectlError("--limit-bytes must be greater than 0")
    if limit:
        params["limitBytes"] = limit
    return params


def _read(invocation: Invocation, request: LogRequest, params: dict) -> str:
    pod, namespace = request.pod, request.pod["metadata"].get("namespace", invocation.namespace)
    if not (pod.get("spec") or {}).get("nodeName"):
        return ""
    server = invocation.client.server
    if ("pods", "log") not in server.connect_handlers:
        problem = log_state_error(pod, request.container, invocation.flag_bool("previous"))
        if problem is not None:
            raise errors.bad_request(problem)
        return ""
    text = server.handle(Request("get", "pods", namespace=namespace, name=pod["metadata"]["name"],
                                 subresource="log", params={"container": request.container, **params},
                                 token=invocation.client.token))
    text = text if isinstance(text, str) else "".join(text)
    if invocation.flag_bool("prefix") and text:
        prefix = f"[pod/{pod['metadata']['name']}/{request.container}] "
        text = "".join(prefix + line for line in text.splitlines(keepends=True))
    return text


def logs(invocation: Invocation) -> str:
    """``kubectl logs (POD | TYPE/NAME | -l SELECTOR) [CONTAINER | -c CONTAINER]``."""
    args, selector = invocation.args, invocation.flags.get("selector")
    if (not args and not selector) or len(args) > 2:
        raise KubectlError(USAGE)
    if len(args) == 1 and selector:
        raise KubectlError("only a selector (-l) or a POD name is allowed")
    container = invocation.flags.get("container") or ""
    if len(args) == 2:
        if container:
            raise KubectlError("only one of -c or an inline [CONTAINER] arg is allowed")
        container = args[1]
    if invocation.flag_bool("all-containers") and container:
        raise KubectlError(f"--all-containers=true should not be specified with container name {container}")
    params = _params(invocation)
    notices: list[str] = []
    requests = [request for pod in _pods(invocation, notices)
                for request in _requests_for(invocation, pod, container, notices)]
    limit = invocation.flag_int("max-log-requests")
    limit = MAX_FOLLOW_CONCURRENCY if limit is None else limit
    if invocation.flag_bool("follow") and len(requests) > 1 and len(requests) > limit:
        raise KubectlError(f"you are attempting to follow {len(requests)} log streams, but maximum allowed "
                           f"concurrency is {limit}, use --max-log-requests to increase the limit")
    text = "".join(notices)
    for request in requests:
        try:
            text += _read(invocation, request, params)
        except errors.ApiError as error:
            return text + format_api_error(error)
    return text
