"""makeEnvironmentVariables and $(VAR) expansion, checked against upstream's own cases."""

import base64

import pytest

from engine.api import errors
from engine.kubelet.container_env import (EnvError, expand, expand_command_and_args, make_environment_variables,
                                          pod_field, resource_field)

POD = {"metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"app": "web", "tier": "front"},
                    "annotations": {"build": "7"}},
       "spec": {"nodeName": "node-1", "serviceAccountName": "default", "containers": []}}


@pytest.mark.parametrize("text, expected", [
    ("$(VAR_A)", "A"),
    ("___$(VAR_B)___", "___B___"),
    ("$(VAR_A)-$(VAR_B)", "A-B"),
    ("$$(VAR_A)", "$(VAR_A)"),              # escaped reference stays literal
    ("$$$(VAR_A)", "$A"),                   # an escaped $ then a reference
    ("$(UNKNOWN)", "$(UNKNOWN)"),           # unknown references are left as written
    ("$(VAR_A", "$(VAR_A"),                 # incomplete
    ("$VAR_A", "$VAR_A"),                   # only $(...) is a reference
    ("tail$", "tail$"),
    ("$(SERVICE)", "10.0.0.1"),             # Service variables come after the container's own
])
def test_expansion_follows_the_forked_golang_expansion_package(text, expected):
    assert expand(text, {"VAR_A": "A", "VAR_B": "B"}, {"SERVICE": "10.0.0.1", "VAR_A": "not me"}) == expected


def test_command_and_args_are_expanded_with_the_final_environment():
    container = {"command": ["echo"], "args": ["$(GREETING) $(HONORIFIC) $(NAME)", "$$(NAME)"]}
    env = {"GREETING": "Warm greetings to", "HONORIFIC": "The Most Honorable", "NAME": "Kubernetes"}
    assert expand_command_and_args(container, env) == (
        ["echo"], ["Warm greetings to The Most Honorable Kubernetes", "$(NAME)"])


def test_downward_api_fields():
    assert pod_field(POD, "metadata.labels['app']") == "web"
    assert pod_field(POD, "metadata.annotations['build']") == "7"
    assert pod_field(POD, "metadata.labels") == 'app="web"\ntier="front"'
    assert pod_field(POD, "status.podIP", pod_ip="10.244.1.5") == "10.244.1.5"
    assert pod_field(POD, "spec.nodeName") == "node-1"
    with pytest.raises(EnvError, match="unsupported fieldPath"):
        pod_field(POD, "spec.containers")


def test_resource_fields_divide_round_up_and_default_limits_to_allocatable():
    container = {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}
    assert resource_field(container, "requests.cpu") == "1"                  # 0.25 core rounds up to 1
    assert resource_field(container, "requests.cpu", "1m") == "250"
    assert resource_field(container, "limits.memory", "1Mi") == "128"
    assert resource_field(container, "limits.cpu", None, {"cpu": "4"}) == "4"   # unset limit: allocatable


def _getter(objects):
    def get(resource, namespace, name):
        try:
            return objects[(resource, namespace, name)]
        except KeyError:
            raise errors.not_found(resource, name) from None
    return get


def test_env_from_then_env_then_service_variables_the_container_did_not_set():
    secret = {"data": {"password": base64.b64encode(b"s3cr3t").decode()}}
    get = _getter({("configmaps", "shop", "special-config"): {"data": {"SPECIAL_LEVEL": "very", "bad key": "x"}},
                   ("secrets", "shop", "db"): secret})
    warnings = []
    container = {"envFrom": [{"configMapRef": {"name": "special-config"}, "prefix": "CFG_"}],
                 "env": [{"name": "SERVICE_ADDRESS", "value": "https://$(WEB_SERVICE_HOST):$(CFG_SPECIAL_LEVEL)"},
                         {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                         {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                         {"name": "WEB_SERVICE_PORT", "value": "override"}]}
    env = make_environment_variables(POD, container, pod_ip="10.244.1.5", host_ip="172.18.0.3",
                                     service_env={"WEB_SERVICE_HOST": "10.96.0.20", "WEB_SERVICE_PORT": "80"},
                                     get_object=get, warn=lambda reason, message: warnings.append((reason, message)))
    assert env["CFG_SPECIAL_LEVEL"] == "very"
    assert env["SERVICE_ADDRESS"] == "https://10.96.0.20:very"
    assert env["PASSWORD"] == "s3cr3t"
    assert env["POD"] == "web"
    assert env["WEB_SERVICE_PORT"] == "override" and env["WEB_SERVICE_HOST"] == "10.96.0.20"
    assert warnings == [("InvalidEnvironmentVariableNames",
                         "Keys [CFG_bad key] from the EnvFrom configMap shop/special-config were skipped since "
                         "they are considered invalid environment variable names.")]


def test_missing_objects_and_keys_fail_unless_optional():
    get = _getter({("configmaps", "shop", "cfg"): {"data": {"a": "1"}}})

    def build(env=(), env_from=()):
        container = {"env": list(env), "envFrom": list(env_from)}
        return make_environment_variables(POD, container, pod_ip="", host_ip="", service_env={}, get_object=get)

    with pytest.raises(EnvError, match='^configmap "special-config" not found$'):
        build(env_from=[{"configMapRef": {"name": "special-config"}}])
    with pytest.raises(EnvError, match="^couldn't find key b in ConfigMap shop/cfg$"):
        build(env=[{"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "b"}}}])
    with pytest.raises(EnvError, match='^secret "db" not found$'):
        build(env=[{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}])
    assert build(env=[{"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "b", "optional": True}}},
                      {"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p", "optional": True}}}],
                 env_from=[{"secretRef": {"name": "gone", "optional": True}}]) == {}
