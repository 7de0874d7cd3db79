"""Defaulting fills in what the real API server fills in, and nothing a manifest already says."""

import base64
import copy

import pytest

from engine.api.defaults import (
    apply_defaults, generate_job_selector, image_pull_policy,
)


def defaulted(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    apply_defaults(obj)
    return obj


def nginx_deployment() -> dict:
    """The nginx Deployment of the Kubernetes documentation."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"metadata": {"labels": {"app": "nginx"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                                                           "ports": [{"containerPort": 80}]}]}}}}


def simple_pod(**container) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx", **container}]}}


def test_a_pod_gets_the_defaults_kubectl_get_o_yaml_shows():
    pod = defaulted(simple_pod(ports=[{"containerPort": 80}]))
    assert pod["spec"] == {
        "containers": [{
            "name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "imagePullPolicy": "Always", "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "resources": {},
        }],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
        "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler", "enableServiceLinks": True,
    }


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.14.2", "IfNotPresent"),
    ("localhost:5000/nginx", "Always"), ("localhost:5000/nginx:1.0", "IfNotPresent"),
    ("busybox@sha256:6d9ac9237a84afe1516540f40a0fafdc86859b2141954b4d643af7066d598b74", "IfNotPresent"),
], ids=["an untagged image is pulled every time", "latest is pulled every time", "a pinned tag is pulled once",
        "a registry port is not a tag", "a tag after a registry port is a tag", "a digest is pulled once"])
def test_image_pull_policy_follows_the_tag(image, policy):
    assert image_pull_policy(image) == policy


def test_what_a_manifest_sets_is_never_overwritten():
    pod = simple_pod(imagePullPolicy="Never", terminationMessagePolicy="FallbackToLogsOnError")
    pod["spec"].update(restartPolicy="OnFailure", dnsPolicy="Default", terminationGracePeriodSeconds=5,
                       schedulerName="my-scheduler", enableServiceLinks=False)
    spec = defaulted(pod)["spec"]
    assert (spec["containers"][0]["imagePullPolicy"], spec["containers"][0]["terminationMessagePolicy"]) == \
        ("Never", "FallbackToLogsOnError")
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"], spec["schedulerName"],
            spec["enableServiceLinks"]) == ("OnFailure", "Default", 5, "my-scheduler", False)


def test_defaulting_is_idempotent():
    for obj in (simple_pod(), nginx_deployment()):
        once = defaulted(obj)
        assert defaulted(once) == once


@pytest.mark.parametrize("resources, expected", [
    ({"limits": {"cpu": "500m", "memory": "128Mi"}},
     {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "500m", "memory": "128Mi"}}),
    ({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "250m"}},
     {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "1Gi"}}),
    ({"requests": {"cpu": 0.5, "memory": "1.5Gi"}}, {"requests": {"cpu": "500m", "memory": "1536Mi"}}),
    ({"limits": {"cpu": "0.1m"}}, {"limits": {"cpu": "1m"}, "requests": {"cpu": "1m"}}),
    ({"limits": {"cpu": "2 cores"}}, {"limits": {"cpu": "2 cores"}, "requests": {}}),
], ids=["requests default to limits when only limits are set", "only the missing requests are copied",
        "quantities are written back canonically", "resource lists round up to millis",
        "a bad quantity is left for validation and not copied"])
def test_pod_resources(resources, expected):
    assert defaulted(simple_pod(resources=resources))["spec"]["containers"][0]["resources"] == expected


def test_a_template_gets_podspec_defaults_but_not_pod_only_ones():
    deployment = nginx_deployment()
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
    spec = defaulted(deployment)["spec"]
    template_spec = spec["template"]["spec"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["resources"] == {"limits": {"cpu": "1"}}
    assert "enableServiceLinks" not in template_spec
    assert template_spec["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert {k: spec[k] for k in ("replicas", "strategy", "revisionHistoryLimit", "progressDeadlineSeconds")} == {
        "replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%",
                                                                                "maxSurge": "25%"}},
        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}


def test_probes_get_their_timings_and_http_gets_their_path_and_scheme():
    pod = defaulted(simple_pod(livenessProbe={"httpGet": {"port": 8080}, "initialDelaySeconds": 3},
                               readinessProbe={"tcpSocket": {"port": 80}, "periodSeconds": 5}))
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"] == {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                                          "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 10,
                                          "successThreshold": 1, "failureThreshold": 3}
    assert container["readinessProbe"]["periodSeconds"] == 5


def test_volumes_get_a_source_and_file_modes():
    pod = simple_pod()
    pod["spec"]["volumes"] = [{"name": "scratch"}, {"name": "config", "configMap": {"name": "app"}},
                              {"name": "creds", "secret": {"secretName": "db", "defaultMode": 256}}]
    assert defaulted(pod)["spec"]["volumes"] == [
        {"name": "scratch", "emptyDir": {}}, {"name": "config", "configMap": {"name": "app", "defaultMode": 420}},
        {"name": "creds", "secret": {"secretName": "db", "defaultMode": 256}}]


def test_host_network_pods_publish_their_container_ports_on_the_host():
    pod = simple_pod(ports=[{"containerPort": 8080}])
    pod["spec"]["hostNetwork"] = True
    assert defaulted(pod)["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


WORKLOADS = [
    ("ReplicaSet", {}, {"replicas": 1}),
    ("StatefulSet", {}, {"replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                         "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                         "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}}),
    ("DaemonSet", {}, {"revisionHistoryLimit": 10, "updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}}),
    ("Deployment", {"strategy": {"type": "Recreate"}}, {"strategy": {"type": "Recreate"}}),
    ("StatefulSet", {"updateStrategy": {"type": "OnDelete"}}, {"updateStrategy": {"type": "OnDelete"}}),
]


@pytest.mark.parametrize("kind, spec, expected", WORKLOADS, ids=[
    "a ReplicaSet runs one replica by default", "a StatefulSet rolls out in order and keeps its claims",
    "a DaemonSet replaces one pod at a time", "a Recreate Deployment gets no rolling update parameters",
    "an OnDelete StatefulSet gets no partition"])
def test_workload_defaults(kind, spec, expected):
    obj = defaulted({"kind": kind, "metadata": {"name": "x"}, "spec": spec})
    assert {k: obj["spec"][k] for k in expected} == expected


def test_a_job_gets_completions_parallelism_and_backoff():
    job = defaulted({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
                     "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0"}],
                                                    "restartPolicy": "Never"}}}})
    spec = job["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode", "suspend",
                                 "podReplacementPolicy", "manualSelector")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed", "manualSelector": False}
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("given, completions, parallelism", [
    ({"parallelism": 3}, None, 3), ({"completions": 5}, 5, 1), ({"completions": 5, "parallelism": 2}, 5, 2),
], ids=["a work queue job keeps completions unset", "a fixed count job runs one at a time",
        "both given stay as given"])
def test_job_completions_and_parallelism_rules(given, completions, parallelism):
    spec = defaulted({"kind": "Job", "metadata": {"name": "j"}, "spec": dict(given)})["spec"]
    assert (spec.get("completions"), spec["parallelism"]) == (completions, parallelism)


def test_the_job_strategy_generates_a_selector_and_labels():
    job = defaulted({"kind": "Job", "metadata": {"name": "pi"},
                     "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}})
    generate_job_selector(job, "0123-abcd")
    assert job["metadata"]["uid"] == "0123-abcd"
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "0123-abcd"}}
    expected_labels = {"job-name": "pi", "batch.kubernetes.io/job-name": "pi", "controller-uid": "0123-abcd",
                       "batch.kubernetes.io/controller-uid": "0123-abcd"}
    assert job["spec"]["template"]["metadata"]["labels"] == expected_labels
    assert job["metadata"]["labels"] == expected_labels


def test_a_manual_selector_is_left_alone():
    job = {"kind": "Job", "metadata": {"name": "pi"},
           "spec": {"manualSelector": True, "selector": {"matchLabels": {"app": "pi"}},
                    "template": {"metadata": {"labels": {"app": "pi"}}}}}
    before = copy.deepcopy(job)
    generate_job_selector(job, "uid")
    assert job == before


def test_a_cron_job_gets_its_policies_and_history_limits():
    cron = defaulted({"kind": "CronJob", "metadata": {"name": "hello"}, "spec": {
        "schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "hello", "image": "busybox:1.28"}], "restartPolicy": "OnFailure"}}}}}})
    spec = cron["spec"]
    assert {k: spec[k] for k in ("concurrencyPolicy", "suspend", "successfulJobsHistoryLimit",
                                 "failedJobsHistoryLimit")} == {
        "concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]


SERVICES = [
    ({"selector": {"app": "web"}, "ports": [{"port": 80}]},
     {"type": "ClusterIP", "sessionAffinity": "None", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
      "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}),
    ({"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]},
     {"externalTrafficPolicy": "Cluster", "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]}),
    ({"type": "LoadBalancer", "ports": [{"port": 443, "protocol": "TCP"}]},
     {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True}),
    ({"sessionAffinity": "ClientIP", "ports": [{"port": 80}]},
     {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}}),
    ({"clusterIP": "None", "ports": [{"port": 80}]}, {"ipFamilyPolicy": "RequireDualStack", "clusterIPs": ["None"]}),
]


@pytest.mark.parametrize("spec, expected", SERVICES, ids=[
    "a plain service is a single-stack ClusterIP whose target port is its port",
    "a NodePort service routes external traffic cluster-wide and keeps a named target port",
    "a LoadBalancer also allocates node ports", "client IP affinity lasts three hours",
    "a headless service without a selector asks for both IP families"])
def test_service_defaults(spec, expected):
    svc = defaulted({"kind": "Service", "metadata": {"name": "web"}, "spec": spec})
    assert {k: svc["spec"][k] for k in expected} == expected
    assert "clusterIP" not in svc["spec"] or svc["spec"]["clusterIP"] == "None"  # allocation is not defaulting


def test_an_external_name_service_gets_no_ip_families():
    svc = defaulted({"kind": "Service", "metadata": {"name": "db"},
                     "spec": {"type": "ExternalName", "externalName": "db.example.com"}})
    assert "ipFamilyPolicy" not in svc["spec"] and "internalTrafficPolicy" not in svc["spec"]


OTHERS = [
    ({"kind": "Namespace", "metadata": {"name": "team-a"}},
     {"metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
      "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    ({"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2"}},
     {"type": "Opaque", "data": {"password": base64.b64encode(b"hunter2").decode()}}),
    ({"kind": "PersistentVolume", "metadata": {"name": "pv"}, "spec": {"capacity": {"storage": "10Gi"}}},
     {"spec": {"capacity": {"storage": "10Gi"}, "persistentVolumeReclaimPolicy": "Retain",
               "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}),
    ({"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {"resources": {"requests": {"storage": 1e9}}}},
     {"spec": {"resources": {"requests": {"storage": "1G"}}, "volumeMode": "Filesystem"},
      "status": {"phase": "Pending"}}),
    ({"kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "example.com/disk"},
     {"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
    ({"kind": "NetworkPolicy", "metadata": {"name": "np"},
      "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}},
     {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "TCP"}]}],
               "policyTypes": ["Ingress", "Egress"]}}),
    ({"kind": "EndpointSlice", "metadata": {"name": "e"}, "addressType": "IPv4", "ports": [{"port": 80}]},
     {"ports": [{"port": 80, "name": "", "protocol": "TCP"}]}),
    ({"kind": "RoleBinding", "metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "r"},
      "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "default"}]},
     {"roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"},
      "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                   {"kind": "ServiceAccount", "name": "default", "apiGroup": ""}]}),
    ({"kind": "Node", "metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}},
     {"status": {"capacity": {"cpu": "4", "memory": "8Gi"}, "allocatable": {"cpu": "4", "memory": "8Gi"}}}),
    ({"kind": "LimitRange", "metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container",
                                                                              "max": {"cpu": "2"},
                                                                              "min": {"memory": "64Mi"}}]}},
     {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"},
                           "default": {"cpu": "2"}, "defaultRequest": {"cpu": "2", "memory": "64Mi"}}]}}),
    ({"kind": "Lease", "metadata": {"name": "l"}, "spec": {}}, {"spec": {}}),
]


@pytest.mark.parametrize("obj, expected", OTHERS, ids=[
    "a namespace is labelled with its name, finalized by kubernetes and Active",
    "a secret is Opaque and its stringData is folded into base64 data",
    "a persistent volume is retained, a filesystem, and Pending",
    "a claim is a filesystem and Pending, with its size written canonically",
    "a storage class deletes its volumes and binds at once",
    "a network policy with egress rules has both policy types and TCP ports",
    "an endpoint slice port has an empty name and TCP",
    "role binding subjects and refs get their API groups",
    "a node's allocatable defaults to its capacity",
    "a container limit range defaults limits from max and requests from limits and min",
    "a lease has no defaults"])
def test_defaults_of_other_kinds(obj, expected):
    got = defaulted(obj)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("spec, expected", [
    ({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5},
     {"minReplicas": 1, "metrics": [{"type": "Resource", "resource": {
         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}),
    ({"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
     {"behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
         {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]},
         "scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [
             {"type": "Percent", "value": 100, "periodSeconds": 15}]}}}),
], ids=["an autoscaler without metrics targets 80% CPU from one replica",
        "a behavior the user started is completed with the default rules"])
def test_horizontal_pod_autoscaler_defaults(spec, expected):
    hpa = defaulted({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"}, "spec": spec})
    assert {k: hpa["spec"][k] for k in expected} == expected


def test_unknown_kinds_and_garbage_are_left_alone():
    for obj in ({"kind": "Widget", "spec": {"x": 1}}, {"kind": "Pod", "spec": {"containers": "nginx"}},
                {"kind": "Deployment", "spec": {"template": "oops"}}):
        apply_defaults(copy.deepcopy(obj))  # no exception
