"""The ``kubectl`` command line: parse one command, run it against a ``Cluster``, return what kubectl prints.

Interface:

- ``run(cluster, command) -> str``: the whole text kubectl would print
  (stdout, then what it would write to stderr), ending with a newline.
  ``kubectl`` as the first word is optional. Nothing is raised for a failing
  command: API errors print as kubectl prints them (``Error from server
  (NotFound): pods "x" not found``), usage errors as ``error: ...``.

Parsing follows kubectl's flags (``-n``, ``-A``, ``-l``, ``--field-selector``,
``-o``, ``-f``, ``--show-labels``, ``--replicas``, ...): ``--flag=value`` and
``--flag value`` both work, repeated flags accumulate where kubectl's do
(``-f``, ``--from-literal``). Each verb lives in its own module; this one holds
the parser, the shared ``Invocation`` they receive, and ``get``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from engine.api import errors
from engine.api.kinds import Kind
from engine.apiserver.authn import UserInfo
from engine.kubectl.discovery import discovered, served_kinds
from engine.kubectl import jsonpath, output, printers

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.cluster import Cluster


class KubectlError(Exception):
    """A usage error: printed as ``error: <message>``."""


SHORT_FLAGS = {"-n": "namespace", "-A": "all-namespaces", "-l": "selector", "-o": "output", "-f": "filename",
               "-c": "container", "-R": "recursive", "-w": "watch", "-i": "stdin", "-t": "tty",
               "-q": "quiet", "-L": "label-columns", "-k": "kustomize", "-h": "help"}
BOOLEAN_FLAGS = {"ignore-daemonsets", "delete-emptydir-data", "disable-eviction", "all-namespaces", "show-labels", "no-headers", "overwrite", "all", "previous", "force", "now",
                 "show-kind", "recursive", "watch", "stdin", "tty", "quiet", "rm", "help", "ignore-not-found",
                 "list", "local", "follow", "timestamps", "short", "show-managed-fields", "wait",
                 "record", "namespaced", "no-headers", "containers", "sort-by-cpu", "all-containers", "prefix",
                 "ignore-errors"}
REPEATED_FLAGS = {"filename", "from-literal", "from-file", "env", "label-columns", "verb", "resource",
                  "resource-name", "user", "group", "serviceaccount", "as-group", "rule", "annotation"}


@dataclass
class Invocation:
    """One parsed command: the verb, its positional words, its flags, and the cluster."""

    cluster: "Cluster"
    verb: str
    args: list[str]
    flags: dict[str, Any] = field(default_factory=dict)
    stdin: str | None = None

    @property
    def client(self) -> "Client":
        """The admin's client; with ``--as`` (and ``--as-group``) the impersonated user's, whom RBAC judges.

        The real kubectl sends Impersonate-User / Impersonate-Group headers; the admin (system:masters) may
        impersonate anyone, so the request is served as that user.
        """
        user = self.impersonated
        return self.cluster.admin if user is None else self.cluster.client(user.name, user.groups)

    @property
    def impersonated(self) -> UserInfo | None:
        """``--as USER [--as-group GROUP]...`` as the API server's impersonation filter sees them, or None.

        A ServiceAccount's user name gets its ServiceAccount groups, and everyone is system:authenticated.
        """
        user = self.flags.get("as")
        if not user:
            return None
        extra = self.flags.get("as-group") or []
        groups = [extra] if isinstance(extra, str) else list(extra)
        if user.startswith("system:serviceaccount:"):
            namespace = user.split(":")[2]
            groups += ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
        groups.append("system:authenticated")
        return UserInfo(user, tuple(groups))

    @property
    def now(self) -> float:
        return self.cluster.now

    @property
    def namespace(self) -> str:
        return self.flags.get("namespace") or "default"

    @property
    def all_namespaces(self) -> bool:
        return self.flag_bool("all-namespaces")

    def flag_bool(self, name: str) -> bool:
        value = self.flags.get(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        return str(value).lower() not in ("false", "0", "")

    def flag_int(self, name: str) -> int | None:
        value = self.flags.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise KubectlError(f'invalid argument "{value}" for "--{name}" flag: strconv.ParseInt: '
                               f'parsing "{value}": invalid syntax') from None

    def filenames(self) -> list[str]:
        return list(self.flags.get("filename") or [])


def parse(words: list[str]) -> tuple[str, list[str], dict[str, Any]]:
    """Split kubectl words into the verb (``rollout status`` counts as one), positionals and flags."""
    positional: list[str] = []
    flags: dict[str, Any] = {}
    verb = ""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            flags["--"] = len(positional)      # cobra's ArgsLenAtDash: where ``exec POD -- CMD`` starts CMD
            positional.extend(words[index:])
            break
        if word.startswith("-") and word != "-" and len(word) > 1 and not _is_number(word):
            if word.startswith("--"):
                name, has_value, value = word[2:].partition("=")
            else:
                short = word[:2]
                name = SHORT_FLAGS.get(short, short.lstrip("-"))
                rest = word[2:]
                has_value, value = (True, rest.lstrip("=")) if rest else (False, "")
                if short == "-p":
                    name = "previous" if verb == "logs" else "patch"
                elif short == "-f" and verb == "logs":
                    name = "follow"
            if not has_value:
                if name in BOOLEAN_FLAGS:
                    value = True
                elif index < len(words):
                    value = words[index]
                    index += 1
                else:
                    raise KubectlError(f"flag needs an argument: {word}")
            if name in REPEATED_FLAGS:
                flags.setdefault(name, []).append(value)
            else:
                flags[name] = value
        elif not verb:
            verb = word
            if verb in ("rollout", "auth", "config", "create", "top", "set") and index < len(words) \
                    and not words[index].startswith("-"):
                sub = words[index]
                if verb != "create" or sub in CREATE_SUBCOMMANDS:
                    verb = f"{verb} {sub}"
                    index += 1
        else:
            positional.append(word)
    return verb, positional, flags


CREATE_SUBCOMMANDS = {"deployment", "namespace", "ns", "configmap", "cm", "secret", "service", "svc", "job",
                      "cronjob", "serviceaccount", "sa", "role", "rolebinding", "clusterrole",
                      "clusterrolebinding", "quota", "priorityclass", "poddisruptionbudget", "pdb", "ingress",
                      "ing", "token"}


def _is_number(word: str) -> bool:
    try:
        float(word)
        return True
    except ValueError:
        return False


def format_api_error(error: errors.ApiError) -> str:
    """How kubectl's ``CheckErr`` prints an API error."""
    if isinstance(error, errors.Invalid):
        details = error.details or {}
        head = "The request is invalid"
        if details.get("kind") or details.get("name"):
            head = f'The {details.get("kind", "")} "{details.get("name", "")}" is invalid'
        causes = error.causes
        if causes:
            texts = [f"{c['field']}: {c['message']}" if c.get("field") else c.get("message", "") for c in causes]
            if len(texts) == 1:
                return f"{head}: {texts[0]}"
            return f"{head}: \n" + "\n".join(f"* {text}" for text in texts)
        return f"Error from server (Invalid): {error.message}"
    if error.message.startswith("the server doesn't have a resource type"):
        return f"error: {error.message}"
    if error.reason:
        return f"Error from server ({error.reason}): {error.message}"
    return f"Error from server: {error.message}"


def run(cluster: "Cluster", command: str, *, stdin: str | None = None) -> str:
    """Run one kubectl command line; returns everything kubectl would print, ending with a newline."""
    try:
        words = shlex.split(command)
    except ValueError as error:
        return f"error: {error}\n"
    if words and words[0] == "kubectl":
        words = words[1:]
    try:
        verb, args, flags = parse(words)
    except KubectlError as error:
        return f"error: {error}\n"
    if not verb:
        return USAGE
    handler = verb_handler(verb)
    if handler is None:
        return _unknown(verb)
    invocation = Invocation(cluster, verb, args, flags, stdin)
    try:
        with discovered(cluster.apiserver.registry):
            text = handler(invocation)
    except errors.ApiError as error:
        text = format_api_error(error)
    except (KubectlError, jsonpath.JSONPathError, output.OutputError) as error:
        text = f"error: {error}"
    except FileNotFoundError as error:
        text = f'error: the path "{error.filename}" does not exist'
    except ValueError as error:  # a flag or argument that does not parse (a port that is not a number, ...)
        text = f"error: {error}"
    if str(flags.get("output") or "").startswith("jsonpath=") and verb == "get" and not text.startswith("error:"):
        return text  # kubectl prints a JSONPath result without a trailing newline
    return text if text.endswith("\n") or not text else text + "\n"


NOT_HERE = {"attach", "port-forward", "proxy", "cp", "edit", "replace", "wait", "diff", "debug", "config",
            "certificate", "kustomize", "plugin", "completion", "events", "alpha"}
"""Real kubectl commands this miniature does not have (yet): said plainly, not as unknown commands."""


def _unknown(verb: str) -> str:
    words = verb.split()
    if words[0] in NOT_HERE:
        return f'error: "kubectl {words[0]}" is not part of this miniature kubectl\n'
    if len(words) > 1 and words[0] != "create":
        return f'error: unknown command "{words[1]}" for "kubectl {words[0]}"\n'
    return f'error: unknown command "{words[0]}" for "kubectl"\n'


USAGE = ("kubectl controls the Kubernetes cluster manager.\n\n"
         " Find more information at: https://kubernetes.io/docs/reference/kubectl/\n")


def verb_handler(verb: str) -> Callable[[Invocation], str] | None:
    from engine.kubectl import autoscale, create, describe, info, logs, podexec, rollout, shortcuts, verbs
    table: dict[str, Callable[[Invocation], str]] = {
        "get": get,
        "describe": describe.run_describe,
        "apply": verbs.apply,
        "create": create.create,
        "delete": verbs.delete,
        "scale": verbs.scale,
        "autoscale": autoscale.autoscale,
        "label": verbs.label,
        "annotate": verbs.annotate,
        "patch": verbs.patch,
        "run": create.run_pod,
        "cordon": verbs.cordon,
        "uncordon": verbs.uncordon,
        "logs": logs.logs,
        "exec": podexec.exec_command,
        "top": info.top,
        "top nodes": info.top,
        "top node": info.top,
        "top pods": info.top,
        "top pod": info.top,
        "explain": info.explain,
        "version": info.version,
        "api-resources": info.api_resources,
        "cluster-info": info.cluster_info,
        "auth can-i": info.auth_can_i,
        "set image": shortcuts.set_image,
        "expose": shortcuts.expose,
        "taint": shortcuts.taint,
        "drain": shortcuts.drain,
    }
    if verb.startswith("create "):
        return create.create
    if verb.startswith("rollout "):
        return rollout.HANDLERS.get(verb.split()[1])
    return table.get(verb)


# -- resolving what the user named --------------------------------------------

ALL_CATEGORY = ("pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets",
                "horizontalpodautoscalers", "cronjobs", "jobs")
"""``kubectl get all``: the ``all`` category in discovery order."""


def resolve_kind(name: str) -> Kind:
    kind = served_kinds().find(name)
    if kind is None:
        raise KubectlError(f'the server doesn\'t have a resource type "{name}"')
    return kind


def resolve_targets(args: list[str]) -> list[tuple[Kind, list[str]]]:
    """``pods,svc web`` or ``pod/web deploy/api`` into (kind, names) pairs; no names means all."""
    if not args:
        raise KubectlError("You must specify the type of resource to get. Use \"kubectl api-resources\" for a "
                           "complete list of supported resources.")
    if any("/" in arg for arg in args):
        targets: list[tuple[Kind, list[str]]] = []
        for arg in args:
            type_name, slash, name = arg.partition("/")
            if not slash:
                raise KubectlError("there is no need to specify a resource type as a separate argument when "
                                   "passing arguments in resource/name form (e.g. 'kubectl get resource/<"
                                   "resource_name>' instead of 'kubectl get resource resource/<resource_name>'")
            kind = resolve_kind(type_name)
            if targets and targets[-1][0] == kind:
                targets[-1][1].append(name)
            else:
                targets.append((kind, [name]))
        return targets
    kinds: list[Kind] = []
    for type_name in args[0].split(","):
        if not type_name:
            continue
        if type_name == "all":
            kinds.extend(served_kinds().lookup(plural) for plural in ALL_CATEGORY)
        else:
            kinds.append(resolve_kind(type_name))
    return [(kind, list(args[1:])) for kind in kinds]


def multiple_types(args: list[str]) -> bool:
    """``resource.MultipleTypesRequested``: ``all``, ``a,b`` or several ``type/name`` types."""
    types = set()
    for arg in args[:1] if args and "/" not in args[0] else args:
        if "/" in arg:
            types.add(arg.split("/")[0])
        else:
            for type_name in arg.split(","):
                if type_name == "all":
                    return True
                types.add(type_name)
    return len(types) > 1


def scope_of(invocation: Invocation, kind: Kind) -> str | None:
    if not kind.namespaced or invocation.all_namespaces:
        return None
    return invocation.namespace


def fetch(invocation: Invocation, kind: Kind, names: list[str]) -> tuple[list[dict], list[str]]:
    """The objects named (or listed with the selectors), and the error lines for missing names."""
    client = invocation.client
    namespace = scope_of(invocation, kind)
    if names:
        found, problems = [], []
        for name in names:
            try:
                found.append(client.get(kind.plural, name, namespace if kind.namespaced else None))
            except errors.NotFound as error:
                problems.append(format_api_error(error))
        return found, problems
    listing = client.list(kind.plural, namespace, label_selector=invocation.flags.get("selector"),
                          field_selector=invocation.flags.get("field-selector"))
    return listing["items"], []


def sort_objects(objects: list[dict], expression: str | None) -> list[dict]:
    """``--sort-by=.metadata.name``: kubectl's RuntimeSort, on the first value the path selects.

    Its Less says an object missing the value sorts before anything (even another
    missing one), and Go's sort.Sort is an insertion sort for lists this short: so
    objects missing the value come first, in reverse order, the others in order.
    """
    if not expression:
        return objects
    template = jsonpath.relaxed(expression)

    def key(obj: dict) -> tuple[int, Any] | None:
        values = jsonpath.find_results(template, obj)
        if not values:
            return None
        value = values[0]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value)
        return (2, str(value))

    def less(a: tuple[int, Any] | None, b: tuple[int, Any] | None) -> bool:
        if a is None:
            return True
        if b is None:
            return False
        return a < b

    keyed = [(key(obj), obj) for obj in objects]
    for i in range(1, len(keyed)):          # insertionSort(data, 0, n)
        j = i
        while j > 0 and less(keyed[j][0], keyed[j - 1][0]):
            keyed[j], keyed[j - 1] = keyed[j - 1], keyed[j]
            j -= 1
    return [obj for _, obj in keyed]


# -- get ----------------------------------------------------------------------

def get(invocation: Invocation) -> str:
    """``kubectl get``: tables, or yaml/json/name/jsonpath/custom-columns with ``-o``."""
    if invocation.filenames():
        from engine.kubectl.verbs import objects_from_files
        targets: list[tuple[Kind, list[str]]] = []
        for obj in objects_from_files(invocation):
            kind = served_kinds().for_object(obj)
            if kind.namespaced and not invocation.flags.get("namespace"):
                invocation.flags["namespace"] = (obj.get("metadata") or {}).get("namespace")
            targets.append((kind, [obj["metadata"]["name"]]))
        with_kind = len({kind for kind, _ in targets}) > 1
    else:
        targets = resolve_targets(invocation.args)
        with_kind = multiple_types(invocation.args) or invocation.flag_bool("show-kind")
    out_format = invocation.flags.get("output") or ""
    problems: list[str] = []
    groups: list[tuple[Kind, list[dict]]] = []
    for kind, names in targets:
        objects, missing = fetch(invocation, kind, names)
        problems.extend(missing)
        groups.append((kind, sort_objects(objects, invocation.flags.get("sort-by"))))
    if not invocation.flag_bool("show-managed-fields"):
        for _, objects in groups:
            for obj in objects:
                (obj.get("metadata") or {}).pop("managedFields", None)
    everything = [obj for _, objects in groups for obj in objects]
    single = bool(targets) and len(targets) == 1 and len(targets[0][1]) == 1
    if problems and not everything and out_format in ("", "wide"):
        return "".join(problem + "\n" for problem in problems)
    text = _print(invocation, groups, everything, out_format, with_kind, single)
    if problems:
        text += "".join(problem + "\n" for problem in problems)
    return text


def _print(invocation: Invocation, groups: list[tuple[Kind, list[dict]]], everything: list[dict],
           out_format: str, with_kind: bool, single: bool) -> str:
    if out_format in ("yaml", "json"):
        if not everything and not single:
            document: Any = output.as_list([])
        elif single and len(everything) == 1:
            document = everything[0]
        else:
            document = output.as_list(everything)
        if not everything and single:
            return ""
        return output.to_yaml(document) if out_format == "yaml" else output.to_json(document)
    if out_format == "name":
        return "".join(output.name_of(kind, obj) + "\n" for kind, objects in groups for obj in objects)
    if out_format.startswith(("jsonpath=", "jsonpath-as-json=")):
        template = out_format.split("=", 1)[1]
        data: Any = everything[0] if single and len(everything) == 1 else output.as_list(everything)
        if out_format.startswith("jsonpath-as-json="):
            return output.to_json(jsonpath.find_results(template, data))
        return jsonpath.render(template, data)
    if out_format.startswith("custom-columns="):
        return output.custom_columns(out_format.split("=", 1)[1], everything,
                                     no_headers=invocation.flag_bool("no-headers"))
    if out_format not in ("", "wide"):
        raise KubectlError(f'unable to match a printer suitable for the output format "{out_format}", allowed '
                           f'formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,'
                           f'jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml')
    tables = []
    namespaced_everywhere = not invocation.all_namespaces
    # With -A, cluster-scoped tables have no NAMESPACE column, unless a namespaced table came before
    # them: then kubectl keeps the column (empty), as its table printer keeps its options.
    namespace_column = False
    for kind, objects in groups:
        if not objects:
            continue
        namespace_column = invocation.all_namespaces and (kind.namespaced or namespace_column)
        tables.append(printers.render_table(
            kind, objects, invocation.now, wide=out_format == "wide",
            namespace_column=namespace_column,
            show_labels=invocation.flag_bool("show-labels"), with_kind=with_kind,
            label_columns=[key for value in invocation.flags.get("label-columns") or [] for key in value.split(",")],
            no_headers=invocation.flag_bool("no-headers")))
    if not tables:
        if invocation.flag_bool("ignore-not-found") or (single and not everything):
            return ""
        if namespaced_everywhere:
            return f"No resources found in {invocation.namespace} namespace.\n"
        return "No resources found\n"
    return "\n".join(tables)
