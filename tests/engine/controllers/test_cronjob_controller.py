"""The CronJob controller on a cluster's API server: Jobs created on schedule, history, concurrency, events.

The cluster has no nodes, so the tests finish Jobs by writing their status,
as the Job controller would once their pods had run.
"""

import pytest

import engine
from engine.api.meta import timestamp


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0)


def hello(**spec):
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "*/1 * * * *", **spec, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "hello", "image": "busybox:1.28", "imagePullPolicy": "IfNotPresent",
                                "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]}],
                "restartPolicy": "OnFailure"}}}}}}


def job_names(cluster):
    return sorted(job["metadata"]["name"] for job in cluster.list("jobs"))


def finish(cluster, name, condition="Complete"):
    job = cluster.get("job", name)
    now = timestamp(cluster.now)
    job["status"] = {"startTime": job["metadata"]["creationTimestamp"], "conditions": [
        {"type": condition, "status": "True", "lastProbeTime": now, "lastTransitionTime": now}]}
    if condition == "Complete":
        job["status"]["completionTime"] = now
        job["status"]["succeeded"] = 1
    cluster.admin.update_status(job)


def events(cluster, reason):
    return [e["message"] for e in cluster.list("events") if e["reason"] == reason
            and e["involvedObject"]["kind"] == "CronJob"]


def test_a_job_is_created_at_each_minute_named_by_its_scheduled_minute(cluster):
    cluster.apply(hello())
    cluster.run(58)
    assert job_names(cluster) == []
    cluster.run(2)                                  # 00:01:00 has passed
    assert job_names(cluster) == ["hello-28928161"]
    job = cluster.get("job", "hello-28928161")
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "hello", True)
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2025-01-01T00:01:00Z"
    status = cluster.get("cronjob", "hello")["status"]
    assert status["lastScheduleTime"] == "2025-01-01T00:01:00Z"
    assert [ref["name"] for ref in status["active"]] == ["hello-28928161"]
    assert events(cluster, "SuccessfulCreate") == ["Created job hello-28928161"]
    cluster.run(60)
    assert job_names(cluster) == ["hello-28928161", "hello-28928162"]


def test_finished_jobs_leave_the_active_list_and_only_three_successful_are_kept(cluster):
    cluster.apply(hello())
    for _ in range(5):
        cluster.run(60)
        for name in job_names(cluster):
            if not cluster.get("job", name).get("status", {}).get("conditions"):
                finish(cluster, name)
        cluster.run(1)
    assert job_names(cluster) == ["hello-28928163", "hello-28928164", "hello-28928165"]
    status = cluster.get("cronjob", "hello")["status"]
    assert not status.get("active") and status["lastSuccessfulTime"]
    assert "Saw completed job: hello-28928161, condition: Complete" in events(cluster, "SawCompletedJob")
    assert events(cluster, "SuccessfulDelete") == ["Deleted job hello-28928161", "Deleted job hello-28928162"]


def test_only_one_failed_job_is_kept(cluster):
    cluster.apply(hello())
    for _ in range(3):
        cluster.run(60)
        for name in job_names(cluster):
            if not cluster.get("job", name).get("status", {}).get("conditions"):
                finish(cluster, name, "Failed")
        cluster.run(1)
    assert job_names(cluster) == ["hello-28928163"]


def test_forbid_skips_a_start_while_a_job_runs(cluster):
    cluster.apply(hello(concurrencyPolicy="Forbid"))
    cluster.run(125)
    assert job_names(cluster) == ["hello-28928161"]
    assert events(cluster, "JobAlreadyActive") == [
        "Not starting job because prior execution is running and concurrency policy is Forbid"]
    finish(cluster, "hello-28928161")
    cluster.run(1)                                  # the skipped 00:02 start runs late, once the way is clear
    assert job_names(cluster) == ["hello-28928161", "hello-28928162"]
    cluster.run(60)
    assert job_names(cluster) == ["hello-28928161", "hello-28928162"]


def test_replace_deletes_the_running_job_before_starting_the_next(cluster):
    cluster.apply(hello(concurrencyPolicy="Replace"))
    cluster.run(65)
    cluster.run(60)
    assert job_names(cluster) == ["hello-28928162"]
    assert events(cluster, "SuccessfulDelete") == ["Deleted job hello-28928161"]
    assert [ref["name"] for ref in cluster.get("cronjob", "hello")["status"]["active"]] == ["hello-28928162"]


def test_allow_runs_jobs_side_by_side(cluster):
    cluster.apply(hello())
    cluster.run(185)
    assert len(job_names(cluster)) == 3
    assert len(cluster.get("cronjob", "hello")["status"]["active"]) == 3


def test_a_suspended_cronjob_starts_nothing_until_resumed(cluster):
    cluster.apply(hello(suspend=True))
    cluster.run(130)
    assert job_names(cluster) == []
    cluster.apply(hello(suspend=False))
    cluster.run(1)
    assert job_names(cluster) == ["hello-28928162"]      # the most recent missed start, not every one


def test_a_start_missed_by_more_than_the_starting_deadline_is_skipped(cluster):
    cluster.apply(hello(suspend=True, startingDeadlineSeconds=10))
    cluster.run(80)                                 # 00:01:00 is 21 s in the past
    cluster.apply(hello(suspend=False, startingDeadlineSeconds=10))
    cluster.run(1)
    assert job_names(cluster) == []
    cluster.run(40)
    assert job_names(cluster) == ["hello-28928162"]


def test_a_changed_schedule_is_followed(cluster):
    cluster.apply(hello())
    cluster.run(65)
    cluster.apply(hello(schedule="*/10 * * * *"))
    cluster.run(500)                                # 00:09:26
    assert job_names(cluster) == ["hello-28928161"]
    cluster.run(60)
    assert job_names(cluster) == ["hello-28928161", "hello-28928170"]


def test_a_time_zone_schedules_on_that_zones_clock(cluster):
    cluster.apply(hello(schedule="45 5 * * *", timeZone="Asia/Kolkata"))   # 05:45 in India is 00:15 UTC
    cluster.run(890)
    assert job_names(cluster) == []
    cluster.run(20)
    (name,) = job_names(cluster)
    assert cluster.get("job", name)["metadata"]["annotations"][
        "batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2025-01-01T05:45:00+05:30"


def test_a_deleted_active_job_is_noticed_as_missing(cluster):
    cluster.apply(hello(schedule="*/2 * * * *"))
    cluster.run(120)
    (name,) = job_names(cluster)
    cluster.delete("job", name)
    cluster.run(1)
    assert not cluster.get("cronjob", "hello")["status"].get("active")
