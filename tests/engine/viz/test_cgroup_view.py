"""CgroupView shows each running container's cgroup limits against its use, measured between two looks."""

from __future__ import annotations

import engine
from engine.viz.cgroup_view import CgroupView


def test_a_throttled_burner_and_a_hog_near_its_limit_are_shown_as_the_kernel_counts_them() -> None:
    c = engine.Cluster(nodes=1, seed=0)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "burner"}, "spec": {"containers": [
        {"name": "burn", "image": "vish/stress", "args": ["-cpus", "2"],
         "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}}]}})
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hog"}, "spec": {"containers": [
        {"name": "hog", "image": "polinux/stress", "command": ["stress"],
         "args": ["--vm", "1", "--vm-bytes", "190M", "--vm-hang", "1"], "resources": {"limits": {"memory": "200Mi"}}}]}})
    c.run(10)
    view = CgroupView(c, "node-1")
    c.run(10)
    view.refresh()
    rows = {row.pod: row for row in view.rows()}
    burner, hog = rows["burner"], rows["hog"]
    assert (burner.shares, burner.quota_cores) == (102, 0.5)
    assert abs(burner.cpu_cores - 0.5) < 0.01 and burner.throttled == 1.0
    assert hog.memory_limit == 200 * 2**20 and hog.memory == 190 * 2**20 and hog.quota_cores == 0.0
    html = view.body.value
    assert "0.50 of 0.50 cores, 100% throttled" in html and "190 of 200 MiB" in html
    assert html.count("#d9534f") == 2            # both red: throttled, and memory above 90 % of the limit
    assert view.rows() == sorted(view.rows(), key=lambda row: (row.pod, row.container))
