"""Validation rejects what the real API server rejects, with the same reasons, messages and field paths."""

import copy

import pytest
import yaml

from engine.api.defaults import apply_defaults, generate_job_selector
from engine.api.errors import invalid
from engine.api.kinds import REGISTRY
from engine.api.validation import int_or_percent, parse_schedule, validate

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def admit(obj: dict) -> dict:
    """What the API server does before it validates a create: namespace from the request, defaults, Job selector."""
    obj = copy.deepcopy(obj)
    kind = REGISTRY.find(obj.get("kind", ""))
    metadata = obj.setdefault("metadata", {})
    if kind is not None and kind.namespaced:
        metadata.setdefault("namespace", "default")
    apply_defaults(obj)
    if obj.get("kind") == "Job":
        generate_job_selector(obj, "5d3c7f1e-0b1a-4c2d-9e8f-000000000001")
    return obj


def causes(obj: dict, old: dict | None = None, admitted: bool = False) -> list[dict]:
    return validate(obj if admitted else admit(obj), old)


def cause(reason: str, message: str, field: str) -> dict:
    return {"reason": reason, "message": message, "field": field}


DOCS = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-http
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args:
    - liveness
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
        httpHeaders:
        - name: Custom-Header
          value: Awesome
      initialDelaySeconds: 3
      periodSeconds: 3
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34.0
        command: ["perl",  "-Mbignum=bpi", "-wle", "print bpi(2000)"]
      restartPolicy: Never
  backoffLimit: 4
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
---
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
---
apiVersion: v1
kind: Service
metadata:
  name: my-nodeport
spec:
  type: NodePort
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - port: 80
      targetPort: 80
      nodePort: 30007
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: "nginx"
  replicas: 3
  minReadySeconds: 10
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      storageClassName: "my-storage-class"
      resources:
        requests:
          storage: 1Gi
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-demo
data:
  player_initial_lives: "3"
  game.properties: |
    enemy.types=aliens,monsters
---
apiVersion: v1
kind: Secret
metadata:
  name: secret-basic-auth
type: kubernetes.io/basic-auth
stringData:
  username: admin
  password: t0p-Secret
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: myclaim
spec:
  accessModes:
    - ReadWriteOnce
  volumeMode: Filesystem
  resources:
    requests:
      storage: 8Gi
  storageClassName: slow
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: task-pv-volume
spec:
  storageClassName: manual
  capacity:
    storage: 10Gi
  accessModes:
    - ReadWriteOnce
  hostPath:
    path: "/mnt/data"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  namespace: default
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
provisioner: kubernetes.io/aws-ebs
parameters:
  type: gp2
reclaimPolicy: Retain
allowVolumeExpansion: true
volumeBindingMode: Immediate
---
apiVersion: v1
kind: Namespace
metadata:
  name: development
---
apiVersion: v1
kind: LimitRange
metadata:
  name: cpu-resource-constraint
spec:
  limits:
  - default:
      cpu: 500m
    defaultRequest:
      cpu: 500m
    max:
      cpu: "1"
    min:
      cpu: 100m
    type: Container
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: pods-high
spec:
  hard:
    cpu: "1000"
    memory: 200Gi
    pods: "10"
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: node-1
  namespace: kube-node-lease
spec:
  holderIdentity: node-1
  leaseDurationSeconds: 40
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: example-abc
  labels:
    kubernetes.io/service-name: example
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: 80
endpoints:
  - addresses:
      - "10.1.2.3"
    conditions:
      ready: true
    hostname: pod-1
    nodeName: node-1
    zone: us-west2-a
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels:
    kubernetes.io/hostname: node-1
spec:
  podCIDR: 10.244.1.0/24
  taints:
  - key: node.kubernetes.io/not-ready
    effect: NoSchedule
status:
  capacity:
    cpu: "4"
    memory: 8Gi
    pods: "110"
"""

DOC_MANIFESTS = list(yaml.safe_load_all(DOCS))


@pytest.mark.parametrize("manifest", DOC_MANIFESTS, ids=[
    f"the documentation's {m['kind']} {m['metadata']['name']} is valid after defaulting" for m in DOC_MANIFESTS])
def test_manifests_from_the_kubernetes_documentation_validate_cleanly(manifest):
    assert causes(manifest) == []


def pod(**spec) -> dict:
    base = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}
    base["spec"].update(spec)
    return base


def container(**fields) -> dict:
    return {"name": "web", "image": "nginx:1.25", **fields}


POD_CASES = [
    ("a container without an image is rejected", pod(containers=[{"name": "web"}]),
     [cause("FieldValueRequired", "Required value", "spec.containers[0].image")]),
    ("a pod without containers is rejected", pod(containers=[]),
     [cause("FieldValueRequired", "Required value", "spec.containers")]),
    ("two containers may not share a name", pod(containers=[container(), container(image="redis")]),
     [cause("FieldValueDuplicate", 'Duplicate value: "web"', "spec.containers[1].name")]),
    ("a container name is a DNS label", pod(containers=[container(name="Web_1")]),
     [cause("FieldValueInvalid", f'Invalid value: "Web_1": {LABEL_MSG}', "spec.containers[0].name")]),
    ("a restart policy must be one of three", pod(restartPolicy="Sometimes"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            "spec.restartPolicy")]),
    ("a DNS policy must be one of four", pod(dnsPolicy="Google"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
            '"ClusterFirst", "Default", "None"', "spec.dnsPolicy")]),
    ("an image pull policy must be one of three", pod(containers=[container(imagePullPolicy="Sometimes")]),
     [cause("FieldValueNotSupported", 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", '
            '"Never"', "spec.containers[0].imagePullPolicy")]),
    ("a request above its limit names the limit and is reported on requests",
     pod(containers=[container(resources={"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})]),
     [cause("FieldValueInvalid", 'Invalid value: "2": must be less than or equal to cpu limit of 1',
            "spec.containers[0].resources.requests")]),
    ("a memory request above its limit is compared exactly across units",
     pod(containers=[container(resources={"limits": {"memory": "1Gi"}, "requests": {"memory": "1025Mi"}})]),
     [cause("FieldValueInvalid", 'Invalid value: "1025Mi": must be less than or equal to memory limit of 1Gi',
            "spec.containers[0].resources.requests")]),
    ("a malformed quantity quotes the quantity grammar",
     pod(containers=[container(resources={"requests": {"cpu": "2 cores"}})]),
     [cause("FieldValueInvalid", "Invalid value: \"2 cores\": quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", "spec.containers[0].resources.requests[cpu]")]),
    ("a negative request is rejected", pod(containers=[container(resources={"requests": {"memory": "-1Mi"}})]),
     [cause("FieldValueInvalid", 'Invalid value: "-1Mi": must be greater than or equal to 0',
            "spec.containers[0].resources.requests[memory]")]),
    ("an unknown resource name is not a container resource",
     pod(containers=[container(resources={"requests": {"cpus": "1"}})]),
     [cause("FieldValueInvalid", 'Invalid value: "cpus": must be a standard resource type or fully qualified',
            "spec.containers[0].resources.requests[cpus]")]),
    ("an extended resource must be whole and requested at its limit",
     pod(containers=[container(resources={"limits": {"example.com/gpu": "500m"}})]),
     [cause("FieldValueInvalid", "Invalid value: 500m: must be an integer",
            "spec.containers[0].resources.limits[example.com/gpu]"),
      cause("FieldValueInvalid", "Invalid value: 500m: must be an integer",
            "spec.containers[0].resources.requests[example.com/gpu]")]),
    ("container ports are numbered 1 to 65535 and named uniquely",
     pod(containers=[container(ports=[{"containerPort": 0}, {"containerPort": 70000, "name": "http"},
                                      {"containerPort": 8080, "name": "http"}])]),
     [cause("FieldValueRequired", "Required value", "spec.containers[0].ports[0].containerPort"),
      cause("FieldValueInvalid", "Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].containerPort"),
      cause("FieldValueDuplicate", 'Duplicate value: "http"', "spec.containers[0].ports[2].name")]),
    ("a port name needs a letter and at most fifteen characters",
     pod(containers=[container(ports=[{"containerPort": 80, "name": "8080"}])]),
     [cause("FieldValueInvalid", 'Invalid value: "8080": must contain at least one letter (a-z)',
            "spec.containers[0].ports[0].name")]),
    ("a port protocol must be TCP, UDP or SCTP",
     pod(containers=[container(ports=[{"containerPort": 80, "protocol": "HTTP"}])]),
     [cause("FieldValueNotSupported", 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
            "spec.containers[0].ports[0].protocol")]),
    ("a volume mount must name a volume of the pod",
     pod(containers=[container(volumeMounts=[{"name": "data", "mountPath": "/data"}])]),
     [cause("FieldValueNotFound", 'Not found: "data"', "spec.containers[0].volumeMounts[0].name")]),
    ("volumes may not share a name",
     pod(volumes=[{"name": "cache", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]),
     [cause("FieldValueDuplicate", 'Duplicate value: "cache"', "spec.volumes[1].name")]),
    ("a volume has exactly one source",
     pod(volumes=[{"name": "cfg", "configMap": {"name": "a"}, "secret": {"secretName": "b"}}]),
     [cause("FieldValueForbidden", "Forbidden: may not specify more than 1 volume type", "spec.volumes[0].configMap")]),
    ("a secret volume needs a secret name and a sane mode",
     pod(volumes=[{"name": "s", "secret": {"defaultMode": 1000}}]),
     [cause("FieldValueRequired", "Required value", "spec.volumes[0].secret.secretName"),
      cause("FieldValueInvalid", "Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            "spec.volumes[0].secret.defaultMode")]),
    ("a liveness probe must succeed once and have a handler",
     pod(containers=[container(livenessProbe={"successThreshold": 2})]),
     [cause("FieldValueRequired", "Required value: must specify a handler type", "spec.containers[0].livenessProbe"),
      cause("FieldValueInvalid", "Invalid value: 2: must be 1", "spec.containers[0].livenessProbe.successThreshold")]),
    ("a probe has one handler and non-negative timings",
     pod(containers=[container(readinessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80},
                                               "periodSeconds": -1})]),
     [cause("FieldValueForbidden", "Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].readinessProbe.tcpSocket"),
      cause("FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0",
            "spec.containers[0].readinessProbe.periodSeconds")]),
    ("an environment variable needs a name without equals signs",
     pod(containers=[container(env=[{"name": "A=B", "value": "x"}, {"value": "y"}])]),
     [cause("FieldValueInvalid", "Invalid value: \"A=B\": a valid environment variable name must consist only of "
            "printable ASCII characters other than '='", "spec.containers[0].env[0].name"),
      cause("FieldValueRequired", "Required value", "spec.containers[0].env[1].name")]),
    ("a field reference must be a supported path",
     pod(containers=[container(env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.node"}}}])]),
     [cause("FieldValueNotSupported", 'Unsupported value: "spec.node": supported values: "metadata.name", '
            '"metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
            '"status.hostIPs", "status.podIP", "status.podIPs"', "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath")]),
    ("a toleration with no key must use Exists", pod(tolerations=[{"operator": "Equal", "value": "x"}]),
     [cause("FieldValueInvalid", 'Invalid value: "Equal": operator must be Exists when `key` is empty, which means '
            '"match all values and all keys"', "spec.tolerations[0].operator")]),
    ("toleration seconds need the NoExecute effect",
     pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]),
     [cause("FieldValueInvalid", "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` "
            "is set", "spec.tolerations[0].effect")]),
    ("the pod name is a DNS subdomain", {**pod(), "metadata": {"name": "Foo_Bar"}},
     [cause("FieldValueInvalid", f'Invalid value: "Foo_Bar": {SUBDOMAIN_MSG}', "metadata.name")]),
    ("a pod needs a name", {**pod(), "metadata": {}},
     [cause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")]),
    ("a generated name is enough", {**pod(), "metadata": {"generateName": "web-"}}, []),
    ("label keys and values have a syntax", {**pod(), "metadata": {"name": "web", "labels": {"app/x/y": "ok",
                                                                                            "tier": "front end"}}},
     [cause("FieldValueInvalid", "Invalid value: \"app/x/y\": a valid label key must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
            "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
            "an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", "metadata.labels"),
      cause("FieldValueInvalid", "Invalid value: \"front end\": a valid label must be an empty string or consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')", "metadata.labels")]),
    ("annotations are limited to 256 KiB in total",
     {**pod(), "metadata": {"name": "web", "annotations": {"big": "x" * (256 * 1024)}}},
     [cause("FieldValueTooLong", "Too long: must have at most 262144 bytes", "metadata.annotations")]),
    ("a host-network pod's host ports equal its container ports",
     pod(hostNetwork=True, containers=[container(ports=[{"containerPort": 80, "hostPort": 8080}])]),
     [cause("FieldValueInvalid", "Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
            "spec.containers[0].ports[0].hostPort")]),
    ("an active deadline is at least one second", pod(activeDeadlineSeconds=0),
     [cause("FieldValueInvalid", "Invalid value: 0: must be between 1 and 2147483647, inclusive",
            "spec.activeDeadlineSeconds")]),
    ("a list where a list is expected", pod(containers="nginx"),
     [cause("FieldValueTypeInvalid", 'Invalid value: "nginx": spec.containers in body must be of type array: '
            '"string"', "spec.containers")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_pod_validation(manifest, expected):
    assert causes(manifest) == expected


def deployment(**spec) -> dict:
    base = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}
    base["spec"].update(spec)
    return base


def without_selector() -> dict:
    d = deployment()
    del d["spec"]["selector"]
    return d


def template_with(**spec) -> dict:
    d = deployment()
    d["spec"]["template"]["spec"].update(spec)
    return d


DEPLOYMENT_CASES = [
    ("a selector that does not match the template labels is rejected", deployment(selector={"matchLabels": {"app": "x"}}),
     [cause("FieldValueInvalid", 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template '
            '`labels`', "spec.template.metadata.labels")]),
    ("a deployment needs a selector", without_selector(),
     [cause("FieldValueRequired", "Required value", "spec.selector"),
      cause("FieldValueInvalid", 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template '
            '`labels`', "spec.template.metadata.labels")]),
    ("an empty selector is invalid for a deployment", deployment(selector={}),
     [cause("FieldValueInvalid", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
            "spec.selector")]),
    ("In with no values is an invalid selector",
     deployment(selector={"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}),
     [cause("FieldValueRequired", "Required value: must be specified when `operator` is 'In' or 'NotIn'",
            "spec.selector.matchExpressions[0].values"),
      cause("FieldValueInvalid", 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), '
            'MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"In", '
            'Values:[]string{}}}}: invalid label selector', "spec.selector")]),
    ("replicas may not be negative", deployment(replicas=-1),
     [cause("FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0", "spec.replicas")]),
    ("a deployment's pods must restart always", template_with(restartPolicy="Never"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Never": supported values: "Always"',
            "spec.template.spec.restartPolicy")]),
    ("a missing image in a template is reported with its full path", template_with(containers=[{"name": "web"}]),
     [cause("FieldValueRequired", "Required value", "spec.template.spec.containers[0].image")]),
    ("template label errors are reported at spec.template.labels",
     deployment(selector={"matchLabels": {"app": "web"}},
                template={"metadata": {"labels": {"app": "web", "bad key": "x"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}),
     [cause("FieldValueInvalid", "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "spec.template.labels")]),
    ("a strategy type must be Recreate or RollingUpdate", deployment(strategy={"type": "BlueGreen"}),
     [cause("FieldValueNotSupported", 'Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", '
            'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"',
            "spec.strategy")]),
    ("maxSurge and maxUnavailable may not both be zero",
     deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),
     [cause("FieldValueInvalid", "Invalid value: 0%: may not be 0 when `maxSurge` is 0",
            "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("a percentage is digits and a percent sign, at most 100 for maxUnavailable",
     deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25x", "maxUnavailable": "120%"}}),
     [cause("FieldValueInvalid", "Invalid value: 25x: a valid percent string must be a numeric string followed by an "
            "ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
            "spec.strategy.rollingUpdate.maxSurge"),
      cause("FieldValueInvalid", "Invalid value: 120%: must not be greater than 100%",
            "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("a Recreate deployment takes no rolling update parameters",
     deployment(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
     [cause("FieldValueForbidden", "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            "spec.strategy.rollingUpdate")]),
    ("the progress deadline must exceed minReadySeconds", deployment(minReadySeconds=30, progressDeadlineSeconds=30),
     [cause("FieldValueInvalid", "Invalid value: 30: must be greater than minReadySeconds",
            "spec.progressDeadlineSeconds")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in DEPLOYMENT_CASES], ids=[c[0] for c in DEPLOYMENT_CASES])
def test_deployment_validation(manifest, expected):
    assert causes(manifest) == expected


def workload(kind: str, **spec) -> dict:
    base = deployment(**spec)
    base["kind"] = kind
    return base


OTHER_WORKLOAD_CASES = [
    ("a replica set without a matching template is rejected",
     workload("ReplicaSet", selector={"matchLabels": {"app": "db"}}),
     [cause("FieldValueInvalid", 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template '
            '`labels`', "spec.template.metadata.labels")]),
    ("a daemon set's rolling update takes surge or unavailability, not both",
     workload("DaemonSet", updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1,
                                                                                      "maxUnavailable": 1}}),
     [cause("FieldValueInvalid", "Invalid value: 1: may not be set when maxUnavailable is non-zero",
            "spec.updateStrategy.rollingUpdate.maxSurge")]),
    ("a daemon set's update strategy is RollingUpdate or OnDelete",
     workload("DaemonSet", updateStrategy={"type": "Sometimes"}),
     [cause("FieldValueNotSupported", 'Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Sometimes", '
            'RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "RollingUpdate", "OnDelete"',
            "spec.updateStrategy")]),
    ("a stateful set's name is a DNS label", {**workload("StatefulSet"), "metadata": {"name": "web.v1"}},
     [cause("FieldValueInvalid", 'Invalid value: "web.v1": must not contain dots', "metadata.name")]),
    ("a stateful set's pod management policy has two values", workload("StatefulSet", podManagementPolicy="Random"),
     [cause("FieldValueInvalid", "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
            "spec.podManagementPolicy")]),
    ("a stateful set's empty selector is invalid", workload("StatefulSet", selector={}),
     [cause("FieldValueInvalid", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset",
            "spec.selector")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in OTHER_WORKLOAD_CASES],
                         ids=[c[0] for c in OTHER_WORKLOAD_CASES])
def test_replica_set_daemon_set_and_stateful_set_validation(manifest, expected):
    assert causes(manifest) == expected


def job(restart: str | None = "Never", **spec) -> dict:
    template_spec = {"containers": [{"name": "pi", "image": "perl:5.34.0"}]}
    if restart is not None:
        template_spec["restartPolicy"] = restart
    base = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
            "spec": {"template": {"spec": template_spec}}}
    base["spec"].update(spec)
    return base


def cron_job(schedule: str = "*/5 * * * *", **spec) -> dict:
    base = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "hello", "image": "busybox:1.28"}], "restartPolicy": "OnFailure"}}}}}}
    base["spec"].update(spec)
    return base


BATCH_CASES = [
    ("a job whose pods restart always is rejected", job(restart="Always"),
     [cause("FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"',
            "spec.template.spec.restartPolicy")]),
    ("a job without a restart policy defaults to Always and is rejected", job(restart=None),
     [cause("FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"',
            "spec.template.spec.restartPolicy")]),
    ("completions, parallelism and backoffLimit may not be negative",
     job(completions=-1, parallelism=-2, backoffLimit=-3),
     [cause("FieldValueInvalid", "Invalid value: -2: must be greater than or equal to 0", "spec.parallelism"),
      cause("FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0", "spec.completions"),
      cause("FieldValueInvalid", "Invalid value: -3: must be greater than or equal to 0", "spec.backoffLimit")]),
    ("an indexed job needs completions", job(completionMode="Indexed", parallelism=2),
     [cause("FieldValueRequired", "Required value: when completion mode is Indexed", "spec.completions")]),
    ("a cron schedule has five fields", cron_job("* * * *"),
     [cause("FieldValueInvalid", 'Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
            "spec.schedule")]),
    ("a cron minute is at most 59", cron_job("60 * * * *"),
     [cause("FieldValueInvalid", 'Invalid value: "60 * * * *": end of range (60) above maximum (59): 60',
            "spec.schedule")]),
    ("an unknown descriptor is rejected", cron_job("@fortnightly"),
     [cause("FieldValueInvalid", 'Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly',
            "spec.schedule")]),
    ("a time zone belongs in the timeZone field", cron_job("CRON_TZ=UTC 0 * * * *"),
     [cause("FieldValueInvalid", 'Invalid value: "CRON_TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use '
            'timeZone field instead', "spec.schedule")]),
    ("a concurrency policy is Allow, Forbid or Replace", cron_job(concurrencyPolicy="Sometimes"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
            "spec.concurrencyPolicy")]),
    ("a cron job's pods may not restart always", cron_job(jobTemplate={"spec": {"template": {"spec": {
        "containers": [{"name": "hello", "image": "busybox"}], "restartPolicy": "Always"}}}}),
     [cause("FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"',
            "spec.jobTemplate.spec.template.spec.restartPolicy")]),
    ("a cron job name leaves room for the job suffix", {**cron_job(), "metadata": {"name": "x" * 53}},
     [cause("FieldValueInvalid", f'Invalid value: "{"x" * 53}": must be no more than 52 characters', "metadata.name")]),
    ("descriptors such as @hourly are accepted", cron_job("@hourly"), []),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in BATCH_CASES], ids=[c[0] for c in BATCH_CASES])
def test_job_and_cron_job_validation(manifest, expected):
    assert causes(manifest) == expected


def test_a_job_must_carry_its_generated_labels():
    pi = admit(job())
    pi["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] = "other"
    assert causes(pi, admitted=True)[0] == cause(
        "FieldValueInvalid", 'Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":'
        '"5d3c7f1e-0b1a-4c2d-9e8f-000000000001", "batch.kubernetes.io/job-name":"other", '
        '"controller-uid":"5d3c7f1e-0b1a-4c2d-9e8f-000000000001", "job-name":"pi"}: must be \'pi\'',
        "spec.template.metadata.labels[batch.kubernetes.io/job-name]")


@pytest.mark.parametrize("schedule", ["@hourly", "@daily", "@every 90s", "0 9 * * mon-fri", "*/15 1-5 1,15 jan,jul ?",
                                      "0 0 29 2 *"],
                         ids=["hourly", "daily", "every interval", "weekday names", "steps ranges lists and names",
                              "a leap day"])
def test_cron_schedules_the_real_parser_accepts(schedule):
    parse_schedule(schedule)


def test_a_cron_schedule_knows_which_minutes_it_runs():
    weekdays = parse_schedule("30 9 * * mon-fri")
    assert weekdays.matches(30, 9, 3, 1, 1) and not weekdays.matches(30, 9, 4, 1, 0)
    either = parse_schedule("0 0 1 * mon")  # both day fields restricted: either one will do
    assert either.matches(0, 0, 1, 5, 3) and either.matches(0, 0, 8, 5, 1) and not either.matches(0, 0, 8, 5, 3)


def service(**spec) -> dict:
    base = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    base["spec"].update(spec)
    return base


SERVICE_CASES = [
    ("a service needs ports", service(ports=[]), [cause("FieldValueRequired", "Required value", "spec.ports")]),
    ("a headless service needs no ports", service(ports=[], clusterIP="None"), []),
    ("an external name service needs no ports", service(ports=[], type="ExternalName", externalName="db.example.com",
                                                       selector=None), []),
    ("several ports must be named", service(ports=[{"port": 80}, {"port": 443}]),
     [cause("FieldValueRequired", "Required value", "spec.ports[0].name"),
      cause("FieldValueRequired", "Required value", "spec.ports[1].name")]),
    ("port names are unique", service(ports=[{"port": 80, "name": "web"}, {"port": 8080, "name": "web"}]),
     [cause("FieldValueDuplicate", 'Duplicate value: "web"', "spec.ports[1].name")]),
    ("a port is between 1 and 65535", service(ports=[{"port": 70000, "targetPort": 80}]),
     [cause("FieldValueInvalid", "Invalid value: 70000: must be between 1 and 65535, inclusive", "spec.ports[0].port")]),
    ("a service type is one of four", service(type="Public"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", '
            '"LoadBalancer", "NodePort"', "spec.type")]),
    ("a node port is in the node port range", service(type="NodePort", ports=[{"port": 80, "nodePort": 8080}]),
     [cause("FieldValueInvalid", "Invalid value: 8080: provided port is not in the valid range. The range of valid "
            "ports is 30000-32767", "spec.ports[0].nodePort")]),
    ("a ClusterIP service has no node ports", service(ports=[{"port": 80, "nodePort": 30080}]),
     [cause("FieldValueForbidden", "Forbidden: may not be used when `type` is 'ClusterIP'", "spec.ports[0].nodePort")]),
    ("a service name is a DNS-1035 label", {**service(), "metadata": {"name": "1web"}},
     [cause("FieldValueInvalid", f'Invalid value: "1web": {DNS1035_MSG}', "metadata.name")]),
    ("the same port twice is a duplicate", service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]),
     [cause("FieldValueDuplicate", 'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)'
            '(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
            "spec.ports[1]")]),
    ("session affinity is None or ClientIP", service(sessionAffinity="Sticky"),
     [cause("FieldValueNotSupported", 'Unsupported value: "Sticky": supported values: "ClientIP", "None"',
            "spec.sessionAffinity")]),
    ("a cluster IP is an IP address", service(clusterIP="10.96.0.300"),
     [cause("FieldValueInvalid", 'Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or '
            '2001:db8::ffff)', "spec.clusterIPs[0]")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in SERVICE_CASES], ids=[c[0] for c in SERVICE_CASES])
def test_service_validation(manifest, expected):
    if manifest["spec"].get("selector") is None:
        manifest["spec"].pop("selector", None)
    assert causes(manifest) == expected


CORE_CASES = [
    ("a namespace name is a DNS label", {"kind": "Namespace", "metadata": {"name": "team.a"}},
     [cause("FieldValueInvalid", 'Invalid value: "team.a": must not contain dots', "metadata.name")]),
    ("a cluster-scoped object takes no namespace", {"kind": "Namespace", "metadata": {"name": "a", "namespace": "b"}},
     [cause("FieldValueForbidden", "Forbidden: not allowed on this type", "metadata.namespace")]),
    ("a config map key is alphanumeric with dashes, dots and underscores",
     {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"app config": "x"}},
     [cause("FieldValueInvalid", "Invalid value: \"app config\": a valid config key must consist of alphanumeric "
            "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
            "is '[-._a-zA-Z0-9]+')", "data[app config]")]),
    ("a TLS secret needs its certificate and key", {"kind": "Secret", "metadata": {"name": "s"},
                                                   "type": "kubernetes.io/tls", "data": {}},
     [cause("FieldValueRequired", "Required value", "data[tls.crt]"),
      cause("FieldValueRequired", "Required value", "data[tls.key]")]),
    ("a claim needs access modes and a size", {"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {}},
     [cause("FieldValueRequired", "Required value: at least 1 access mode is required", "spec.accessModes"),
      cause("FieldValueRequired", "Required value", "spec.resources[storage]")]),
    ("an access mode is one of four", {"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {
        "accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "1Gi"}}}},
     [cause("FieldValueNotSupported", 'Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", '
            '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"', "spec.accessModes")]),
    ("a volume needs access modes, a capacity and a source",
     {"kind": "PersistentVolume", "metadata": {"name": "pv"}, "spec": {}},
     [cause("FieldValueRequired", "Required value", "spec.accessModes"),
      cause("FieldValueRequired", "Required value", "spec.capacity"),
      cause("FieldValueNotSupported", 'Unsupported value: core.ResourceList(nil): supported values: "storage"',
            "spec.capacity"),
      cause("FieldValueRequired", "Required value: must specify a volume type", "spec")]),
    ("a node's taints are unique by key and effect and reported under metadata",
     {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"taints": [
         {"key": "gpu", "value": "yes", "effect": "NoSchedule"}, {"key": "gpu", "value": "no", "effect": "NoSchedule"},
         {"key": "zone", "effect": "Sometimes"}]}},
     [cause("FieldValueDuplicate", 'Duplicate value: core.Taint{Key:"gpu", Value:"no", Effect:"NoSchedule", '
            'TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair', "metadata.taints[1]"),
      cause("FieldValueNotSupported", 'Unsupported value: "Sometimes": supported values: "NoSchedule", '
            '"PreferNoSchedule", "NoExecute"', "metadata.taints[2].effect")]),
    ("a limit range's minimum may not exceed its maximum",
     {"kind": "LimitRange", "metadata": {"name": "l"}, "spec": {"limits": [{"type": "Pod", "min": {"cpu": "2"},
                                                                            "max": {"cpu": "1"}}]}},
     [cause("FieldValueInvalid", "Invalid value: 2: min value 2 is greater than max value 1", "spec.limits[0].min[cpu]")]),
    ("a quota counts whole objects", {"kind": "ResourceQuota", "metadata": {"name": "q"},
                                      "spec": {"hard": {"pods": "1500m"}}},
     [cause("FieldValueInvalid", "Invalid value: 1500m: must be an integer", "spec.hard[pods]")]),
    ("a role rule needs verbs", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                 "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]},
     [cause("FieldValueRequired", "Required value: verbs must contain at least one value", "rules[0].verbs")]),
    ("a binding needs a role ref", {"kind": "RoleBinding", "metadata": {"name": "rb"}, "subjects": []},
     [cause("FieldValueNotSupported", 'Unsupported value: "": supported values: "Role", "ClusterRole"', "roleRef.kind"),
      cause("FieldValueRequired", "Required value", "roleRef.name")]),
    ("a cluster role binding refers to a cluster role", {"kind": "ClusterRoleBinding", "metadata": {"name": "crb"},
                                                         "roleRef": {"kind": "Role", "name": "r"}},
     [cause("FieldValueNotSupported", 'Unsupported value: "Role": supported values: "ClusterRole"', "roleRef.kind")]),
    ("a lease lasts a positive time", {"kind": "Lease", "metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}},
     [cause("FieldValueInvalid", "Invalid value: 0: must be greater than 0", "spec.leaseDurationSeconds")]),
    ("an endpoint slice address type is one of three", {"kind": "EndpointSlice", "metadata": {"name": "e"},
                                                        "addressType": "IPv5"},
     [cause("FieldValueNotSupported", 'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
            "addressType")]),
    ("a network policy peer is a selector or a CIDR",
     {"kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": {"podSelector": {}, "ingress": [
         {"from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]}},
     [cause("FieldValueRequired", "Required value: must specify a peer", "spec.ingress[0].from[0]"),
      cause("FieldValueInvalid", 'Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
            "spec.ingress[0].from[1].ipBlock.except[0]")]),
    ("a storage class needs a provisioner", {"kind": "StorageClass", "metadata": {"name": "sc"}},
     [cause("FieldValueRequired", "Required value", "provisioner")]),
    ("an autoscaler's maximum is at least its minimum",
     {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
      "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 5, "maxReplicas": 2}},
     [cause("FieldValueInvalid", "Invalid value: 2: must be greater than or equal to `minReplicas`",
            "spec.maxReplicas")]),
    ("an autoscaler needs a target", {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
                                      "spec": {"maxReplicas": 2}},
     [cause("FieldValueRequired", "Required value", "spec.scaleTargetRef.kind"),
      cause("FieldValueRequired", "Required value", "spec.scaleTargetRef.name")]),
    ("an unknown kind still gets metadata checks", {"kind": "Widget", "metadata": {"name": "Bad_Name"}},
     [cause("FieldValueInvalid", f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}', "metadata.name")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in CORE_CASES], ids=[c[0] for c in CORE_CASES])
def test_validation_of_other_kinds(manifest, expected):
    assert causes(manifest) == expected


# -- updates -------------------------------------------------------------------------------

def stored(manifest: dict) -> dict:
    obj = admit(manifest)
    obj["metadata"].setdefault("uid", "0000-1111")
    obj["metadata"].update(resourceVersion="5", creationTimestamp="2024-05-01T10:00:00Z")
    assert validate(obj) == []
    return obj


def changed(obj: dict, change) -> dict:
    new = copy.deepcopy(obj)
    change(new)
    return new


UPDATE_CASES = [
    ("a deployment's selector never changes",
     stored(deployment()), lambda d: (d["spec"].update(selector={"matchLabels": {"app": "web2"}}),
                                      d["spec"]["template"]["metadata"]["labels"].update(app="web2")),
     [cause("FieldValueInvalid", 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
            'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable', "spec.selector")]),
    ("a deployment's image and replicas may change", stored(deployment()),
     lambda d: (d["spec"].update(replicas=5), d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:2")),
     []),
    ("an object's name never changes", stored(pod()), lambda p: p["metadata"].update(name="web2"),
     [cause("FieldValueInvalid", 'Invalid value: "web2": field is immutable', "metadata.name")]),
    ("an object's uid never changes", stored(pod()), lambda p: p["metadata"].update(uid="other"),
     [cause("FieldValueInvalid", 'Invalid value: "other": field is immutable', "metadata.uid")]),
    ("a creation timestamp never changes", stored(pod()),
     lambda p: p["metadata"].update(creationTimestamp="2025-01-01T00:00:00Z"),
     [cause("FieldValueInvalid", "Invalid value: 2025-01-01 00:00:00 +0000 UTC: field is immutable",
            "metadata.creationTimestamp")]),
    ("a pod's image may change", stored(pod()), lambda p: p["spec"]["containers"][0].update(image="nginx:1.26"), []),
    ("a pod may gain a toleration", stored(pod()),
     lambda p: p["spec"].update(tolerations=[{"key": "k", "operator": "Exists"}]), []),
    ("a pod may not add a container", stored(pod()),
     lambda p: p["spec"]["containers"].append(dict(p["spec"]["containers"][0], name="side")),
     [cause("FieldValueForbidden", "Forbidden: pod updates may not add or remove containers", "spec.containers")]),
    ("a pod's active deadline may only shrink", stored(pod(activeDeadlineSeconds=30)),
     lambda p: p["spec"].update(activeDeadlineSeconds=60),
     [cause("FieldValueInvalid", "Invalid value: 60: must be less than or equal to previous value",
            "spec.activeDeadlineSeconds")]),
    ("a job's template never changes", stored(job()),
     lambda j: j["spec"]["template"]["spec"]["containers"][0].update(image="perl:5.36"),
     [cause("FieldValueInvalid", "Invalid value: core.PodTemplateSpec{...}: field is immutable", "spec.template")]),
    ("a service's cluster IP never changes", stored(service(clusterIP="10.96.0.10")),
     lambda s: s["spec"].update(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"]),
     [cause("FieldValueInvalid", 'Invalid value: []string{"10.96.0.11"}: may not change once set',
            "spec.clusterIPs[0]")]),
    ("a role binding's role ref never changes",
     stored({"kind": "RoleBinding", "metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"}}),
     lambda b: b["roleRef"].update(name="edit"),
     [cause("FieldValueInvalid", 'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
            'Kind:"ClusterRole", Name:"edit"}: cannot change roleRef', "roleRef")]),
    ("a stateful set may only change a few spec fields", stored(workload("StatefulSet")),
     lambda s: s["spec"].update(podManagementPolicy="Parallel"),
     [cause("FieldValueForbidden", "Forbidden: updates to statefulset spec for fields other than 'replicas', "
            "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
            "are forbidden", "spec")]),
    ("an immutable config map keeps its data",
     stored({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": True}),
     lambda c: c["data"].update(a="2"),
     [cause("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "data")]),
]


@pytest.mark.parametrize("old, change, expected", [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES])
def test_update_validation(old, change, expected):
    new = changed(old, change)
    assert validate(new, old) == expected


def test_a_pod_spec_change_is_forbidden_with_the_list_of_what_may_change():
    old = stored(pod())
    result = validate(changed(old, lambda p: p["spec"].update(restartPolicy="Never")), old)
    assert [(c["reason"], c["field"]) for c in result] == [("FieldValueForbidden", "spec")]
    assert result[0]["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n")
    assert '- \trestartPolicy: "Always",' in result[0]["message"]
    assert '+ \trestartPolicy: "Never",' in result[0]["message"]


def test_causes_become_the_status_of_a_422():
    error = invalid("Pod", "web", causes(pod(containers=[{"name": "web"}])))
    assert error.code == 422
    assert error.message == 'Pod "web" is invalid: spec.containers[0].image: Required value'
    assert error.status["details"]["causes"] == [cause("FieldValueRequired", "Required value",
                                                       "spec.containers[0].image")]


INT_OR_PERCENT = [
    ("25%", 10, True, 3), ("25%", 10, False, 2), (3, 10, True, 3), ("0%", 7, True, 0), ("100%", 7, False, 7),
    ("33%", 3, True, 1), ("33%", 3, False, 0),
]


@pytest.mark.parametrize("value, total, round_up, expected", INT_OR_PERCENT, ids=[
    "a quarter of ten rounds up to three", "a quarter of ten rounds down to two", "an int is taken as is",
    "zero percent is zero", "all of seven is seven", "a third of three rounds up to one",
    "a third of three rounds down to zero"])
def test_int_or_percent_scales_like_intstr(value, total, round_up, expected):
    assert int_or_percent(value, total, round_up) == expected


@pytest.mark.parametrize("value, message", [
    (None, "nil value for IntOrString"),
    ("25", "invalid value for IntOrString: invalid type: string is not a percentage"),
    ("x%", 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax'),
], ids=["nil is an error", "a string needs a percent sign", "the percentage must be a number"])
def test_int_or_percent_errors(value, message):
    with pytest.raises(ValueError) as excinfo:
        int_or_percent(value, 10, True)
    assert str(excinfo.value) == message


TYPE_CASES = [
    ("replicas written as a string", deployment(replicas="3"),
     [cause("FieldValueTypeInvalid", 'Invalid value: "3": spec.replicas in body must be of type integer: "string"',
            "spec.replicas")]),
    ("a label value written as a number", {**pod(), "metadata": {"name": "web", "labels": {"version": 2}}},
     [cause("FieldValueTypeInvalid", 'Invalid value: 2: metadata.labels[version] in body must be of type string: '
            '"integer"', "metadata.labels[version]")]),
    ("a container written as a string", pod(containers=["nginx"]),
     [cause("FieldValueTypeInvalid", 'Invalid value: "nginx": spec.containers[0] in body must be of type object: '
            '"string"', "spec.containers[0]")]),
    ("a port written as a word", pod(containers=[container(ports=[{"containerPort": "eighty"}])]),
     [cause("FieldValueTypeInvalid", 'Invalid value: "eighty": spec.containers[0].ports[0].containerPort in body '
            'must be of type integer: "string"', "spec.containers[0].ports[0].containerPort")]),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in TYPE_CASES], ids=[c[0] for c in TYPE_CASES])
def test_a_value_of_the_wrong_json_type_is_reported_once(manifest, expected):
    assert causes(manifest) == expected


def test_malformed_manifests_never_crash_defaulting_or_validation():
    import random
    rng = random.Random(7)
    junk = [None, 1, -5, "x", "", [], {}, [1], {"a": 1}, True, 1.5, "10%", [{}], [None], {"x": None}]

    def mutate(value, depth=0):
        if isinstance(value, (dict, list)) and value:
            keys = list(value) if isinstance(value, dict) else list(range(len(value)))
            k = rng.choice(keys)
            if rng.random() < 0.4 or depth > 7:
                value[k] = copy.deepcopy(rng.choice(junk))
            else:
                mutate(value[k], depth + 1)

    for _ in range(2000):
        manifest = copy.deepcopy(rng.choice(DOC_MANIFESTS))
        for _ in range(rng.randint(1, 3)):
            mutate(manifest)
        apply_defaults(manifest)
        assert isinstance(validate(manifest), list)
        assert isinstance(validate(manifest, admit(rng.choice(DOC_MANIFESTS))), list)
