"""CronJobs on whole clusters: the docs' hello CronJob every minute, history limits, concurrency policies."""

from __future__ import annotations

import engine

HELLO = """
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
"""


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=2, seed=0)


def sleeper(policy: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "long"},
            "spec": {"schedule": "*/1 * * * *", "concurrencyPolicy": policy, "jobTemplate": {"spec": {"template": {
                "spec": {"restartPolicy": "Never", "containers": [
                    {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 90"]}]}}}}}}


def jobs(c: engine.Cluster) -> list[str]:
    return sorted(job["metadata"]["name"] for job in c.list("jobs") if not job["metadata"].get("deletionTimestamp"))


def test_the_hello_cronjob_runs_every_minute_and_keeps_three_successful_jobs():
    c = cluster()
    c.apply(HELLO)
    c.run(75)
    assert jobs(c) == ["hello-28928161"]
    c.run(240)                                      # five starts by 00:05:16
    assert jobs(c) == ["hello-28928163", "hello-28928164", "hello-28928165"]
    for name in jobs(c):
        assert c.get("job", name)["status"]["conditions"][-1]["type"] == "Complete"
    status = c.get("cronjob", "hello")["status"]
    assert status["lastScheduleTime"] == "2025-01-01T00:05:00Z" and status["lastSuccessfulTime"]
    assert not status.get("active")
    lines = c.kubectl("get cronjob hello").splitlines()
    assert lines[0].split()[:3] == ["NAME", "SCHEDULE", "TIMEZONE"] and lines[1].split()[:2] == ["hello", "*/1"]
    reasons = {e["reason"] for e in c.list("events") if e["involvedObject"]["kind"] == "CronJob"}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons


def test_forbid_waits_for_the_running_job_and_replace_cuts_it_short():
    forbid = cluster()
    forbid.apply(sleeper("Forbid"))
    forbid.run(125)                                 # the 00:01 job sleeps until about 00:02:35
    assert jobs(forbid) == ["long-28928161"]
    assert any(e["reason"] == "JobAlreadyActive" for e in forbid.list("events"))
    replace = cluster()
    replace.apply(sleeper("Replace"))
    replace.run(125)
    assert jobs(replace) == ["long-28928162"]
    assert [ref["name"] for ref in replace.get("cronjob", "long")["status"]["active"]] == ["long-28928162"]
