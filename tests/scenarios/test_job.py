"""Jobs on whole clusters: the real scheduler places their pods, the real kubelet runs them to the end."""

from __future__ import annotations

import pytest

import engine
from engine.api.meta import parse_timestamp

PI_JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34.0
        command: ["perl",  "-Mbignum=bpi", "-wle", "print bpi(2000)"]
      restartPolicy: Never
  backoffLimit: 4
"""


def cluster(nodes: int = 2) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0)


def busybox_job(name: str, script: str, **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {**spec, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}]}}}}


def job_pods(c: engine.Cluster, name: str) -> list[dict]:
    return c.list("pods", selector=f"batch.kubernetes.io/job-name={name}")


def phases(c: engine.Cluster, name: str) -> list[str]:
    return sorted((p.get("status") or {}).get("phase", "") for p in job_pods(c, name))


def reasons(c: engine.Cluster, name: str) -> list[str]:
    found = [e for e in c.list("events") if e["involvedObject"]["kind"] == "Job"
             and e["involvedObject"]["name"] == name]
    found.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
    return [e["reason"] for e in found]


def test_the_docs_pi_job_runs_to_completion():
    c = cluster()
    c.apply(PI_JOB)
    c.run(60)
    job = c.get("job", "pi")
    assert [cond["type"] for cond in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    (pod,) = job_pods(c, "pi")
    assert pod["status"]["phase"] == "Succeeded" and pod["spec"]["nodeName"].startswith("node-")
    assert pod["metadata"].get("finalizers") in (None, [])          # counted, so the tracking finalizer is off
    assert reasons(c, "pi") == ["SuccessfulCreate", "Completed"]
    line = c.kubectl("get job pi").splitlines()[1].split()
    assert line[:3] == ["pi", "Complete", "1/1"]


def test_a_parallel_job_never_runs_more_pods_than_its_parallelism():
    c = cluster()
    c.apply(busybox_job("work", "sleep 5", completions=5, parallelism=2))
    most = 0
    for _ in range(60):
        c.run(1)
        running = sum(1 for phase in phases(c, "work") if phase in ("Pending", "Running"))
        most = max(most, running)
    assert most == 2
    status = c.get("job", "work")["status"]
    assert status["succeeded"] == 5 and status["conditions"][-1]["type"] == "Complete"
    assert len(job_pods(c, "work")) == 5


def test_a_failing_pod_is_retried_with_the_real_delays_until_the_backoff_limit():
    c = cluster()
    c.apply(busybox_job("fail", "exit 1", backoffLimit=2))
    c.run(120)
    pods = sorted(job_pods(c, "fail"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(pods) == 3 and all(p["status"]["phase"] == "Failed" for p in pods)
    created = [parse_timestamp(p["metadata"]["creationTimestamp"]) for p in pods]
    finished = [parse_timestamp(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]) for p in pods]
    waits = [round(created[i + 1] - finished[i]) for i in range(2)]
    assert waits == [10, 20]                        # 10 s after the first failure, doubled after the second
    job = c.get("job", "fail")
    failed = job["status"]["conditions"][-1]
    assert (failed["type"], failed["reason"], failed["message"]) == (
        "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert job["status"]["failed"] == 3
    assert reasons(c, "fail")[-1] == "BackoffLimitExceeded"


def test_an_indexed_job_runs_each_index_once_with_its_hostname():
    c = cluster()
    c.apply(busybox_job("idx", "sleep 2", completions=3, parallelism=3, completionMode="Indexed"))
    c.run(40)
    pods = job_pods(c, "idx")
    assert sorted(p["spec"]["hostname"] for p in pods) == ["idx-0", "idx-1", "idx-2"]
    assert sorted(p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] for p in pods) == ["0", "1", "2"]
    status = c.get("job", "idx")["status"]
    assert (status["completedIndexes"], status["succeeded"]) == ("0-2", 3)


INDEXED_JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: 'indexed-job'
spec:
  completions: 5
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - name: 'input'
        image: 'docker.io/library/bash'
        command:
        - "bash"
        - "-c"
        - |
          items=(foo bar baz qux xyz)
          echo ${items[$JOB_COMPLETION_INDEX]} > /input/data.txt
        volumeMounts:
        - mountPath: /input
          name: input
      containers:
      - name: 'worker'
        image: 'docker.io/library/busybox'
        command:
        - "rev"
        - "/input/data.txt"
        volumeMounts:
        - mountPath: /input
          name: input
      volumes:
      - name: input
        emptyDir: {}
"""
"""The docs' Indexed Job for Parallel Processing with Static Work Assignment (application/job/indexed-job.yaml)."""


def test_the_docs_indexed_job_reverses_one_word_per_index():
    c = cluster()
    c.apply(INDEXED_JOB)
    c.run(60)
    status = c.get("job", "indexed-job")["status"]
    assert (status["completedIndexes"], status["succeeded"]) == ("0-4", 5)
    words = {}
    for pod in job_pods(c, "indexed-job"):
        env = pod["spec"]["initContainers"][0]["env"]          # the Job controller adds it to every container
        assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]
        index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
        words[index] = c.kubectl(f"logs {pod['metadata']['name']}")
    notice = 'Defaulted container "worker" out of: worker, input (init)\n'
    assert words == {"0": notice + "oof\n", "1": notice + "rab\n", "2": notice + "zab\n", "3": notice + "xuq\n",
                     "4": notice + "zyx\n"}


INDEXED_JOB_VOL = """
apiVersion: batch/v1
kind: Job
metadata:
  name: 'indexed-job'
spec:
  completions: 5
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: 'worker'
        image: 'docker.io/library/busybox'
        command:
        - "rev"
        - "/input/data.txt"
        volumeMounts:
        - mountPath: /input
          name: input
      volumes:
      - name: input
        downwardAPI:
          items:
          - path: "data.txt"
            fieldRef:
              fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
"""
"""The same page's variant: the index in a file through a downwardAPI volume (application/job/indexed-job-vol.yaml)."""


def test_the_docs_indexed_job_with_a_downward_api_volume():
    c = cluster()
    c.apply(INDEXED_JOB_VOL)
    c.run(60)
    assert sorted(c.kubectl(f"logs {p['metadata']['name']}") for p in job_pods(c, "indexed-job")) == [
        "0\n", "1\n", "2\n", "3\n", "4\n"]      # each pod reverses the file holding its index


def test_active_deadline_seconds_stops_a_job_that_runs_too_long():
    c = cluster()
    c.apply(busybox_job("slow", "sleep 600", activeDeadlineSeconds=20))
    c.run(60)
    job = c.get("job", "slow")
    assert [cond["reason"] for cond in job["status"]["conditions"]] == ["DeadlineExceeded", "DeadlineExceeded"]
    assert all(p["metadata"].get("deletionTimestamp") or p["status"]["phase"] == "Failed" for p in job_pods(c, "slow"))


def test_ttl_seconds_after_finished_deletes_the_finished_job():
    c = cluster()
    c.apply(busybox_job("short", "true", ttlSecondsAfterFinished=30))
    c.run(20)
    finished = c.get("job", "short")["status"]["completionTime"]
    assert finished
    c.run(40)
    try:
        job = c.get("job", "short")
    except engine.NotFound:
        return
    # without a garbage collector the foreground deletion waits on its pods
    assert job["metadata"]["deletionTimestamp"] and "foregroundDeletion" in job["metadata"]["finalizers"]


# The docs' example (tasks/job/pod-failure-policy), with 12 completions and 3 at a time: every pod exits 42.
POD_FAILURE_POLICY_EXAMPLE = """
apiVersion: batch/v1
kind: Job
metadata:
  name: job-pod-failure-policy-example
spec:
  completions: 12
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: docker.io/library/bash:5
        command: ["bash"]        # example command simulating a bug which triggers the FailJob action
        args:
        - -c
        - echo "Hello world!" && sleep 5 && exit 42
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main      # optional
        operator: In             # one of: In, NotIn
        values: [42]
    - action: Ignore             # one of: Ignore, FailJob, Count
      onPodConditions:
      - type: DisruptionTarget   # indicates Pod disruption
"""


def test_the_docs_pod_failure_policy_fails_the_job_on_exit_code_42_without_retries():
    c = cluster()
    c.apply(POD_FAILURE_POLICY_EXAMPLE)
    c.run(30)
    name = "job-pod-failure-policy-example"
    job = c.get("job", name)
    conditions = [(cond["type"], cond["status"], cond["reason"]) for cond in job["status"]["conditions"]]
    assert conditions == [("FailureTarget", "True", "PodFailurePolicy"), ("Failed", "True", "PodFailurePolicy")]
    message = job["status"]["conditions"][-1]["message"]
    failed = [p for p in job_pods(c, name) if p["status"]["phase"] == "Failed"
              and p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 42]
    assert message in {f"Container main for pod default/{p['metadata']['name']} failed with exit code 42 "
                       f"matching FailJob rule at index 0" for p in failed}
    assert len(job_pods(c, name)) == 3                 # the first failure ended it: nothing was retried
    assert job["status"].get("succeeded", 0) == 0 and "active" not in job["status"]
    assert reasons(c, name)[-1] == "PodFailurePolicy"
    assert c.kubectl(f"get job {name}").splitlines()[1].split()[1] == "Failed"


@pytest.mark.parametrize("action, conditions, failed", [
    ("Ignore", ["SuccessCriteriaMet", "Complete"], 0),
    ("Count", ["FailureTarget", "Failed"], 1),
], ids=["an Ignore rule: the disrupted pod is replaced and not counted, so backoffLimit 0 is not reached",
        "a Count rule: the same failure counts and the Job fails at once"])
def test_a_disrupted_pod_and_the_pod_failure_policy(action, conditions, failed):
    c = cluster()
    c.apply(busybox_job("steady", "sleep 20", backoffLimit=0, podFailurePolicy={"rules": [
        {"action": action, "onPodConditions": [{"type": "DisruptionTarget"}]}]}))
    c.run(5)
    (victim,) = job_pods(c, "steady")
    node = victim["spec"]["nodeName"]
    c.kubectl(f"cordon {node}")
    c.fail_node(node)
    # What PodGC does to a pod on a node that is gone: Failed, with the DisruptionTarget condition.
    pod = c.get("pod", victim["metadata"]["name"])
    pod["status"]["phase"] = "Failed"
    pod["status"]["conditions"].append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                                        "message": "PodGC: node no longer exists"})
    c.admin.update_status(pod)
    c.run(30)
    status = c.get("job", "steady")["status"]
    assert [cond["type"] for cond in status["conditions"]] == conditions
    assert status.get("failed", 0) == failed
    assert reasons(c, "steady").count("SuccessfulCreate") == 2 - failed    # replaced only when ignored


def per_index_job(**spec) -> dict:
    # Indexes 1 and 3 always fail; hostname is <job>-<index> (JOB_COMPLETION_INDEX would do, as in the docs).
    script = 'h=$(hostname); [ "$h" = per-index-1 ] && exit 1; [ "$h" = per-index-3 ] && exit 1; true'
    return busybox_job("per-index", script, completions=4, parallelism=2, completionMode="Indexed",
                       backoffLimitPerIndex=1, **spec)


def test_backoff_limit_per_index_fails_only_the_failing_indexes_and_then_the_job():
    c = cluster()
    c.apply(per_index_job())
    c.run(90)
    status = c.get("job", "per-index")["status"]
    assert (status["completedIndexes"], status["failedIndexes"], status["succeeded"], status["failed"]) == (
        "0,2", "1,3", 2, 4)
    assert [(cond["type"], cond["reason"], cond["message"]) for cond in status["conditions"]] == [
        ("FailureTarget", "FailedIndexes", "Job has failed indexes"), ("Failed", "FailedIndexes", "Job has failed indexes")]
    tries = sorted((p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"],
                    p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"], p["status"]["phase"])
                   for p in job_pods(c, "per-index"))
    assert tries == [("0", "0", "Succeeded"), ("1", "0", "Failed"), ("1", "1", "Failed"), ("2", "0", "Succeeded"),
                     ("3", "0", "Failed"), ("3", "1", "Failed")]     # one retry each: backoffLimitPerIndex 1
    first, retry = sorted((p for p in job_pods(c, "per-index") if p["spec"]["hostname"] == "per-index-1"),
                          key=lambda p: p["metadata"]["creationTimestamp"])
    finished = parse_timestamp(first["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"])
    assert round(parse_timestamp(retry["metadata"]["creationTimestamp"]) - finished) == 10   # the index's backoff
    assert reasons(c, "per-index")[-1] == "FailedIndexes"


def test_more_failed_indexes_than_max_failed_indexes_fails_the_job_at_once():
    c = cluster()
    c.apply(per_index_job(maxFailedIndexes=1))
    c.run(90)
    status = c.get("job", "per-index")["status"]
    assert status["failedIndexes"] == "1,3"
    assert status["conditions"][-1]["reason"] == "MaxFailedIndexesExceeded"
    assert status["conditions"][-1]["message"] == "Job has exceeded the specified maximal number of failed indexes"
