"""The miniature kubectl against the real one: the same commands, the same served cluster, the same text.

The cluster is served on 127.0.0.1 with its virtual clock frozen (``speed=0``),
so ages agree; the real kubectl (the machine's, skipped when missing) talks to
it over HTTP while ``Cluster.kubectl`` talks to it in process. Only commands
whose text depends on nothing but the cluster are compared: describe tables
that the real kubectl fills with wall-clock ages are left out, and the ages of
describe's Events (which controllers now write) are masked.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import Callable, Iterator

import pytest

import engine
from kubectl_fixtures import KUBECTL_TEST_COMPONENTS, add_pod, running_status
from engine.api.meta import owner_reference

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="the real kubectl is not installed")


EXTRA_OBJECTS = [
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
     "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
              "template": {"metadata": {"labels": {"app": "db"}},
                           "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
              "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                        "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "1Gi"}}}}]}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
     "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
         "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
     "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
     "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
     "provisioner": "rancher.io/local-path"},
    {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
     "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80, "name": "http"}]}]},
    {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "api"},
     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}, "minReplicas": 1,
              "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
                  "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}},
    {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"},
     "spec": {"hard": {"pods": "10", "requests.cpu": "4"}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web"},
     "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"],
              "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}},
                                    {"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {}},
                                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                           "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}, {}],
              "egress": [{"to": [{"namespaceSelector": {}}]}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "api-abc", "labels": {"kubernetes.io/service-name": "api"}}, "addressType": "IPv4",
     "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": True}, "nodeName": "node-1",
                    "targetRef": {"kind": "Pod", "name": "web", "namespace": "default"}}],
     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "api-def", "labels": {"kubernetes.io/service-name": "api"}}, "addressType": "IPv4",
     "endpoints": [{"addresses": [f"10.244.1.{i}"], "conditions": {"ready": i != 4}} for i in range(2, 7)],
     "ports": [{"name": "", "port": 8080, "protocol": "TCP"}]},
    {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
     "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
     "spec": {"controller": "k8s.io/ingress-nginx",
              "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "many-hosts"},
     "spec": {"tls": [{"hosts": ["a.example.com"], "secretName": "tls-a"}],
              "rules": [{"host": f"{host}.example.com", "http": {"paths": [{
                  "path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}
                  for host in ("a", "b", "c", "d", "e")]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "odd-backends"},
     "spec": {"tls": [{"hosts": ["x.example.com"]}], "rules": [{"http": {"paths": [
         {"path": "/gone", "pathType": "Exact", "backend": {"service": {"name": "missing", "port": {"number": 80}}}},
         {"path": "/assets", "pathType": "Prefix", "backend": {"resource": {
             "apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "static-assets"}}}]}}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "catch-all"},
     "spec": {"ingressClassName": "other", "defaultBackend": {"service": {"name": "api", "port": {"name": "http"}}}}},
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
     "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "250m"}}]}},
]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[engine.Cluster, Callable[[str], str]]]:
    """A populated cluster and a function running the real kubectl against it."""
    cluster = engine.Cluster(nodes=1, seed=0, components=KUBECTL_TEST_COMPONENTS)
    add_pod(cluster, "web", node="node-1", labels={"app": "web", "tier": "front"},
            status=running_status("10.244.1.2", restarts=1, finished="2025-01-01T00:00:01Z"),
            initContainers=[{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
            containers=[{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                         "env": [{"name": "MODE", "value": "prod"},
                                 {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                         "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                         "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}},
                         "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}],
            volumes=[{"name": "config", "configMap": {"name": "cfg"}}, {"name": "scratch", "emptyDir": {}}],
            tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}])
    add_pod(cluster, "pending")
    cluster.kubectl("create configmap cfg --from-literal=color=blue")
    cluster.kubectl("create secret generic pw --from-literal=password=s3cret")
    cluster.kubectl("create deployment api --image=nginx:1.27 --replicas=2 --port=8080")
    deployment = cluster.get("deploy", "api")
    for name, image, replicas, revision in (("api-old", "nginx:1.26", 1, "1"), ("api-new", "nginx:1.27", 2, "2")):
        labels = {"app": "api", "pod-template-hash": name}
        cluster.admin.create({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default", "labels": labels,
                         "ownerReferences": [owner_reference(deployment)],
                         "annotations": {"deployment.kubernetes.io/revision": revision}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    cluster.kubectl("expose deploy api --port=80 --target-port=8080 --type=NodePort")
    cluster.kubectl("create role pod-reader --verb=get,list --resource=pods,deployments.apps")
    for manifest in EXTRA_OBJECTS:
        cluster.apply(manifest)
    cluster.run(5)
    home = tmp_path_factory.mktemp("kubectl-home")
    with cluster.serve(speed=0) as handle:
        env = {key: value for key, value in os.environ.items() if not key.startswith("KUBE")}
        env.update(KUBECONFIG=str(handle.kubeconfig_path), HOME=str(home))

        def real(command: str) -> str:
            done = subprocess.run([KUBECTL, "--request-timeout=20s", *shlex.split(command)], capture_output=True,
                                  text=True, env=env, timeout=60)
            return done.stdout + done.stderr

        yield cluster, real


COMMANDS = [
    "get pods", "get pods -o wide", "get pods -A", "get pods,svc", "get all", "get pods --show-labels",
    "get nodes", "get nodes -o wide", "get deploy,rs -o wide", "get svc -o wide", "get cm,secret", "get ns",
    "get pod nope", "get foo", "get pods -l app=web -o name", "get pods -l nothing=here",
    "get svc api -o yaml", "get cm cfg -o json", "get pods pending -o yaml",
    "get pods -o jsonpath={.items[*].metadata.name}",
    "get nodes -o 'jsonpath={.items[*].status.addresses[?(@.type==\"InternalIP\")].address}'",
    "get pods -o 'jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}'",
    "get pods -o 'custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image'",
    "describe pod web", "describe pod pending", "describe deploy api", "describe rs api-old", "describe svc api",
    "describe svc kubernetes", "describe ns default", "describe cm cfg", "describe secret pw", "describe sa default",
    "describe role pod-reader", "describe clusterrole view",
    "rollout history deploy/api", "explain deploy.spec.replicas", "explain pod.spec.containers",
    "auth can-i list pods", "delete pod nope", "scale deployment nope --replicas=1",
    "describe sts db", "describe cronjob tick", "describe job once", "describe pvc data", "describe pv pv1",
    "describe sc standard", "describe ep manual", "describe hpa api", "describe quota q", "describe limits lr",
    "get sts,cj,job,pvc,pv,sc,ep,hpa,quota,limits,netpol", "describe netpol deny", "describe netpol web",
    "describe endpointslice api-abc", "get endpointslices", "get pods -L app -L tier,kubernetes.io/name",
    "get pods -A -L app --show-labels", "run box --image=nginx --restart=Never --port=80 --dry-run=client -o yaml",
    "create deployment web2 --image=nginx:1.25 --replicas=2 --port=80 --dry-run=client -o yaml",
    "create job hello --image=busybox --dry-run=client -o yaml -- echo hi", "create ns dev --dry-run=client -o yaml",
    "create cronjob tick2 --image=busybox --schedule=@hourly --dry-run=client -o yaml",
    "create secret generic pw2 --from-literal=a=b --dry-run=client -o yaml", "create deployment web3 --image=nginx --dry-run=server", "get nodes,pods,pv,sc -A", "get pods,nodes -A -o wide",
    "get ingress,ingressclass", "get ing -o wide", "get ing many-hosts -o jsonpath={.spec.ingressClassName}",
    "explain ingress.spec.rules", "explain ingressclass.spec", "describe ingress many-hosts", "describe ing catch-all",
    "describe ingressclass nginx", "describe ingress odd-backends",
    "create ingress simple --rule=foo.com/bar=svc1:8080,tls=my-cert --dry-run=client -o yaml",
    "create ingress multi --class=default --rule=foo.com/=svc:port --rule=foo.com/admin/=svcadmin:portadmin "
    "--rule='bar.com/admin*=svc2:http,tls' --rule='*.baz.com/=svc3:8443,tls=wild' --default-backend=defsvc:http "
    "--annotation a=b --dry-run=client -o yaml",
    "create ingress nothing", "create ingress bad --rule=foo.com=svc:80",
    "get pod web -o jsonpath={.status.containerStatuses[0].state}", "get nodes node-1 -o jsonpath={.status.nodeInfo}", "get pods --sort-by=.status.podIP", "get pods --sort-by=.metadata.name -o wide", "get pods -o wide --show-labels -l app",
]


def mask_event_ages(text: str) -> str:
    """describe's Events rows with their Age column (wall-clock in the real kubectl) replaced, spacing collapsed."""
    head, marker, events = text.partition("\nEvents:\n")
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=4) for line in events.splitlines()]
    return head + marker + "\n".join(" | ".join(row[:2] + ["AGE"] + row[3:] if len(row) > 3 else row)
                                      for row in rows)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_same_text_as_the_real_kubectl(both: tuple[engine.Cluster, Callable[[str], str]], command: str) -> None:
    cluster, real = both
    mine, theirs = cluster.kubectl(command), real(command)
    if command.startswith("describe"):
        mine, theirs = mask_event_ages(mine), mask_event_ages(theirs)
    assert mine == theirs
