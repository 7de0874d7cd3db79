"""The Job controller on a node-less cluster: the tests play the kubelet by writing pod statuses.

Whole-cluster runs with the real kubelet are in tests/scenarios/test_job.py.
"""

import pytest

import engine
from engine.api.meta import timestamp
from engine.controllers.job import JOB_TRACKING_FINALIZER, wanted_active
from engine.controllers.job_indexed import format_indexes, parse_indexes
from engine.controllers.job_backoff import remaining_time_for_failures


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0)


def job(name="pi", restart="Never", **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
            "spec": {**spec, "template": {"spec": {"restartPolicy": restart, "containers": [
                {"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}]}}}}


def pods(cluster, name="pi", *, active=None):
    found = sorted(cluster.list("pods", selector=f"batch.kubernetes.io/job-name={name}"),
                   key=lambda p: p["metadata"]["creationTimestamp"] + p["metadata"]["name"])
    if active is not None:
        found = [p for p in found if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                 and not p["metadata"].get("deletionTimestamp")]
    return found


def terminate(cluster, pod, exit_code=0):
    """What the kubelet writes when the pod's only container exits."""
    now = timestamp(cluster.now)
    pod = cluster.get("pod", pod["metadata"]["name"])
    pod["status"] = {"phase": "Succeeded" if exit_code == 0 else "Failed", "conditions": [
        {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": now}],
        "containerStatuses": [{"name": "pi", "image": "perl:5.34.0", "imageID": "", "ready": False,
                               "restartCount": 0, "started": False, "state": {"terminated": {
                                   "exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                                   "startedAt": now, "finishedAt": now}}}]}
    cluster.admin.update_status(pod)


def condition_types(obj):
    return [(c["type"], c["status"]) for c in obj["status"].get("conditions") or ()]


def events(cluster, kind="Job"):
    return [(e["reason"], e["message"]) for e in cluster.list("events") if e["involvedObject"]["kind"] == kind]


def test_parallel_pods_up_to_completions_then_complete(cluster):
    cluster.apply(job(completions=3, parallelism=2))
    cluster.run(2)
    first = pods(cluster)
    assert len(first) == 2
    meta = first[0]["metadata"]
    assert meta["generateName"] == "pi-" and JOB_TRACKING_FINALIZER in meta["finalizers"]
    assert meta["labels"]["batch.kubernetes.io/job-name"] == "pi" and meta["labels"]["job-name"] == "pi"
    owner = meta["ownerReferences"][0]
    assert (owner["kind"], owner["controller"], owner["blockOwnerDeletion"]) == ("Job", True, True)
    status = cluster.get("job", "pi")["status"]
    assert (status["active"], status["ready"], status["startTime"]) == (2, 0, "2025-01-01T00:00:01Z")
    for pod in first:
        terminate(cluster, pod)
    cluster.run(2)
    status = cluster.get("job", "pi")["status"]
    assert (status["succeeded"], status["active"]) == (2, 1)        # min(parallelism, completions - succeeded)
    assert all(JOB_TRACKING_FINALIZER not in (cluster.get("pod", p["metadata"]["name"])["metadata"].get(
        "finalizers") or ()) for p in first)
    terminate(cluster, pods(cluster, active=True)[0])
    cluster.run(2)
    done = cluster.get("job", "pi")
    assert condition_types(done) == [("SuccessCriteriaMet", "True"), ("Complete", "True")]
    assert done["status"]["succeeded"] == 3 and "active" not in done["status"]
    assert done["status"]["completionTime"] and done["status"]["uncountedTerminatedPods"] == {}
    assert events(cluster)[-1] == ("Completed", "Job completed")
    assert [e for e in events(cluster) if e[0] == "SuccessfulCreate"][0][1].startswith("Created pod: pi-")


def test_failed_pods_are_replaced_after_the_doubling_backoff_until_the_limit(cluster):
    cluster.apply(job(backoffLimit=2))
    created = []
    for _ in range(120):
        cluster.run(1)
        for pod in pods(cluster, active=True):
            if pod["metadata"]["name"] not in created:
                created.append(pod["metadata"]["name"])
                terminate(cluster, pod, exit_code=1)
    stamps = [p["metadata"]["creationTimestamp"] for p in pods(cluster)]
    # each pod fails within a second of its start: at 2 s (new pod 10 s later), at 12 s (new pod 20 s later)
    assert stamps == ["2025-01-01T00:00:01Z", "2025-01-01T00:00:12Z", "2025-01-01T00:00:32Z"]
    failed = cluster.get("job", "pi")
    assert condition_types(failed) == [("FailureTarget", "True"), ("Failed", "True")]
    assert failed["status"]["conditions"][1]["reason"] == "BackoffLimitExceeded"
    assert failed["status"]["failed"] == 3
    assert ("BackoffLimitExceeded", "Job has reached the specified backoff limit") in events(cluster)


def test_an_active_deadline_fails_the_job_and_deletes_its_pods(cluster):
    cluster.apply(job(activeDeadlineSeconds=30, parallelism=2, completions=4))
    cluster.run(20)
    assert len(pods(cluster, active=True)) == 2
    cluster.run(15)
    failed = cluster.get("job", "pi")
    assert [c["reason"] for c in failed["status"]["conditions"]] == ["DeadlineExceeded", "DeadlineExceeded"]
    assert pods(cluster) == []                      # unscheduled pods go at once once the finalizer is off
    assert failed["status"]["failed"] == 2
    assert ("DeadlineExceeded", "Job was active longer than specified deadline") in events(cluster)


def test_indexed_pods_carry_their_index_and_the_job_completes_when_every_index_succeeded(cluster):
    cluster.apply(job(completions=3, parallelism=3, completionMode="Indexed"))
    cluster.run(2)
    created = pods(cluster)
    indexes = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in created)
    assert indexes == ["0", "1", "2"]
    pod = next(p for p in created if p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "1")
    assert pod["metadata"]["name"].startswith("pi-1-") and pod["spec"]["hostname"] == "pi-1"
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1"
    assert pod["spec"]["containers"][0]["env"] == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "apiVersion": "v1", "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]
    terminate(cluster, pod, exit_code=1)             # index 1 fails: it is run again, with the same index
    for other in created:
        if other is not pod:
            terminate(cluster, other)
    cluster.run(12)
    assert cluster.get("job", "pi")["status"]["completedIndexes"] == "0,2"
    (again,) = pods(cluster, active=True)
    assert again["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "1"
    terminate(cluster, again)
    cluster.run(2)
    done = cluster.get("job", "pi")["status"]
    assert (done["completedIndexes"], done["succeeded"], done["failed"]) == ("0-2", 3, 1)


def test_suspending_deletes_the_active_pods_and_resuming_restarts_them(cluster):
    cluster.apply(job(parallelism=2, completions=2))
    cluster.run(2)
    cluster.apply(job(parallelism=2, completions=2, suspend=True))
    cluster.run(2)
    assert pods(cluster, active=True) == []
    suspended = cluster.get("job", "pi")
    assert condition_types(suspended) == [("Suspended", "True")]
    cluster.apply(job(parallelism=2, completions=2, suspend=False))
    cluster.run(2)
    assert len(pods(cluster, active=True)) == 2
    assert condition_types(cluster.get("job", "pi")) == [("Suspended", "False")]
    reasons = [reason for reason, _ in events(cluster)]
    assert "Suspended" in reasons and "Resumed" in reasons


def test_without_completions_the_first_success_ends_the_job_once_the_others_finish(cluster):
    cluster.apply(job(parallelism=2))
    cluster.run(2)
    first, second = pods(cluster)
    terminate(cluster, first)
    cluster.run(3)
    assert len(pods(cluster, active=True)) == 1     # no new pod after a success
    assert not condition_types(cluster.get("job", "pi"))
    terminate(cluster, second)
    cluster.run(2)
    assert condition_types(cluster.get("job", "pi"))[-1] == ("Complete", "True")


def test_restarts_of_an_on_failure_pod_count_against_the_backoff_limit(cluster):
    cluster.apply(job(restart="OnFailure", backoffLimit=2))
    cluster.run(2)
    (pod,) = pods(cluster)
    pod["status"] = {"phase": "Running", "containerStatuses": [{"name": "pi", "image": "perl:5.34.0", "imageID": "",
                                                                "ready": False, "restartCount": 2, "state": {}}]}
    cluster.admin.update_status(pod)
    cluster.run(3)
    assert condition_types(cluster.get("job", "pi"))[-1] == ("Failed", "True")
    assert pods(cluster) == []


@pytest.mark.parametrize("parallelism, completions, succeeded, active, expected", [
    (2, 5, 0, 0, 2), (2, 5, 4, 1, 1), (3, None, 0, 0, 3), (3, None, 1, 2, 2), (0, 3, 0, 2, 0),
], ids=["parallelism caps the pods", "never more than the completions left", "no completions: parallelism",
        "no completions: after a success, only what runs", "parallelism 0 pauses the Job"])
def test_wanted_active(parallelism, completions, succeeded, active, expected):
    spec = {"parallelism": parallelism, "completions": completions}
    assert wanted_active({"spec": spec}, succeeded, active) == expected


@pytest.mark.parametrize("failures, since, expected", [
    (0, 0, 0), (1, 0, 10), (1, 4, 6), (3, 0, 40), (7, 0, 600), (20, 100, 500),
], ids=["no failure: no wait", "first failure: 10 s", "time already waited counts", "third failure: 40 s",
        "capped at 10 minutes", "the cap minus what was waited"])
def test_pod_failure_backoff(failures, since, expected):
    assert remaining_time_for_failures(1000.0 + since, failures, 1000.0) == expected


@pytest.mark.parametrize("indexes, text", [
    ([], ""), ([0], "0"), ([0, 1], "0,1"), ([0, 1, 2, 5, 7, 8, 9], "0-2,5,7-9"),
], ids=["none", "one", "two in a row stay apart", "runs of three or more become ranges"])
def test_completed_indexes_notation(indexes, text):
    assert format_indexes(indexes) == text
    assert parse_indexes(text, 10) == set(indexes)


def test_a_finished_job_with_a_ttl_is_deleted_that_long_after_it_finished(cluster):
    cluster.apply(job(ttlSecondsAfterFinished=100))
    cluster.run(2)
    (pod,) = pods(cluster)
    terminate(cluster, pod)
    cluster.run(2)
    finished = cluster.get("job", "pi")["status"]["completionTime"]
    assert finished == "2025-01-01T00:00:04Z"
    cluster.run(95)                                  # 00:01:41: one second short
    assert cluster.get("job", "pi")
    cluster.run(5)
    assert deleted_in_the_foreground(cluster, "job", "pi")


def deleted_in_the_foreground(cluster, kind, name):
    """Gone, or (while the garbage collector deletes its dependents first) marked for foreground deletion."""
    try:
        obj = cluster.get(kind, name)
    except engine.NotFound:
        return True
    return bool(obj["metadata"].get("deletionTimestamp")) and "foregroundDeletion" in obj["metadata"]["finalizers"]
