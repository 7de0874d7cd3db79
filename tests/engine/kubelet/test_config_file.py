"""The kubelet's file source of static pods."""

from __future__ import annotations

from engine.kubelet.config_file import read_manifests

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: nginx}]}\n"


def test_every_manifest_file_directly_in_the_directory_is_a_static_pod_in_name_order():
    fs = {"/etc/kubernetes/manifests/": "", "/etc/kubernetes/manifests/b.yaml": POD.replace("web", "b"),
          "/etc/kubernetes/manifests/a.json": '{"kind": "Pod", "metadata": {"name": "a"}, "spec": {}}',
          "/etc/kubernetes/manifests/.b.yaml.swp": POD, "/etc/kubernetes/manifests/notes.txt": "hello",
          "/etc/kubernetes/manifests/old/c.yaml": POD, "/etc/kubernetes/manifests-backup.yaml": POD,
          "/etc/kubernetes/manifests/broken.yaml": "kind: [", "/etc/kubernetes/manifests/svc.yaml": "kind: Service\n"}
    found = read_manifests(fs, "/etc/kubernetes/manifests")
    assert [(path, manifest["metadata"]["name"]) for path, manifest in found] == [
        ("/etc/kubernetes/manifests/a.json", "a"), ("/etc/kubernetes/manifests/b.yaml", "b")]
