"""The %kubectl notebook magic: output to stdout only, against the latest or the chosen cluster."""

from __future__ import annotations

import gc

import pytest

import engine
from engine.kubectl import magic

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  color: blue\n"


@pytest.fixture(autouse=True)
def reset_choice() -> None:
    magic.use(None)
    yield
    magic.use(None)


def test_the_magic_talks_to_the_latest_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    engine.Cluster(nodes=1, seed=0)
    latest = engine.Cluster(nodes=1, seed=1)
    latest.kubectl("create namespace only-in-latest")
    magic.kubectl("get ns only-in-latest -o name")
    captured = capsys.readouterr()
    assert captured.out == "namespace/only-in-latest\n"
    assert captured.err == ""


def test_use_chooses_the_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    chosen = engine.Cluster(nodes=1, seed=0)
    chosen.kubectl("create namespace chosen")
    engine.Cluster(nodes=1, seed=1)
    magic.use(chosen)
    magic.kubectl("get ns chosen -o name")
    assert capsys.readouterr().out == "namespace/chosen\n"


def test_errors_print_to_stdout_never_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    engine.Cluster(nodes=1, seed=0)
    magic.kubectl("get pods nope")
    captured = capsys.readouterr()
    assert captured.out == 'Error from server (NotFound): pods "nope" not found\n'
    assert captured.err == ""


def test_the_cell_body_is_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = engine.Cluster(nodes=1, seed=0)
    magic.kubectl("apply -f -", CONFIG_MAP)
    assert capsys.readouterr().out == "configmap/cfg created\n"
    assert cluster.get("cm", "cfg")["data"] == {"color": "blue"}


def test_a_discarded_cluster_is_not_kept_alive() -> None:
    engine.Cluster(nodes=1, seed=0)
    gc.collect()
    assert magic.current() is None
    assert magic.kubectl_text("get pods").startswith("error: no cluster to talk to")


def test_load_ext_registers_line_and_cell_magics(capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "engine.kubectl")
    cluster = engine.Cluster(nodes=1, seed=0)
    shell.run_cell_magic("kubectl", "apply -f -", CONFIG_MAP)
    shell.run_line_magic("kubectl", "get cm cfg -o jsonpath={.data.color}")
    captured = capsys.readouterr()
    assert captured.out == "configmap/cfg created\nblue"
    assert captured.err == ""
    assert cluster.get("cm", "cfg")["data"]["color"] == "blue"
