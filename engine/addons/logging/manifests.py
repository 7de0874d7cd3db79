"""The logging add-on's objects (EFK without the K: Elasticsearch and fluent-bit; the view is a widget).

``manifests(node)`` returns, in the order to apply them:
  - the Namespace ``logging``;
  - Elasticsearch: the Service ``elasticsearch`` (port 9200 ``http``) and the StatefulSet ``elasticsearch`` (one
    replica, ``discovery.type=single-node``, security off, a 512 MiB heap). Its data path is a ``hostPath``
    volume (``/var/lib/elasticsearch``, ``DirectoryOrCreate``) on the node the StatefulSet is pinned to
    (``nodeSelector kubernetes.io/hostname``), as a local PersistentVolume pins its pod: a deleted or
    restarted pod comes back on that node with every index it had; if the node fails, the store is down
    until the node is back (nothing provisions network disks here);
  - fluent-bit, as the fluent-bit Helm chart installs it: the ServiceAccount, ClusterRole (get/list/watch
    pods and namespaces) and ClusterRoleBinding ``fluent-bit``, the ConfigMap ``fluent-bit`` (``CONFIG``) and
    the DaemonSet ``fluent-bit`` (every node, the control plane's too, with ``/var/log`` mounted from the node,
    probes on port 2020).
``CONFIG`` is the chart's pipeline with two choices made for a classroom: ``Read_from_Head True`` (a pod's
lines from before the agent started are shipped too) and ``scheduler.cap 60`` (a retry waits at most a
minute, so the store's return shows within a minute). ``Retry_Limit False`` and ``storage.type
filesystem`` are what make nothing get lost while the store is down.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "logging"
ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:8.13.4"
FLUENT_BIT_IMAGE = "cr.fluentbit.io/fluent/fluent-bit:3.1.4"
ES_NAME = "elasticsearch"
FLUENT_BIT = "fluent-bit"
ES_DATA_HOST_PATH = "/var/lib/elasticsearch"
RBAC = "rbac.authorization.k8s.io"

CONFIG = """\
[SERVICE]
    Daemon Off
    Flush 1
    Log_Level info
    Parsers_File /fluent-bit/etc/parsers.conf
    HTTP_Server On
    HTTP_Listen 0.0.0.0
    HTTP_Port 2020
    Health_Check On
    storage.path /var/log/flb-storage/
    scheduler.base 5
    scheduler.cap 60

[INPUT]
    Name tail
    Path /var/log/containers/*.log
    multiline.parser cri
    Tag kube.*
    DB /var/log/flb_kube.db
    Mem_Buf_Limit 5MB
    Skip_Long_Lines On
    Refresh_Interval 10
    Read_from_Head True
    storage.type filesystem

[FILTER]
    Name kubernetes
    Match kube.*
    Kube_URL https://kubernetes.default.svc:443
    Kube_Tag_Prefix kube.var.log.containers.
    Merge_Log Off
    Keep_Log On
    Labels On
    Annotations On

[OUTPUT]
    Name es
    Match kube.*
    Host elasticsearch
    Port 9200
    Logstash_Format On
    Logstash_Prefix logstash
    Replace_Dots On
    Suppress_Type_Name On
    Retry_Limit False
"""


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def elasticsearch(node: str) -> list[dict]:
    labels = _labels(ES_NAME)
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": ES_NAME, "namespace": NAMESPACE, "labels": labels},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 9200, "targetPort": "http",
                                                  "protocol": "TCP"}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet",
         "metadata": {"name": ES_NAME, "namespace": NAMESPACE, "labels": labels},
         "spec": {"serviceName": ES_NAME, "replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "nodeSelector": {"kubernetes.io/hostname": node},
                      "containers": [{
                          "name": ES_NAME, "image": ES_IMAGE,
                          "env": [{"name": "cluster.name", "value": "logging"},
                                  {"name": "node.name", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                  {"name": "discovery.type", "value": "single-node"},
                                  {"name": "xpack.security.enabled", "value": "false"},
                                  {"name": "ES_JAVA_OPTS", "value": "-Xms512m -Xmx512m"}],
                          "ports": [{"name": "http", "containerPort": 9200, "protocol": "TCP"},
                                    {"name": "transport", "containerPort": 9300, "protocol": "TCP"}],
                          "readinessProbe": {"httpGet": {"path": "/_cluster/health?local=true", "port": "http"},
                                             "periodSeconds": 5},
                          "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
                          "volumeMounts": [{"name": "data", "mountPath": "/usr/share/elasticsearch/data"}]}],
                      "volumes": [{"name": "data", "hostPath": {"path": ES_DATA_HOST_PATH,
                                                                "type": "DirectoryOrCreate"}}]}}}},
    ]


def fluent_bit(config: str = CONFIG) -> list[dict]:
    labels = _labels(FLUENT_BIT)
    meta = {"name": FLUENT_BIT, "namespace": NAMESPACE, "labels": labels}
    probe_port = {"port": "http"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": FLUENT_BIT, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["namespaces", "pods"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": FLUENT_BIT, "labels": labels},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": FLUENT_BIT},
         "subjects": [{"kind": "ServiceAccount", "name": FLUENT_BIT, "namespace": NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"fluent-bit.conf": config}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
         "spec": {"selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "serviceAccountName": FLUENT_BIT,
                      "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                       "effect": "NoSchedule"}],
                      "containers": [{
                          "name": FLUENT_BIT, "image": FLUENT_BIT_IMAGE, "imagePullPolicy": "IfNotPresent",
                          "args": ["--workdir=/fluent-bit/etc", "--config=/fluent-bit/etc/conf/fluent-bit.conf"],
                          "ports": [{"name": "http", "containerPort": 2020, "protocol": "TCP"}],
                          "livenessProbe": {"httpGet": {"path": "/", **probe_port}},
                          "readinessProbe": {"httpGet": {"path": "/api/v1/health", **probe_port}},
                          "volumeMounts": [{"name": "config", "mountPath": "/fluent-bit/etc/conf"},
                                           {"name": "varlog", "mountPath": "/var/log"}]}],
                      "volumes": [{"name": "config", "configMap": {"name": FLUENT_BIT}},
                                  {"name": "varlog", "hostPath": {"path": "/var/log"}}]}}}},
    ]


def manifests(node: str, config: str = CONFIG) -> list[dict[str, Any]]:
    """Every object of the add-on; the store's data lives on ``node``."""
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            *elasticsearch(node), *fluent_bit(config)]
