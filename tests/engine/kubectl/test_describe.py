"""``kubectl describe``: whole golden texts, aligned by Go's tabwriter as the real describers are."""

from __future__ import annotations

import pytest

import engine
from kubectl_fixtures import add_pod, running_status
from engine.api.meta import owner_reference
from engine.kubectl.describe import rfc1123z, smart_label


def event(cluster: engine.Cluster, name: str, obj: dict, reason: str, message: str, *, component: str,
          first: str, last: str, count: int = 1) -> None:
    metadata = obj["metadata"]
    cluster.admin.create({"apiVersion": "v1", "kind": "Event",
                          "metadata": {"name": name, "namespace": metadata.get("namespace") or "default"},
                          "involvedObject": {"kind": obj["kind"], "name": metadata["name"],
                                             "namespace": metadata.get("namespace", ""), "uid": metadata["uid"]},
                          "reason": reason, "message": message, "type": "Normal", "source": {"component": component},
                          "firstTimestamp": first, "lastTimestamp": last, "count": count})


@pytest.fixture
def web(cluster: engine.Cluster) -> engine.Cluster:
    status = running_status("10.244.1.2", restarts=1, finished="2025-01-01T00:00:01Z")
    pod = add_pod(cluster, "web", node="node-1", status=status, labels={"app": "web", "tier": "front"},
                  containers=[{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                               "env": [{"name": "MODE", "value": "prod"},
                                       {"name": "COLOR",
                                        "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}}],
                               "resources": {"requests": {"cpu": "250m", "memory": "64Mi"},
                                             "limits": {"cpu": "500m", "memory": "128Mi"}},
                               "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}},
                               "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}],
                  volumes=[{"name": "config", "configMap": {"name": "cfg"}}])
    event(cluster, "web.1", pod, "Scheduled", "Successfully assigned default/web to node-1",
          component="default-scheduler", first="2025-01-01T00:00:01Z", last="2025-01-01T00:00:01Z")
    event(cluster, "web.2", pod, "Pulled", 'Container image "nginx:1.25" already present on machine',
          component="kubelet", first="2025-01-01T00:00:01Z", last="2025-01-01T00:01:00Z", count=2)
    cluster.run(120)
    return cluster


def _token_volume(cluster: engine.Cluster, name: str) -> str:
    volumes = cluster.get("pod", name)["spec"]["volumes"]
    return next(volume["name"] for volume in volumes if volume["name"].startswith("kube-api-access-"))


def test_describe_pod(web: engine.Cluster) -> None:
    token = _token_volume(web, "web")
    assert web.kubectl("describe pod web") == f"""\
Name:             web
Namespace:        default
Priority:         0
Service Account:  default
Node:             node-1/172.18.0.3
Start Time:       Wed, 01 Jan 2025 00:00:01 +0000
Labels:           app=web
                  tier=front
Annotations:      <none>
Status:           Running
IP:               10.244.1.2
IPs:
  IP:  10.244.1.2
Containers:
  app:
    Container ID:   containerd://abc123
    Image:          nginx:1.25
    Image ID:       
    Port:           80/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Wed, 01 Jan 2025 00:00:02 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Wed, 01 Jan 2025 00:00:01 +0000
      Finished:     Wed, 01 Jan 2025 00:00:01 +0000
    Ready:          True
    Restart Count:  1
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:      250m
      memory:   64Mi
    Readiness:  http-get http://:80/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:
      MODE:   prod
      COLOR:  <set to the key 'color' of config map 'cfg'>  Optional: false
    Mounts:
      /etc/app from config (rw)
      /var/run/secrets/kubernetes.io/serviceaccount from {token} (ro)
Conditions:
  Type              Status
  Initialized       True 
  Ready             True 
  ContainersReady   True 
  PodScheduled      True 
Volumes:
  config:
    Type:      ConfigMap (a volume populated by a ConfigMap)
    Name:      cfg
    Optional:  false
  {token}:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type    Reason     Age               From               Message
  ----    ------     ----              ----               -------
  Normal  Scheduled  2m                default-scheduler  Successfully assigned default/web to node-1
  Normal  Pulled     61s (x2 over 2m)  kubelet            Container image "nginx:1.25" already present on machine
"""


def test_describe_node(web: engine.Cluster) -> None:
    assert web.kubectl("describe node node-1") == """\
Name:               node-1
Roles:              <none>
Labels:             beta.kubernetes.io/arch=amd64
                    beta.kubernetes.io/os=linux
                    kubernetes.io/arch=amd64
                    kubernetes.io/hostname=node-1
                    kubernetes.io/os=linux
Annotations:        node.alpha.kubernetes.io/ttl: 0
                    volumes.kubernetes.io/controller-managed-attach-detach: true
CreationTimestamp:  Wed, 01 Jan 2025 00:00:00 +0000
Taints:             <none>
Unschedulable:      false
Lease:
  HolderIdentity:  node-1
  AcquireTime:     <unset>
  RenewTime:       Wed, 01 Jan 2025 00:02:00 +0000
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Wed, 01 Jan 2025 00:00:00 +0000   Wed, 01 Jan 2025 00:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  DiskPressure     False   Wed, 01 Jan 2025 00:00:00 +0000   Wed, 01 Jan 2025 00:00:00 +0000   KubeletHasNoDiskPressure     kubelet has no disk pressure
  PIDPressure      False   Wed, 01 Jan 2025 00:00:00 +0000   Wed, 01 Jan 2025 00:00:00 +0000   KubeletHasSufficientPID      kubelet has sufficient PID available
  Ready            True    Wed, 01 Jan 2025 00:00:00 +0000   Wed, 01 Jan 2025 00:00:00 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  172.18.0.3
  Hostname:    node-1
Capacity:
  cpu:                4
  ephemeral-storage:  100Gi
  memory:             8Gi
  pods:               110
Allocatable:
  cpu:                4
  ephemeral-storage:  100Gi
  memory:             8092Mi
  pods:               110
System Info:
  Machine ID:                 
  System UUID:                
  Boot ID:                    
  Kernel Version:             6.1.0-28-amd64
  OS Image:                   Debian GNU/Linux 12 (bookworm)
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  containerd://1.7.13
  Kubelet Version:            v1.31.0
  Kube-Proxy Version:         v1.31.0
Non-terminated Pods:          (1 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
  default                     web     250m (6%)     500m (12%)  64Mi (0%)        128Mi (1%)     2m
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests   Limits
  --------           --------   ------
  cpu                250m (6%)  500m (12%)
  memory             64Mi (0%)  128Mi (1%)
  ephemeral-storage  0 (0%)     0 (0%)
Events:              <none>
"""


def test_describe_deployment_names_its_new_and_old_replicasets(cluster: engine.Cluster) -> None:
    cluster.kubectl("create deployment web --image=nginx:1.27 --replicas=2")
    deployment = cluster.get("deploy", "web")
    for name, image, replicas in (("web-old", "nginx:1.26", 1), ("web-new", "nginx:1.27", 2)):
        cluster.admin.create({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default", "ownerReferences": [owner_reference(deployment)],
                         "labels": {"app": "web", "pod-template-hash": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "pod-template-hash": name}},
                     "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    deployment["status"] = {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2,
                            "unavailableReplicas": 1,
                            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                           {"type": "Progressing", "status": "True",
                                            "reason": "ReplicaSetUpdated"}]}
    cluster.admin.update_status(deployment)
    assert cluster.kubectl("describe deploy web") == """\
Name:                   web
Namespace:              default
CreationTimestamp:      Wed, 01 Jan 2025 00:00:01 +0000
Labels:                 app=web
Annotations:            <none>
Selector:               app=web
Replicas:               2 desired | 2 updated | 3 total | 2 available | 1 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=web
  Containers:
   nginx:
    Image:         nginx:1.27
    Port:          <none>
    Host Port:     <none>
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    ReplicaSetUpdated
OldReplicaSets:  web-old (0/1 replicas created)
NewReplicaSet:   web-new (0/2 replicas created)
Events:          <none>
"""


def test_describe_service_namespace_configmap_and_secret(cluster: engine.Cluster) -> None:
    cluster.kubectl("create configmap cfg --from-literal=color=blue")
    cluster.kubectl("create secret generic pw --from-literal=password=s3cret")
    assert cluster.kubectl("describe svc kubernetes") == """\
Name:                     kubernetes
Namespace:                default
Labels:                   component=apiserver
                          provider=kubernetes
Annotations:              <none>
Selector:                 <none>
Type:                     ClusterIP
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.0.1
IPs:                      10.96.0.1
Port:                     https  443/TCP
TargetPort:               6443/TCP
Endpoints:                172.18.0.2:6443
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:                   <none>
"""
    assert cluster.kubectl("describe ns default") == """\
Name:         default
Labels:       kubernetes.io/metadata.name=default
Annotations:  <none>
Status:       Active

No resource quota.

No LimitRange resource.
"""
    assert cluster.kubectl("describe cm cfg") == """\
Name:         cfg
Namespace:    default
Labels:       <none>
Annotations:  <none>

Data
====
color:
----
blue


BinaryData
====

Events:  <none>
"""
    assert cluster.kubectl("describe secret pw") == """\
Name:         pw
Namespace:    default
Labels:       <none>
Annotations:  <none>

Type:  Opaque

Data
====
password:  6 bytes
"""


def test_generic_describer_prints_every_field_with_smart_labels(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                          "metadata": {"name": "lock", "namespace": "default"},
                          "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
                                   "renewTime": "2025-01-01T00:00:01.000000Z"}})
    lease = cluster.get("lease", "lock")
    assert cluster.kubectl("describe lease lock") == f"""\
Name:         lock
Namespace:    default
Labels:       <none>
Annotations:  <none>
API Version:  coordination.k8s.io/v1
Kind:         Lease
Metadata:
  Creation Timestamp:  2025-01-01T00:00:01Z
  Generation:          1
  Resource Version:    {lease['metadata']['resourceVersion']}
  UID:                 {lease['metadata']['uid']}
Spec:
  Holder Identity:         a
  Lease Duration Seconds:  15
  Renew Time:              2025-01-01T00:00:01.000000Z
Events:                    <none>
"""


def test_describe_role_and_binding(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                          "metadata": {"name": "reader", "namespace": "default"},
                          "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                                    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]})
    cluster.admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                          "metadata": {"name": "read", "namespace": "default"},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                          "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                                       {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}]})
    assert cluster.kubectl("describe role reader") == """\
Name:         reader
Labels:       <none>
Annotations:  <none>
PolicyRule:
  Resources         Non-Resource URLs  Resource Names  Verbs
  ---------         -----------------  --------------  -----
  pods/log          []                 []              [get list]
  pods              []                 []              [get list]
  deployments.apps  []                 []              [get]
"""
    assert cluster.kubectl("describe rolebinding read") == """\
Name:         read
Labels:       <none>
Annotations:  <none>
Role:
  Kind:  Role
  Name:  reader
Subjects:
  Kind            Name   Namespace
  ----            ----   ---------
  User            jane   
  ServiceAccount  robot  default
"""


def test_describe_separates_objects_and_reports_missing_ones(cluster: engine.Cluster) -> None:
    cluster.kubectl("create configmap a --from-literal=k=v")
    cluster.kubectl("create configmap b --from-literal=k=v")
    text = cluster.kubectl("describe cm a b nope")
    assert text.count("Name:         ") == 2
    assert "Events:  <none>\n\n\nName:         b\n" in text
    assert text.endswith('Error from server (NotFound): configmaps "nope" not found\n')


def test_describe_matches_names_by_prefix(cluster: engine.Cluster) -> None:
    cluster.kubectl("create configmap web-config --from-literal=k=v")
    assert cluster.kubectl("describe cm web").startswith("Name:         web-config\n")


@pytest.mark.parametrize("field, label", [
    pytest.param("apiVersion", "API Version", id="API is an acronym"),
    pytest.param("creationTimestamp", "Creation Timestamp", id="camel case splits into words"),
    pytest.param("uid", "UID", id="UID is an acronym"),
    pytest.param("podCIDR", "Pod CIDR", id="a run of capitals stays one word"),
    pytest.param("app.kubernetes.io/name", "app.kubernetes.io/name", id="keys with punctuation stay as they are"),
])
def test_smart_label(field: str, label: str) -> None:
    assert smart_label(field) == label


def test_rfc1123z_of_virtual_time() -> None:
    assert rfc1123z("2025-01-01T00:00:05Z") == "Wed, 01 Jan 2025 00:00:05 +0000"
    assert rfc1123z(None) == "<unset>"


def test_describe_daemonset_statefulset_and_job(cluster: engine.Cluster) -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                   "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}})
    cluster.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "x"}},
                            "template": template}})
    job_template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
    cluster.apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                   "spec": {"template": job_template}})
    daemon = cluster.kubectl("describe ds agent")
    assert daemon.startswith("Name:           agent\nSelector:       app=x\nNode-Selector:  <none>\n")
    assert "Desired Number of Nodes Scheduled: 0\n" in daemon
    assert "Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed\n" in daemon
    stateful = cluster.kubectl("describe sts db")
    assert "Replicas:           2 desired | 0 total\nUpdate Strategy:    RollingUpdate\n  Partition:        0\n" \
        in stateful
    assert "Volume Claims:     <none>\n" in stateful
    job = cluster.kubectl("describe job once")
    assert ("Completions:      1\nCompletion Mode:  NonIndexed\nSuspend:          false\nBackoff Limit:    6\n"
            "Pods Statuses:    0 Active / 0 Succeeded / 0 Failed\n") in job


def test_downward_api_variables_show_their_values_in_a_pod(cluster: engine.Cluster) -> None:
    add_pod(cluster, "web", node="node-1", status=running_status("10.244.1.9"),
            containers=[{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "100m"}},
                         "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                 {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                                 {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]}])
    text = cluster.kubectl("describe pod web")
    assert ("    Environment:\n"
            "      POD_NAME:  web (v1:metadata.name)\n"
            "      POD_IP:    10.244.1.9 (v1:status.podIP)\n"
            "      CPU:       node allocatable (limits.cpu)\n") in text
