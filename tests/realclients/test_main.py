"""``python -m engine serve`` and ``python -m engine demo`` as a user runs them."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import pytest

from kubectl_tool import KUBECTL, kubectl_env, needs_kubectl


def test_demo_runs_to_the_end_and_skips_the_steps_whose_components_are_missing() -> None:
    result = subprocess.run([sys.executable, "-m", "engine", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.splitlines()[0].startswith("== 1. Boot")
    assert "$ kubectl get nodes -o wide" in out
    assert "Error from server (Forbidden): secrets is forbidden: User \"intern\"" in out
    assert "The second gets a 409: Operation cannot be fulfilled on deployments.apps" in out
    assert out.rstrip().endswith("End of the demo.")


def test_the_demos_pods_really_run_roll_out_and_move_off_a_failed_node(capsys: pytest.CaptureFixture) -> None:
    from engine.__main__ import main
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    steps = {block.split("\n", 1)[0].split(". ", 1)[1].split("  [t=")[0]: block
             for block in out.split("== ")[1:]}
    reconciled = steps["Desired state: a Deployment, reconciled"]
    assert "deployment.apps/nginx-deployment   3/3     3            3" in reconciled
    assert reconciled.count("1/1     Running") == 3
    inside = steps["Inside a running pod: exec and events"]
    pod = inside.split("$ kubectl exec ", 1)[1].split(" ", 1)[0]
    assert f"-- cat /etc/hostname\n{pod}\n" in inside
    assert f'Successfully assigned default/{pod} to node-' in inside and "Started container nginx" in inside
    rollout = steps["Reconciliation: rollout to a new image"]
    assert "nginx:1.14.2" in rollout and "nginx:1.16.1" in rollout
    assert 'deployment "nginx-deployment" successfully rolled out' in rollout
    failure = steps["Node failure: NotReady, taints, eviction"]
    assert "node-2          NotReady" in failure
    assert "node.kubernetes.io/unreachable:NoExecute" in failure
    pods = failure.split("$ kubectl get pods -o wide", 1)[1]
    running = [line.split()[6] for line in pods.splitlines() if "Running" in line]
    assert len(running) == 4 and "node-2" not in running
    terminating = [line.split()[6] for line in pods.splitlines() if "Terminating" in line]
    assert terminating and set(terminating) == {"node-2"}
    service = steps["Services: endpoints and kube-proxy"]
    assert "<title>Welcome to nginx!</title>" in service
    hops = [line.split()[:2] for line in
            service.split("The way there and back", 1)[1].split("\n\n")[0].splitlines()[1:]]
    assert ["default/client", "DNS"] in hops and ["default/client", "received"] in hops
    assert [hop for hop in hops if hop[1] == "DNAT"] and hops[-1] == ["default/client", "received"]
    assert any(where.startswith("default/nginx-deployment-") and what == "deliver" for where, what in hops)
    assert "later: this step needs" not in out


@needs_kubectl
@pytest.mark.parametrize("flags, scheme", [
    pytest.param([], "http", id="plain HTTP by default"),
    pytest.param(["--tls"], "https", id="HTTPS with a generated CA with --tls"),
])
def test_serve_prints_how_to_connect_serves_kubectl_and_stops_on_sigint(tmp_path: pathlib.Path, flags: list[str],
                                                                        scheme: str) -> None:
    kubeconfig = tmp_path / "engine" / "kubeconfig"
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--nodes", "1", "--kubeconfig",
                                str(kubeconfig), *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(banner)
        assert text.startswith(f"Kubernetes API of a 1-node engine cluster (seed 0) at {scheme}://127.0.0.1:")
        assert f"export KUBECONFIG={kubeconfig.resolve()}; kubectl get nodes" in text
        nodes = subprocess.run([KUBECTL, "get", "nodes", "-o", "name", "--request-timeout=20s"], capture_output=True,
                               text=True, timeout=60, env=kubectl_env(kubeconfig, tmp_path))
        assert nodes.stdout.split() == ["node/control-plane", "node/node-1"]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped.")


@needs_kubectl
def test_serve_from_the_checkout_as_the_readme_says_with_the_default_kubeconfig_and_stops_on_sigterm(
        tmp_path: pathlib.Path) -> None:
    """README: ``python -m engine serve`` then ``export KUBECONFIG=$PWD/.engine/kubeconfig; kubectl get nodes``."""
    root = pathlib.Path(__file__).resolve().parents[2]
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--nodes", "2", "--seed", "7"],
                               cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = "".join(iter(process.stdout.readline, "Ctrl-C to stop.\n"))
        kubeconfig = workdir / ".engine" / "kubeconfig"
        assert banner.startswith("Kubernetes API of a 2-node engine cluster (seed 7) at http://127.0.0.1:")
        assert "kubeconfig: .engine/kubeconfig" in banner
        assert f"export KUBECONFIG={kubeconfig}; kubectl get nodes" in banner
        nodes = subprocess.run([KUBECTL, "get", "nodes", "--request-timeout=20s"], capture_output=True, text=True,
                               timeout=60, env=kubectl_env(kubeconfig, tmp_path), cwd=workdir)
        assert [line.split()[:2] for line in nodes.stdout.splitlines()[1:]] == [
            ["control-plane", "Ready"], ["node-1", "Ready"], ["node-2", "Ready"]]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert err == ""
    assert out.strip().endswith("stopped.")


def test_the_default_kubeconfig_directory_is_git_ignored() -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    assert "/.engine/" in (root / ".gitignore").read_text().split()
