"""ComponentProgram's flag parsing and client configuration (the whole-cluster runs are in scenarios)."""

from __future__ import annotations

import pytest

from engine.runtime.programs.component import NOT_IN_CLUSTER, ComponentProgram, ConfigError, parse_flags


@pytest.mark.parametrize("args, expected", [
    (["--proxy-mode=ipvs"], {"proxy-mode": "ipvs"}),
    (["-conf", "/etc/coredns/Corefile"], {"conf": "/etc/coredns/Corefile"}),
    (["--v", "2", "--logtostderr"], {"v": "2", "logtostderr": "true"}),
    (["--a", "--b=1", "positional"], {"a": "true", "b": "1"}),
], ids=["--name=value", "Go's single-dash flag with its value after it", "a flag without a value is true",
        "positional arguments are not flags"])
def test_flags_are_parsed_as_pflag_reads_them(args, expected):
    assert parse_flags(args) == expected


class _Ctx:
    def __init__(self, env, fs, argv=("/bin/x",)):
        self.env, self.fs, self.argv = env, fs, list(argv)


def program(env, fs, argv=("/bin/x",)) -> ComponentProgram:
    p = ComponentProgram()
    p.ctx = _Ctx(env, fs, argv)
    p.options = parse_flags(list(argv[1:]))
    return p


TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def test_in_cluster_config_reads_the_service_variables_and_the_token_file():
    p = program({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, {TOKEN: "abc\n"})
    assert p.rest_config() == ("10.96.0.1", 443, TOKEN, "abc")


@pytest.mark.parametrize("env, fs, message", [
    ({}, {TOKEN: "abc"}, NOT_IN_CLUSTER),
    ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, {},
     f"open {TOKEN}: no such file or directory"),
], ids=["outside a cluster", "no service account token mounted"])
def test_in_cluster_config_fails_as_client_go_does(env, fs, message):
    with pytest.raises(ConfigError, match=message):
        program(env, fs).rest_config()


def test_a_kubeconfig_names_the_server_and_the_token_file():
    kubeconfig = """
apiVersion: v1
kind: Config
clusters: [{name: default, cluster: {server: "https://172.18.0.2:6443"}}]
contexts: [{name: default, context: {cluster: default, user: default}}]
current-context: default
users: [{name: default, user: {tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}}]
"""
    p = program({}, {"/var/lib/kube-proxy/kubeconfig.conf": kubeconfig, TOKEN: "t0k"},
                ("/usr/local/bin/kube-proxy", "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf"))
    assert p.rest_config() == ("172.18.0.2", 6443, TOKEN, "t0k")
