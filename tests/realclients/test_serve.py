"""``Cluster.serve()``: the handle, the kubeconfig it writes, and the door methods while the driver runs."""

from __future__ import annotations

import socket
import threading

import pytest
import yaml

from engine.cluster import Cluster


@pytest.fixture
def small() -> Cluster:
    return Cluster(nodes=1, seed=3)


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_handle_is_a_context_manager_that_frees_the_port_and_the_driver(small: Cluster) -> None:
    with small.serve() as handle:
        assert handle.url == f"http://127.0.0.1:{handle.port}"
        assert _port_open(handle.port)
        assert handle.driver.running and small._driver is handle.driver
    assert not _port_open(handle.port)
    assert not handle.driver.running and small._driver is None
    assert not handle.kubeconfig_path.exists()           # a temporary kubeconfig goes with the handle
    with small.serve() as again:                          # the cluster can be served again, state kept
        assert small.get("ns", "default", namespace=None)["metadata"]["name"] == "default"
        assert again.port


def test_the_kubeconfig_names_the_admin_with_its_token(small: Cluster, tmp_path) -> None:
    path = tmp_path / "dir" / "kubeconfig"
    with small.serve(kubeconfig=str(path)) as handle:
        config = yaml.safe_load(path.read_text())
        assert handle.kubeconfig_path == path
        assert config["clusters"] == [{"name": "kubernetes", "cluster": {"server": handle.url}}]
        assert config["users"] == [{"name": "kubernetes-admin", "user": {"token": handle.token}}]
        assert config["current-context"] == "kubernetes-admin@kubernetes"
        assert path.stat().st_mode & 0o077 == 0           # credentials: owner only
        jane = yaml.safe_load(handle.kubeconfig_for("jane", ("dev",)).read_text())
        assert jane["users"][0] == {"name": "jane", "user": {"token": small.token_for("jane", ("dev",))}}
    assert path.exists()                                  # a kubeconfig the caller placed stays


def test_door_methods_from_another_thread_run_on_the_loop_while_served(small: Cluster) -> None:
    with small.serve() as handle:
        loop_thread: list[threading.Thread] = []
        original = small.apiserver.handle

        def spy(request):
            loop_thread.append(threading.current_thread())
            return original(request)
        small.apiserver.handle = spy                      # type: ignore[method-assign]
        try:
            small.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-notebook"}})
            assert small.get("cm", "from-notebook")["metadata"]["name"] == "from-notebook"
            assert [c["metadata"]["name"] for c in small.list("cm") if c["metadata"]["name"] == "from-notebook"]
        finally:
            small.apiserver.handle = original             # type: ignore[method-assign]
        assert loop_thread and all(thread is handle.driver._thread for thread in loop_thread)
        # A door method called on the loop thread itself runs directly (no deadlock).
        assert handle.driver.call(small.get, "cm", "from-notebook")["metadata"]["name"] == "from-notebook"


def test_run_while_served_lets_the_driver_advance_time(small: Cluster) -> None:
    with small.serve(speed=50) as handle:
        before = small.now
        small.run(5)                                      # 5 virtual seconds = 0.1 wall seconds at speed 50
        assert small.now >= before + 5
        assert handle.driver.running


def test_without_a_driver_door_methods_run_directly(small: Cluster) -> None:
    assert small._driver is None
    assert small._call(lambda: threading.current_thread()) is threading.current_thread()


def _watch_lines(handle, path: str) -> list[dict]:
    import http.client
    import json
    connection = http.client.HTTPConnection("127.0.0.1", handle.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {handle.token}"})
        response = connection.getresponse()
        assert response.status == 200
        return [json.loads(line) for line in response.read().splitlines()]
    finally:
        connection.close()


def test_a_watch_that_allows_bookmarks_receives_them(small: Cluster) -> None:
    # Bookmarks come every 60 virtual seconds: at speed 100 the 2-second watch spans two minutes of cluster time.
    with small.serve(speed=100) as handle:
        events = _watch_lines(handle, "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true"
                                      "&timeoutSeconds=2&resourceVersion=" + str(small.apiserver.store.revision))
    bookmarks = [event for event in events if event["type"] == "BOOKMARK"]
    assert bookmarks
    assert bookmarks[0]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[0]["object"]["metadata"]["resourceVersion"]) > 0


def test_a_too_old_resource_version_is_one_error_event_carrying_a_410_status(small: Cluster) -> None:
    with small.serve() as handle:
        handle.call(small.apiserver.compact, small.apiserver.store.revision)
        events = _watch_lines(handle, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith("too old resource version: 1 (")
