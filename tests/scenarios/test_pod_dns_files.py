"""What a running pod finds in /etc: the resolv.conf containerd wrote from the kubelet's DNS config, the kubelet's
hosts file, and the sandbox's hostname."""

from __future__ import annotations

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER


def cat(c: engine.Cluster, pod: str, path: str) -> str:
    status = c.get("pod", pod)["status"]
    container_id = status["containerStatuses"][0]["containerID"].split("://", 1)[1]
    node = c.get("pod", pod)["spec"]["nodeName"]
    return c.runtimes[node].exec_sync(container_id, ["cat", path]).stdout


def sleeper(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}], **spec}}


def test_pods_see_their_resolv_conf_hosts_and_hostname():
    c = engine.Cluster(nodes=1, seed=0, components=[COMPONENTS[0], SCHEDULER, KUBELET])
    c.apply(sleeper("web-0", hostname="web-0", subdomain="nginx",
                    hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.remote"]}]))
    c.apply(sleeper("plain", dnsPolicy="Default"))
    c.run(20)
    assert cat(c, "web-0", "/etc/resolv.conf") == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")
    ip = c.get("pod", "web-0")["status"]["podIP"]
    hosts = cat(c, "web-0", "/etc/hosts")
    assert hosts.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert f"{ip}\tweb-0.nginx.default.svc.cluster.local\tweb-0\n" in hosts
    assert hosts.endswith("\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\n")
    assert cat(c, "web-0", "/etc/hostname") == "web-0\n"
    assert cat(c, "plain", "/etc/resolv.conf") == "nameserver 172.18.0.1\noptions ndots:0\n"
