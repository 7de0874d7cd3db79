"""``kubectl exec POD [-c CONTAINER] -- COMMAND [args...]`` (``pkg/cmd/exec``), non-interactive.

Interface: ``exec_command(invocation) -> str``, what kubectl prints: the
command's stdout then its stderr, then ``command terminated with exit code N``
when it fails. kubectl reads the pod first (``Error from server (NotFound)``,
``cannot exec into a container in a completed pod``), picks the container
(``-c``, else the ``kubectl.kubernetes.io/default-container`` annotation, else
the first, saying ``Defaulted container ...`` when there was a choice), then
creates ``pods/<name>/exec`` through the API server, which asks the pod's
kubelet. A refusal before the stream opens prints as an API error
(``Error from server (Forbidden)``, ``(BadRequest)``); what goes wrong after
reaches kubectl through the stream and prints as ``error: <message>``
(``error: Internal error occurred: unable to upgrade connection: container not found ("c")``).
There is no stdin and no terminal here: ``-i`` and ``-t`` are refused.
"""

from __future__ import annotations

from engine.api import errors
from engine.kubectl.cli import Invocation, KubectlError, resolve_kind

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def split_command(invocation: Invocation) -> tuple[str, list[str]]:
    """The pod and the command: ``exec POD -- CMD ...``; the old ``exec POD CMD`` form is refused as kubectl does."""
    args = invocation.args
    dash = invocation.flags.get("--")
    if not args or dash == 0:
        raise KubectlError("pod, type/name or --filename must be specified")
    if dash is None and len(args) > 1:
        raise KubectlError("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead")
    command = args[1:]
    if not command:
        raise KubectlError("you must specify at least one command for the container")
    return args[0], command


def default_container(pod: dict, quiet: bool) -> tuple[str, str]:
    """``FindOrDefaultContainerByName`` with no name: the container and the notice kubectl writes to stderr."""
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    annotated = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if annotated in names:
        return annotated, ""
    container = names[0] if names else ""
    notice = ""
    if (len(names) > 1 or init_names) and not quiet:
        everything = names + [f"{name} (init)" for name in init_names]
        notice = f'Defaulted container "{container}" out of: {", ".join(everything)}\n'
    return container, notice


def exec_command(invocation: Invocation) -> str:
    """``kubectl exec``: run the command in the pod's container and print what it wrote."""
    if invocation.flag_bool("stdin") or invocation.flag_bool("tty"):
        raise KubectlError("this miniature kubectl has no terminal: run a command without -i/-t "
                           "(kubectl exec POD -- COMMAND)")
    target, command = split_command(invocation)
    if "/" in target:
        type_name, _, target = target.partition("/")
        if resolve_kind(type_name).kind != "Pod":
            raise KubectlError("exec is only implemented here for pods (pod/NAME)")
    namespace = invocation.namespace
    pod = invocation.client.get("pods", target, namespace)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise KubectlError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    container = invocation.flags.get("container") or ""
    notice = ""
    if not container:
        container, notice = default_container(pod, invocation.flag_bool("quiet"))
    try:
        result = invocation.client.exec(namespace, target, command, container=container)
    except errors.ApiError as error:
        if error.code < 500:
            raise                  # refused before any stream: kubectl prints the Status (Error from server ...)
        raise KubectlError(error.message) from None
    text = notice + result.stdout + result.stderr
    if result.exit_code:
        text += f"command terminated with exit code {result.exit_code}\n"
    return text
