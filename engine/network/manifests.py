"""The network add-ons' manifests, as ``kubectl apply -f kube-flannel.yml`` / ``calico.yaml`` create them.

``manifests("flannel")`` is kube-flannel.yml (v0.25): the ``kube-flannel``
namespace, ServiceAccount and RBAC ``flannel``, the ConfigMap
``kube-flannel-cfg`` (``cni-conf.json``, ``net-conf.json``) and the
DaemonSet ``kube-flannel-ds`` (hostNetwork, ``system-node-critical``,
tolerating every NoSchedule taint, ``flanneld --ip-masq
--kube-subnet-mgr``). ``manifests("calico")`` is the part of calico.yaml
(v3.28) this engine runs: ServiceAccount and RBAC ``calico-node``, the
ConfigMap ``calico-config`` and the DaemonSet ``calico-node`` in
kube-system with BGP routing and no IP-in-IP / VXLAN pool encapsulation
(``CALICO_IPV4POOL_IPIP=Never``); calico-kube-controllers and the CRDs are
left out. ``manifests("canal")`` is canal.yaml's core: the DaemonSet
``canal`` in kube-system whose pod runs calico-node (policy only,
``CALICO_NETWORKING_BACKEND=none``) beside kube-flannel, with both agents'
RBAC under the ServiceAccount ``canal``. Two deliberate differences: the agents patch their Node's
annotations on ``nodes`` (this API server keeps metadata out of status
writes), and ``NODE_NAME`` comes from the downward API for flanneld too.
"""

from __future__ import annotations

import json

from engine.network.flannel import CNI_CONF, DEFAULT_NET_CONF

FLANNEL_IMAGE = "docker.io/flannel/flannel:v0.25.6"
FLANNEL_CNI_PLUGIN_IMAGE = "docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2"
CALICO_NODE_IMAGE = "docker.io/calico/node:v3.28.1"
CALICO_CNI_IMAGE = "docker.io/calico/cni:v3.28.1"
PLUGINS = ("flannel", "calico", "canal")


def _rbac(name: str, namespace: str, rules: list[dict]) -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
    ]


def _env_field(name: str, path: str) -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _host_path(name: str, path: str, kind: str = "") -> dict:
    return {"name": name, "hostPath": {"path": path, **({"type": kind} if kind else {})}}


def flannel() -> list[dict]:
    labels = {"app": "flannel", "k8s-app": "flannel", "tier": "node"}
    namespace = "kube-flannel"
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": namespace, "labels": {"k8s-app": "flannel",
                                                    "pod-security.kubernetes.io/enforce": "privileged"}}},
        *_rbac("flannel", namespace, [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch", "patch"]},
            {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}]),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "kube-flannel-cfg", "namespace": namespace, "labels": {"app": "flannel",
                                                                                     "k8s-app": "flannel",
                                                                                     "tier": "node"}},
         "data": {"cni-conf.json": json.dumps(CNI_CONF, indent=2),
                  "net-conf.json": json.dumps(DEFAULT_NET_CONF, indent=2)}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"name": "kube-flannel-ds", "namespace": namespace, "labels": labels},
         "spec": {"selector": {"matchLabels": {"app": "flannel"}}, "template": {
             "metadata": {"labels": labels},
             "spec": {
                 "hostNetwork": True, "priorityClassName": "system-node-critical", "serviceAccountName": "flannel",
                 "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                 "initContainers": [
                     {"name": "install-cni-plugin", "image": FLANNEL_CNI_PLUGIN_IMAGE, "command": ["cp"],
                      "args": ["-f", "/flannel", "/opt/cni/bin/flannel"],
                      "volumeMounts": [{"name": "cni-plugin", "mountPath": "/opt/cni/bin"}]},
                     {"name": "install-cni", "image": FLANNEL_IMAGE, "command": ["cp"],
                      "args": ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
                      "volumeMounts": [{"name": "cni", "mountPath": "/etc/cni/net.d"},
                                       {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"}]}],
                 "containers": [{
                     "name": "kube-flannel", "image": FLANNEL_IMAGE, "command": ["/opt/bin/flanneld"],
                     "args": ["--ip-masq", "--kube-subnet-mgr"],
                     "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
                     "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                     "env": [_env_field("POD_NAME", "metadata.name"), _env_field("POD_NAMESPACE", "metadata.namespace"),
                             _env_field("NODE_NAME", "spec.nodeName"),
                             {"name": "EVENT_QUEUE_DEPTH", "value": "5000"}],
                     "volumeMounts": [{"name": "run", "mountPath": "/run/flannel"},
                                      {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
                                      {"name": "xtables-lock", "mountPath": "/run/xtables.lock"}]}],
                 "volumes": [_host_path("run", "/run/flannel"),
                             _host_path("cni-plugin", "/opt/cni/bin"),
                             _host_path("cni", "/etc/cni/net.d"),
                             {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
                             _host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate")]}}}},
    ]


def calico() -> list[dict]:
    labels = {"k8s-app": "calico-node"}
    env = [{"name": "DATASTORE_TYPE", "value": "kubernetes"}, _env_field("NODENAME", "spec.nodeName"),
           _env_field("NODE_NAME", "spec.nodeName"),
           {"name": "CALICO_NETWORKING_BACKEND", "valueFrom": {"configMapKeyRef": {"name": "calico-config",
                                                                                 "key": "calico_backend"}}},
           {"name": "CLUSTER_TYPE", "value": "k8s,bgp"}, {"name": "IP", "value": "autodetect"},
           {"name": "CALICO_IPV4POOL_IPIP", "value": "Never"}, {"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
           {"name": "CALICO_DISABLE_FILE_LOGGING", "value": "true"},
           {"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
           {"name": "FELIX_HEALTHENABLED", "value": "true"}]
    return [
        *_rbac("calico-node", "kube-system", [
            {"apiGroups": [""], "resources": ["pods", "namespaces", "nodes", "serviceaccounts", "endpoints",
                                              "services"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["patch"]},
            {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch", "update"]},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
         "data": {"typha_service_name": "none", "calico_backend": "bird", "veth_mtu": "0",
                  "cni_network_config": json.dumps({"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
                      {"type": "calico", "log_level": "info", "datastore_type": "kubernetes",
                       "nodename": "__KUBERNETES_NODE_NAME__", "mtu": "__CNI_MTU__",
                       "ipam": {"type": "host-local", "subnet": "usePodCidr"}, "policy": {"type": "k8s"},
                       "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}},
                      {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}]}, indent=2)}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"name": "calico-node", "namespace": "kube-system", "labels": labels},
         "spec": {"selector": {"matchLabels": labels},
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "nodeSelector": {"kubernetes.io/os": "linux"}, "hostNetwork": True,
                      "tolerations": [{"effect": "NoSchedule", "operator": "Exists"},
                                      {"key": "CriticalAddonsOnly", "operator": "Exists"},
                                      {"effect": "NoExecute", "operator": "Exists"}],
                      "serviceAccountName": "calico-node", "terminationGracePeriodSeconds": 0,
                      "priorityClassName": "system-node-critical",
                      "initContainers": [{
                          "name": "install-cni", "image": CALICO_CNI_IMAGE, "command": ["/opt/cni/bin/install"],
                          "env": [{"name": "CNI_CONF_NAME", "value": "10-calico.conflist"},
                                  {"name": "CNI_NETWORK_CONFIG", "valueFrom": {"configMapKeyRef": {
                                      "name": "calico-config", "key": "cni_network_config"}}},
                                  _env_field("KUBERNETES_NODE_NAME", "spec.nodeName"),
                                  {"name": "SLEEP", "value": "false"}],
                          "volumeMounts": [{"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
                                           {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"}]}],
                      "containers": [{
                          "name": "calico-node", "image": CALICO_NODE_IMAGE, "env": env,
                          "securityContext": {"privileged": True},
                          "resources": {"requests": {"cpu": "250m"}},
                          "volumeMounts": [{"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                                           {"mountPath": "/var/run/calico", "name": "var-run-calico"},
                                           {"mountPath": "/var/lib/calico", "name": "var-lib-calico"}]}],
                      "volumes": [_host_path("var-run-calico", "/var/run/calico", "DirectoryOrCreate"),
                                  _host_path("var-lib-calico", "/var/lib/calico", "DirectoryOrCreate"),
                                  _host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                                  _host_path("cni-bin-dir", "/opt/cni/bin"),
                                  _host_path("cni-net-dir", "/etc/cni/net.d")]}}}},
    ]


def canal() -> list[dict]:
    calico_objects = calico()
    flannel_objects = flannel()
    node = next(o for o in calico_objects if o["kind"] == "DaemonSet")
    kube_flannel = next(o for o in flannel_objects if o["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    calico_role = next(o for o in calico_objects if o["kind"] == "ClusterRole")["rules"]
    flannel_role = next(o for o in flannel_objects if o["kind"] == "ClusterRole")["rules"]
    config = next(o for o in flannel_objects if o["kind"] == "ConfigMap")
    calico_config = next(o for o in calico_objects if o["kind"] == "ConfigMap")
    # canal.yaml keeps calico's keys and flannel's net-conf.json in one ConfigMap, canal-config
    canal_config = {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "canal-config", "namespace": "kube-system"},
                    "data": {**calico_config["data"], "canal_iface": "", "masquerade": "true",
                             "net-conf.json": config["data"]["net-conf.json"]}}
    labels = {"k8s-app": "canal"}
    spec = node["spec"]["template"]["spec"]
    calico_container = dict(spec["containers"][0])
    calico_container["env"] = [e if e["name"] != "CALICO_NETWORKING_BACKEND" else
                               {"name": "CALICO_NETWORKING_BACKEND", "value": "none"}
                               for e in calico_container["env"]]
    spec = json.loads(json.dumps(spec).replace('"calico-config"', '"canal-config"'))
    spec = {**spec, "serviceAccountName": "canal",
            "containers": [calico_container, kube_flannel["containers"][0]],
            "volumes": spec["volumes"] + [v for v in kube_flannel["volumes"] if v["name"] in ("run", "flannel-cfg")]}
    return [
        *_rbac("canal", "kube-system", calico_role + flannel_role),
        {**config, "metadata": {"name": "kube-flannel-cfg", "namespace": "kube-system"}},
        canal_config,
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "canal", "namespace": "kube-system",
                                                                    "labels": labels},
         "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": spec}}},
    ]


def manifests(plugin: str | None) -> list[dict]:
    """The objects of the network add-on ``plugin`` ("flannel" or "calico"); none for None."""
    if plugin is None:
        return []
    if plugin == "flannel":
        return flannel()
    if plugin == "calico":
        return calico()
    if plugin == "canal":
        return canal()
    raise ValueError(f"unknown network plugin {plugin!r}: choose one of {PLUGINS}")
