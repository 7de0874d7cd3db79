"""The default ClusterRoles and ClusterRoleBindings kube-apiserver creates when it starts.

Interface: ``cluster_roles()``, ``cluster_role_bindings()`` and ``bootstrap_policy()``
(both, roles first) return fresh plain dicts in the real RBAC shapes, every one
labelled ``kubernetes.io/bootstrapping: rbac-defaults`` and annotated
``rbac.authorization.kubernetes.io/autoupdate: "true"``, as the real server's RBAC
post-start hook writes them. Callers may change what they get.

Copied from plugin/pkg/auth/authorizer/rbac/bootstrappolicy (policy.go and
controller_policy.go) for the parts this course runs, with the default feature
gates on. Like ``rbacv1helpers.NewRule(...).RuleOrDie()``, every rule's lists are
sorted. The user-facing roles admin, edit and view carry their real
``aggregationRule`` and, already filled in, the rules kube-controller-manager's
clusterrole-aggregation controller (``engine.controllers.clusterroleaggregation``)
converges to, computed by the same function: ``kubectl get clusterrole view -o yaml``
reads as on a real cluster from the first moment, the controller finds nothing to
write at boot, and a cluster started without the controller manager still has them.
The controller keeps them up to date as ClusterRoles labelled ``aggregate-to-*``
come and go.

One decision of ours: the real server leaves the ``system:node`` binding with no
subjects (kubelets are authorised by the Node authorizer plus NodeRestriction,
which this engine does not implement); here it binds the group ``system:nodes``,
the pre-1.8 behaviour, so kubelets get exactly the rules of ``system:node``.
"""

from __future__ import annotations

from engine.apiserver.rbac import RBAC_GROUP, aggregate_cluster_role

BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE_ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
CONTROLLER_ROLE_PREFIX = "system:controller:"

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
READ_WRITE = READ + WRITE
READ_UPDATE = ("get", "list", "watch", "update", "patch")

LEGACY, APPS, AUTHENTICATION, AUTHORIZATION = "", "apps", "authentication.k8s.io", "authorization.k8s.io"
AUTOSCALING, BATCH, CERTIFICATES, COORDINATION = "autoscaling", "batch", "certificates.k8s.io", "coordination.k8s.io"
DISCOVERY, EVENTS, EXTENSIONS, NETWORKING = "discovery.k8s.io", "events.k8s.io", "extensions", "networking.k8s.io"
POLICY, STORAGE = "policy", "storage.k8s.io"

AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"


def rule(verbs: tuple[str, ...] | str, groups: tuple[str, ...] | str = (), resources: tuple[str, ...] | str = (),
         names: tuple[str, ...] | str = (), urls: tuple[str, ...] | str = ()) -> dict:
    """A PolicyRule with sorted lists and without empty fields, as NewRule(...).RuleOrDie() builds it."""
    def listed(value: tuple[str, ...] | str) -> list[str]:
        return sorted([value] if isinstance(value, str) else value)

    built = {"verbs": listed(verbs)}
    for key, value in (("apiGroups", groups), ("resources", resources), ("resourceNames", names),
                       ("nonResourceURLs", urls)):
        if value or (key == "apiGroups" and resources):
            built[key] = listed(value)
    return built


def events_rule() -> dict:
    return rule(("create", "update", "patch"), (LEGACY, EVENTS), "events")


def _cluster_role(name: str, rules: list[dict], labels: dict | None = None,
                  aggregate_from: str | None = None) -> dict:
    role = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {**(labels or {}), **BOOTSTRAP_LABELS},
                     "annotations": dict(AUTOUPDATE_ANNOTATIONS)},
        "rules": rules,
    }
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + aggregate_from: "true"}}]}
    return role


def _binding(role_name: str, *, users: tuple[str, ...] = (), groups: tuple[str, ...] = (),
             service_accounts: tuple[tuple[str, str], ...] = (), name: str | None = None) -> dict:
    subjects = [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": group} for group in groups]
    subjects += [{"kind": "User", "apiGroup": RBAC_GROUP, "name": user} for user in users]
    subjects += [{"kind": "ServiceAccount", "name": sa, "namespace": ns} for ns, sa in service_accounts]
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name or role_name, "labels": dict(BOOTSTRAP_LABELS),
                     "annotations": dict(AUTOUPDATE_ANNOTATIONS)},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role_name},
        "subjects": subjects,
    }


# -- the user-facing roles ----------------------------------------------------

def _aggregate_to_view() -> list[dict]:
    return [
        rule(READ, LEGACY, ("pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                            "services", "services/status", "endpoints", "persistentvolumeclaims",
                            "persistentvolumeclaims/status", "configmaps")),
        rule(READ, LEGACY, ("limitranges", "resourcequotas", "bindings", "events", "pods/status",
                            "resourcequotas/status", "namespaces/status", "replicationcontrollers/status",
                            "pods/log")),
        # read access to namespaces at the namespace scope means you can read *this* namespace
        rule(READ, LEGACY, "namespaces"),
        rule(READ, DISCOVERY, "endpointslices"),
        rule(READ, APPS, ("controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                          "daemonsets", "daemonsets/status", "deployments", "deployments/status",
                          "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale")),
        rule(READ, AUTOSCALING, ("horizontalpodautoscalers", "horizontalpodautoscalers/status")),
        rule(READ, BATCH, ("jobs", "cronjobs", "cronjobs/status", "jobs/status")),
        rule(READ, EXTENSIONS, ("daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                "deployments/status", "ingresses", "ingresses/status", "replicasets",
                                "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
                                "networkpolicies")),
        rule(READ, POLICY, ("poddisruptionbudgets", "poddisruptionbudgets/status")),
        rule(READ, NETWORKING, ("networkpolicies", "ingresses", "ingresses/status")),
    ]


def _aggregate_to_edit() -> list[dict]:
    return [
        # read on escalating resources: exec, attach and secrets are as good as the service account's token
        rule(READ, LEGACY, ("pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets",
                            "services/proxy")),
        rule("impersonate", LEGACY, "serviceaccounts"),
        rule(WRITE, LEGACY, ("pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward")),
        rule(WRITE, LEGACY, ("replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                             "services", "services/proxy", "endpoints", "persistentvolumeclaims", "configmaps",
                             "secrets")),
        rule(WRITE, APPS, ("statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
                           "deployments/rollback", "replicasets", "replicasets/scale")),
        rule(WRITE, AUTOSCALING, "horizontalpodautoscalers"),
        rule(WRITE, BATCH, ("jobs", "cronjobs")),
        rule(WRITE, EXTENSIONS, ("daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                                 "ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale",
                                 "networkpolicies")),
        rule(WRITE, POLICY, "poddisruptionbudgets"),
        rule(WRITE, NETWORKING, ("networkpolicies", "ingresses")),
    ]


def _aggregate_to_admin() -> list[dict]:
    return [
        rule("create", AUTHORIZATION, "localsubjectaccessreviews"),
        rule(READ_WRITE, RBAC_GROUP, ("roles", "rolebindings")),
    ]


def _user_facing_roles() -> list[dict]:
    roles = [
        _cluster_role("system:aggregate-to-admin", _aggregate_to_admin(), {AGGREGATE_TO + "admin": "true"}),
        _cluster_role("system:aggregate-to-edit", _aggregate_to_edit(), {AGGREGATE_TO + "edit": "true"}),
        _cluster_role("system:aggregate-to-view", _aggregate_to_view(), {AGGREGATE_TO + "view": "true"}),
        _cluster_role("view", [], {AGGREGATE_TO + "edit": "true"}, aggregate_from="view"),
        _cluster_role("edit", [], {AGGREGATE_TO + "admin": "true"}, aggregate_from="edit"),
        _cluster_role("admin", [], aggregate_from="admin"),
    ]
    # What the clusterrole-aggregation controller converges to: view first, since edit aggregates it.
    for role in roles[3:]:
        role["rules"] = aggregate_cluster_role(role, roles)
    return roles


# -- the system components ------------------------------------------------------

def node_rules() -> list[dict]:
    """What a kubelet may do (NodeRules in policy.go)."""
    return [
        rule("create", AUTHENTICATION, "tokenreviews"),
        rule("create", AUTHORIZATION, ("subjectaccessreviews", "localsubjectaccessreviews")),
        # to build the service lister that fills containers' service environment variables
        rule(READ, LEGACY, "services"),
        rule(("create", "get", "list", "watch"), LEGACY, "nodes"),
        rule(("update", "patch"), LEGACY, "nodes/status"),
        rule(("update", "patch"), LEGACY, "nodes"),
        rule(("create", "update", "patch"), LEGACY, "events"),
        rule(READ, LEGACY, "pods"),
        # mirror pods of static manifests
        rule(("create", "delete"), LEGACY, "pods"),
        rule(("update", "patch"), LEGACY, "pods/status"),
        rule("create", LEGACY, "pods/eviction"),
        # secret and configMap volumes, env from secrets and configMaps, image pull secrets
        rule(READ, LEGACY, ("secrets", "configmaps")),
        rule("get", LEGACY, ("persistentvolumeclaims", "persistentvolumes")),
        rule("get", LEGACY, "endpoints"),
        rule(("create", "get", "list", "watch"), CERTIFICATES, "certificatesigningrequests"),
        # the node heartbeat Lease in kube-node-lease
        rule(("get", "create", "update", "patch", "delete"), COORDINATION, "leases"),
        rule("get", STORAGE, "volumeattachments"),
        rule(("get", "update", "patch"), LEGACY, "persistentvolumeclaims/status"),
        rule("create", LEGACY, "serviceaccounts/token"),
        rule(READ, STORAGE, "csidrivers"),
        rule(("get", "create", "update", "patch", "delete"), STORAGE, "csinodes"),
        rule(READ, "node.k8s.io", "runtimeclasses"),
    ]


def _system_roles() -> list[dict]:
    return [
        _cluster_role("cluster-admin", [rule("*", "*", "*"), rule("*", urls="*")]),
        _cluster_role("system:discovery", [rule("get", urls=(
            "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
            "/api", "/api/*", "/apis", "/apis/*"))]),
        _cluster_role("system:basic-user", [
            rule("create", AUTHORIZATION, ("selfsubjectaccessreviews", "selfsubjectrulesreviews"))]),
        _cluster_role("system:public-info-viewer", [rule("get", urls=(
            "/livez", "/readyz", "/healthz", "/version", "/version/"))]),
        _cluster_role("system:node", node_rules()),
        _cluster_role("system:node-proxier", [
            rule(("list", "watch"), LEGACY, ("services", "endpoints")),
            rule(READ, LEGACY, "nodes"),
            events_rule(),
            rule(("list", "watch"), DISCOVERY, "endpointslices"),
        ]),
        _cluster_role("system:auth-delegator", [
            rule("create", AUTHENTICATION, "tokenreviews"),
            rule("create", AUTHORIZATION, "subjectaccessreviews"),
        ]),
        _cluster_role("system:kube-controller-manager", [
            events_rule(),
            # leader election
            rule("create", COORDINATION, "leases"),
            rule(("get", "update"), COORDINATION, "leases", names="kube-controller-manager"),
            rule("create", LEGACY, "endpoints"),
            rule(("get", "update"), LEGACY, "endpoints", names="kube-controller-manager"),
            # to create the per-controller service accounts and their tokens
            rule("create", LEGACY, ("secrets", "serviceaccounts")),
            rule("delete", LEGACY, "secrets"),
            rule("get", LEGACY, ("namespaces", "secrets", "serviceaccounts", "configmaps")),
            rule("update", LEGACY, ("secrets", "serviceaccounts")),
            rule("create", AUTHENTICATION, "tokenreviews"),
            rule("create", AUTHORIZATION, "subjectaccessreviews"),
            # every shared informer
            rule(("list", "watch"), "*", "*"),
            rule("create", LEGACY, "serviceaccounts/token"),
        ]),
        _cluster_role("system:kube-scheduler", [
            events_rule(),
            # leader election
            rule("create", COORDINATION, "leases"),
            rule(("get", "update"), COORDINATION, "leases", names="kube-scheduler"),
            rule("create", LEGACY, "endpoints"),
            rule(("get", "update"), LEGACY, "endpoints", names="kube-scheduler"),
            rule(READ, LEGACY, "nodes"),
            rule(("get", "list", "watch", "delete"), LEGACY, "pods"),
            rule("create", LEGACY, ("pods/binding", "bindings")),
            rule(("patch", "update"), LEGACY, "pods/status"),
            # things that select pods
            rule(READ, LEGACY, ("services", "replicationcontrollers")),
            rule(READ, (APPS, EXTENSIONS), "replicasets"),
            rule(READ, APPS, "statefulsets"),
            # things that pods use or that apply to them
            rule(READ, POLICY, "poddisruptionbudgets"),
            rule(READ, LEGACY, ("persistentvolumeclaims", "persistentvolumes")),
            rule("create", AUTHENTICATION, "tokenreviews"),
            rule("create", AUTHORIZATION, "subjectaccessreviews"),
            rule(READ, STORAGE, "csinodes"),
            # namespaceSelector of inter-pod affinity terms
            rule(READ, LEGACY, "namespaces"),
            rule(READ, STORAGE, "csidrivers"),
            rule(READ, STORAGE, "csistoragecapacities"),
        ]),
        _cluster_role("system:volume-scheduler", [
            rule(READ_UPDATE, LEGACY, "persistentvolumes"),
            rule(READ, STORAGE, "storageclasses"),
            rule(READ_UPDATE, LEGACY, "persistentvolumeclaims"),
        ]),
        _cluster_role("system:kube-dns", [rule(("list", "watch"), LEGACY, ("endpoints", "services"))]),
    ]


def _controller_roles() -> list[dict]:
    """controller_policy.go: one role per kube-controller-manager controller, bound to its service account."""
    controllers: dict[str, list[dict]] = {
        "attachdetach-controller": [
            rule(("list", "watch"), LEGACY, ("persistentvolumes", "persistentvolumeclaims")),
            rule(READ, LEGACY, "nodes"),
            rule(("patch", "update"), LEGACY, "nodes/status"),
            rule(("list", "watch"), LEGACY, "pods"),
            events_rule(),
            rule(("get", "create", "delete", "list", "watch"), STORAGE, "volumeattachments"),
            rule(READ, STORAGE, "csidrivers"),
            rule(READ, STORAGE, "csinodes"),
        ],
        "clusterrole-aggregation-controller": [
            rule(("escalate", "get", "list", "watch", "update", "patch"), RBAC_GROUP, "clusterroles"),
        ],
        "cronjob-controller": [
            rule(("get", "list", "watch", "update"), BATCH, "cronjobs"),
            rule(("get", "list", "watch", "create", "update", "delete", "patch"), BATCH, "jobs"),
            rule("update", BATCH, "cronjobs/status"),
            rule("update", BATCH, "cronjobs/finalizers"),
            rule(("list", "delete"), LEGACY, "pods"),
            events_rule(),
        ],
        "daemon-set-controller": [
            rule(READ, (EXTENSIONS, APPS), "daemonsets"),
            rule("update", (EXTENSIONS, APPS), "daemonsets/status"),
            rule("update", (EXTENSIONS, APPS), "daemonsets/finalizers"),
            rule(("list", "watch"), LEGACY, "nodes"),
            rule(("list", "watch", "create", "delete", "patch"), LEGACY, "pods"),
            rule("create", LEGACY, "pods/binding"),
            rule(("get", "list", "watch", "create", "delete", "update", "patch"), APPS, "controllerrevisions"),
            events_rule(),
        ],
        "deployment-controller": [
            rule(("get", "list", "watch", "update"), (EXTENSIONS, APPS), "deployments"),
            rule("update", (EXTENSIONS, APPS), "deployments/status"),
            rule("update", (EXTENSIONS, APPS), "deployments/finalizers"),
            rule(("get", "list", "watch", "create", "update", "patch", "delete"), (APPS, EXTENSIONS), "replicasets"),
            rule(("get", "list", "watch", "update"), LEGACY, "pods"),
            events_rule(),
        ],
        "disruption-controller": [
            rule(READ, ("extensions", APPS), "deployments"),
            rule(READ, (APPS, "extensions"), "replicasets"),
            rule(READ, LEGACY, "replicationcontrollers"),
            rule(READ, POLICY, "poddisruptionbudgets"),
            rule(READ, APPS, "statefulsets"),
            rule("update", POLICY, "poddisruptionbudgets/status"),
            rule("get", "*", "*/scale"),
            rule(("patch", "update"), LEGACY, "pods/status"),
            events_rule(),
        ],
        "endpoint-controller": [
            rule(READ, LEGACY, ("services", "pods")),
            rule(("get", "list", "create", "update", "delete"), LEGACY, "endpoints"),
            rule("create", LEGACY, "endpoints/restricted"),
            events_rule(),
        ],
        "endpointslice-controller": [
            rule(READ, LEGACY, ("services", "pods", "nodes")),
            rule("update", LEGACY, "services/finalizers"),
            rule(("get", "list", "create", "update", "delete"), DISCOVERY, "endpointslices"),
            events_rule(),
        ],
        "generic-garbage-collector": [
            rule(("get", "list", "watch", "patch", "update", "delete"), "*", "*"),
            events_rule(),
        ],
        "horizontal-pod-autoscaler": [
            rule(READ, AUTOSCALING, "horizontalpodautoscalers"),
            rule("update", AUTOSCALING, "horizontalpodautoscalers/status"),
            rule(("get", "update"), "*", "*/scale"),
            rule("list", LEGACY, "pods"),
            rule("list", "metrics.k8s.io", "pods"),
            rule(("get", "list"), "custom.metrics.k8s.io", "*"),
            rule(("get", "list"), "external.metrics.k8s.io", "*"),
            events_rule(),
        ],
        "job-controller": [
            rule(("get", "list", "watch", "update", "patch"), BATCH, "jobs"),
            rule("update", BATCH, "jobs/status"),
            rule("update", BATCH, "jobs/finalizers"),
            rule(("list", "watch", "create", "delete", "patch"), LEGACY, "pods"),
            events_rule(),
        ],
        "namespace-controller": [
            rule(("get", "list", "watch", "delete"), LEGACY, "namespaces"),
            rule("update", LEGACY, ("namespaces/finalize", "namespaces/status")),
            rule(("get", "list", "delete", "deletecollection"), "*", "*"),
        ],
        "node-controller": [
            rule(("get", "list", "update", "delete", "patch"), LEGACY, "nodes"),
            rule(("patch", "update"), LEGACY, "nodes/status"),
            rule(("patch", "update"), LEGACY, "pods/status"),
            rule(("list", "get", "delete"), LEGACY, "pods"),
            events_rule(),
        ],
        "persistent-volume-binder": [
            rule(("get", "list", "watch", "update", "create", "delete"), LEGACY, "persistentvolumes"),
            rule("update", LEGACY, "persistentvolumes/status"),
            rule(("get", "list", "watch", "update"), LEGACY, "persistentvolumeclaims"),
            rule("update", LEGACY, "persistentvolumeclaims/status"),
            rule(("list", "watch", "get", "create", "delete"), LEGACY, "pods"),
            rule(READ, STORAGE, "storageclasses"),
            rule(("get", "create", "update", "delete"), LEGACY, "endpoints"),
            rule(("get", "create", "delete"), LEGACY, "services"),
            rule("get", LEGACY, "secrets"),
            rule(("get", "list"), LEGACY, "nodes"),
            rule("watch", LEGACY, "events"),
            events_rule(),
        ],
        "pod-garbage-collector": [
            rule(("list", "watch", "delete"), LEGACY, "pods"),
            rule(("get", "list"), LEGACY, "nodes"),
            rule("patch", LEGACY, "pods/status"),
        ],
        "replicaset-controller": [
            rule(("get", "list", "watch", "update"), (APPS, EXTENSIONS), "replicasets"),
            rule("update", (APPS, EXTENSIONS), "replicasets/status"),
            rule("update", (APPS, EXTENSIONS), "replicasets/finalizers"),
            rule(("list", "watch", "patch", "create", "delete"), LEGACY, "pods"),
            events_rule(),
        ],
        "replication-controller": [
            rule(("get", "list", "watch", "update"), LEGACY, "replicationcontrollers"),
            rule("update", LEGACY, "replicationcontrollers/status"),
            rule("update", LEGACY, "replicationcontrollers/finalizers"),
            rule(("list", "watch", "patch", "create", "delete"), LEGACY, "pods"),
            events_rule(),
        ],
        "resourcequota-controller": [
            rule(("list", "watch"), "*", "*"),
            rule("update", LEGACY, "resourcequotas/status"),
            events_rule(),
        ],
        "root-ca-cert-publisher": [
            rule(("create", "update"), LEGACY, "configmaps"),
            events_rule(),
        ],
        "route-controller": [
            rule(("list", "watch"), LEGACY, "nodes"),
            rule("patch", LEGACY, "nodes/status"),
            events_rule(),
        ],
        "service-account-controller": [
            rule("create", LEGACY, "serviceaccounts"),
            events_rule(),
        ],
        "service-controller": [
            rule(READ, LEGACY, "services"),
            rule(("patch", "update"), LEGACY, "services"),      # its load-balancer-cleanup finalizer
            rule(("patch", "update"), LEGACY, "services/status"),
            rule(("list", "watch"), LEGACY, "nodes"),
            events_rule(),
        ],
        "statefulset-controller": [
            rule(("list", "watch"), LEGACY, "pods"),
            rule(READ, APPS, "statefulsets"),
            rule("update", APPS, "statefulsets/status"),
            rule("update", APPS, "statefulsets/finalizers"),
            rule(("get", "create", "delete", "update", "patch"), LEGACY, "pods"),
            rule(("get", "create", "delete", "update", "patch", "list", "watch"), APPS, "controllerrevisions"),
            rule(("get", "create"), LEGACY, "persistentvolumeclaims"),
            events_rule(),
            # StatefulSetAutoDeletePVC, on by default
            rule(("update", "delete"), LEGACY, "persistentvolumeclaims"),
        ],
        "taint-eviction-controller": [
            rule(("patch", "update"), LEGACY, "pods/status"),
            rule(("list", "get", "delete"), LEGACY, "pods"),
            events_rule(),
        ],
        "ttl-after-finished-controller": [
            rule(("delete", "get", "list", "watch"), BATCH, "jobs"),
            events_rule(),
        ],
    }
    return [_cluster_role(CONTROLLER_ROLE_PREFIX + name, rules) for name, rules in controllers.items()]


def cluster_roles() -> list[dict]:
    """Every default ClusterRole, fresh."""
    return _system_roles() + _user_facing_roles() + _controller_roles()


def cluster_role_bindings() -> list[dict]:
    """Every default ClusterRoleBinding, fresh."""
    bindings = [
        _binding("cluster-admin", groups=("system:masters",)),
        _binding("system:discovery", groups=("system:authenticated",)),
        _binding("system:basic-user", groups=("system:authenticated",)),
        _binding("system:public-info-viewer", groups=("system:authenticated", "system:unauthenticated")),
        _binding("system:node-proxier", users=("system:kube-proxy",)),
        _binding("system:kube-controller-manager", users=("system:kube-controller-manager",)),
        _binding("system:kube-dns", service_accounts=(("kube-system", "kube-dns"),)),
        _binding("system:kube-scheduler", users=("system:kube-scheduler",)),
        _binding("system:volume-scheduler", users=("system:kube-scheduler",)),
        # Ours, not the real default (see the module docstring): the real binding has no subjects.
        _binding("system:node", groups=("system:nodes",)),
    ]
    for role in _controller_roles():
        name = role["metadata"]["name"]
        bindings.append(_binding(name, service_accounts=(("kube-system", name[len(CONTROLLER_ROLE_PREFIX):]),)))
    return bindings


def bootstrap_policy() -> list[dict]:
    """The ClusterRoles, then the ClusterRoleBindings, in the order the post-start hook creates them."""
    return cluster_roles() + cluster_role_bindings()


bootstrap_objects = bootstrap_policy
