"""Starting and stopping real etcd members: loopback only, a temporary directory, logs in a file."""

from __future__ import annotations

from engine.store.etcd_client import EtcdClient
from engine.store.etcd_process import EtcdServer


def test_a_server_starts_on_loopback_leads_itself_and_cleans_up(capfd):
    server = EtcdServer("probe")
    with server:
        status = server.status()
        assert server.endpoint.startswith("http://127.0.0.1:")
        assert status is not None and status.is_leader and status.version.startswith("3.")
        assert server.data_dir.is_dir()
    assert not server.running
    assert not server.root.exists(), "the temporary directory is removed"
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "etcd's log goes to its file, never to our stdout or stderr"


def test_a_stopped_server_keeps_its_data_and_serves_it_again():
    server = EtcdServer("restart").start()
    try:
        client = EtcdClient(server.endpoint)
        client.call("kv/put", {"key": "YQ==", "value": "MQ=="})
        client.close()
        server.stop()
        assert server.status() is None
        server.start()
        answer = client.call("kv/range", {"key": "YQ=="})
        client.close()
        assert answer["kvs"][0]["value"] == "MQ=="
        assert "etcd" in server.log_path.read_text(), "the member's log is captured in its file"
    finally:
        server.remove()
