"""Container environment on a whole cluster: the docs' ConfigMap, dependent-variable and command examples."""

import engine

DEPENDENT_ENVARS = """
apiVersion: v1
kind: Pod
metadata:
  name: dependent-envars-demo
spec:
  containers:
    - name: dependent-envars-demo
      args:
        - while true; do echo -en '\\n'; printf UNCHANGED_REFERENCE=$UNCHANGED_REFERENCE'\\n'; printf SERVICE_ADDRESS=$SERVICE_ADDRESS'\\n';printf ESCAPED_REFERENCE=$ESCAPED_REFERENCE'\\n'; sleep 30; done;
      command:
        - sh
        - -c
      image: busybox:1.28
      env:
        - name: SERVICE_PORT
          value: "80"
        - name: SERVICE_IP
          value: "172.17.0.1"
        - name: UNCHANGED_REFERENCE
          value: "$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)"
        - name: PROTOCOL
          value: "https"
        - name: SERVICE_ADDRESS
          value: "$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)"
        - name: ESCAPED_REFERENCE
          value: "$$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)"
"""

CONFIGMAP_POD = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: special-config
  namespace: default
data:
  special.how: very
  SPECIAL_TYPE: charm
---
apiVersion: v1
kind: Pod
metadata:
  name: dapi-test-pod
spec:
  containers:
    - name: test-container
      image: registry.k8s.io/busybox
      command: [ "/bin/sh", "-c", "env" ]
      env:
        - name: SPECIAL_LEVEL_KEY
          valueFrom:
            configMapKeyRef:
              name: special-config
              key: special.how
      envFrom:
        - configMapRef:
            name: special-config
  restartPolicy: Never
"""

COMMAND_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: command-demo
spec:
  containers:
  - name: command-demo-container
    image: debian
    env:
    - name: MESSAGE
      value: "hello world"
    command: ["/bin/echo"]
    args: ["$(MESSAGE)"]
  restartPolicy: OnFailure
"""


def test_dependent_environment_variables_as_the_docs_show_them():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(DEPENDENT_ENVARS)
    c.run(20)
    logs = c.kubectl("logs dependent-envars-demo")
    assert "UNCHANGED_REFERENCE=$(PROTOCOL)://172.17.0.1:80" in logs
    assert "SERVICE_ADDRESS=https://172.17.0.1:80" in logs
    assert "ESCAPED_REFERENCE=$(PROTOCOL)://172.17.0.1:80" in logs


def test_configmap_values_reach_the_environment_and_the_kubernetes_service_variables_too():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(CONFIGMAP_POD)
    c.run(20)
    assert c.get("pod", "dapi-test-pod")["status"]["phase"] == "Succeeded"
    logs = c.kubectl("logs dapi-test-pod").splitlines()
    assert "SPECIAL_LEVEL_KEY=very" in logs
    assert "SPECIAL_TYPE=charm" in logs                  # envFrom
    assert "special.how=very" in logs                    # a dotted key is a valid variable name
    assert any(line.startswith("KUBERNETES_SERVICE_HOST=") for line in logs)


def test_command_arguments_expand_variables():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(COMMAND_POD)
    c.run(20)
    assert c.kubectl("logs command-demo").strip() == "hello world"


def test_a_missing_configmap_is_a_create_container_config_error_until_it_exists():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(CONFIGMAP_POD.split("---")[1])
    c.run(20)
    waiting = c.get("pod", "dapi-test-pod")["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "CreateContainerConfigError", "message": 'configmap "special-config" not found'}
    assert 'Error: configmap "special-config" not found' in c.kubectl("describe pod dapi-test-pod")
    c.apply(CONFIGMAP_POD.split("---")[0])
    c.run(30)
    assert c.get("pod", "dapi-test-pod")["status"]["phase"] == "Succeeded"


def test_the_kubelet_keeps_conditions_it_does_not_own():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(COMMAND_POD.replace("OnFailure", "Always").replace('["/bin/echo"]', '["sleep"]')
            .replace('["$(MESSAGE)"]', '["10"]'))          # exits every 10 s: the kubelet rewrites the status
    c.run(5)
    pod = c.get("pod", "command-demo")
    pod["status"]["conditions"].append({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                                        "message": "Eviction API: evicting"})
    c.admin.update_status(pod)
    c.run(30)
    status = c.get("pod", "command-demo")["status"]
    assert status["containerStatuses"][0]["restartCount"] >= 1
    types = [condition["type"] for condition in status["conditions"]]
    assert types == ["DisruptionTarget", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                     "PodScheduled"]
