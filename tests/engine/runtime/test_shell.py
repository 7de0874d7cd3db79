import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import (
    CONTAINER_EXITED,
    CONTAINER_RUNNING,
    ContainerConfig,
    ContainerMetadata,
    CriError,
    PodSandboxConfig,
    PodSandboxMetadata,
)
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all


@pytest.fixture
def node(loop) -> RuntimeService:
    runtime = RuntimeService(loop, register_all(Registry()))
    for image in ("busybox", "registry.k8s.io/busybox", "alpine:3.20", "bash:5"):
        runtime.images.pull_image(image)
    loop.run_for(10)
    return runtime


def start(node, command=(), args=(), image="busybox", env=None):
    pod = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid"), hostname="pod"))
    config = ContainerConfig(ContainerMetadata("c"), image, command=list(command), args=list(args), envs=env or {})
    cid = node.create_container(pod, config)
    node.start_container(cid)
    return cid


def log(node, cid):
    return [line.split(" ", 3)[3] for line in node.read_log(node.container_status(cid).log_path)]


def test_the_liveness_probe_example_file_exists_for_thirty_seconds(loop, node):
    started = loop.now
    cid = start(node, args=["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
                image="registry.k8s.io/busybox")
    probe = ["cat", "/tmp/healthy"]
    loop.run_until(started + 29.9)
    assert node.exec_sync(cid, probe).exit_code == 0
    loop.run_until(started + 30.1)
    failed = node.exec_sync(cid, probe)
    assert (failed.exit_code, failed.stderr) == (1, "cat: can't open '/tmp/healthy': No such file or directory\n")
    loop.run_until(started + 629.9)
    assert node.container_status(cid).state == CONTAINER_RUNNING
    loop.run_until(started + 630.1)
    assert (node.container_status(cid).state, node.container_status(cid).exit_code) == (CONTAINER_EXITED, 0)


@pytest.mark.parametrize(
    "script, lines",
    [
        ('i=0; while true; do echo "$i: $(date)"; i=$((i+1)); sleep 1; done',
         ["0: Wed Jan  1 00:00:10 UTC 2025", "1: Wed Jan  1 00:00:11 UTC 2025", "2: Wed Jan  1 00:00:12 UTC 2025"]),
        ("echo Hello Kubernetes! && sleep 3600", ["Hello Kubernetes!"]),
        ("for i in 9 8 7 6 5 4 3 2 1 ; do echo $i ; done", ["9", "8", "7", "6", "5", "4", "3", "2", "1"]),
        ("echo 'single $HOME' \"double $HOME\" \\$HOME", ["single $HOME double /root $HOME"]),
        ("x=3; if [ $x -gt 2 ]; then echo big; else echo small; fi", ["big"]),
        ("echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f | grep t", ["two"]),
        ("printf '%s-%d\\n' a 1; echo $((7 % 4 * 2))", ["a-1", "6"]),
        ("nosuchcmd; echo $?", ["sh: nosuchcmd: not found", "127"]),
        ("false || echo recovered && echo too", ["recovered", "too"]),
        ("until [ -f /tmp/done ]; do echo waiting; touch /tmp/done; sleep 2; done; echo done",
         ["waiting", "done"]),
        ("hostname; echo $GREETING; printenv GREETING", ["pod", "hi", "hi"]),
    ],
    ids=[
        "the counter pod prints a number and the date every second",
        "echo then sleep prints once",
        "the Job's countdown loop prints nine lines",
        "single quotes stop expansion, double quotes do not, a backslash escapes",
        "if with the test bracket picks a branch",
        "redirections write a file that a pipe reads back",
        "printf formats and arithmetic follows precedence",
        "an unknown command is not found with status 127",
        "or and and chain on exit status",
        "an until loop waits for a file",
        "hostname and environment variables reach the shell",
    ],
)
def test_the_docs_shell_examples_print_what_they_print_for_real(loop, node, script, lines):
    cid = start(node, command=["sh", "-c", script], env={"GREETING": "hi", "HOME": "/root"})
    loop.run_for(2.5)
    assert log(node, cid)[: len(lines)] == lines


@pytest.mark.parametrize(
    "command, code, after",
    [
        (["sh", "-c", "exit 3"], 3, 0),
        (["sh", "-c", "sleep 5; exit 1"], 1, 5),
        (["sleep", "2"], 0, 2),
        (["sh"], 0, 0),
        (["sh", "-c", "false"], 1, 0),
        (["/bin/sh", "-c", "echo 'unterminated"], 2, 0),
    ],
    ids=[
        "exit N is the container's exit code",
        "exit after a sleep happens at the right virtual time",
        "a bare sleep command runs without a shell",
        "busybox's default sh with no terminal exits at once with 0",
        "the last command's status is the script's",
        "a syntax error exits 2",
    ],
)
def test_exit_codes(loop, node, command, code, after):
    started = loop.now
    cid = start(node, command=command)
    loop.run_for(after + 0.01)
    status = node.container_status(cid)
    assert (status.state, status.exit_code) == (CONTAINER_EXITED, code)
    assert status.finished_at == round((started + after) * 1e9)


@pytest.mark.parametrize(
    "probe, code",
    [
        (["cat", "/tmp/healthy"], 0),
        (["test", "-e", "/tmp/healthy"], 0),
        (["sh", "-c", "[ -f /tmp/healthy ]"], 0),
        (["test", "-e", "/tmp/missing"], 1),
        (["sh", "-c", "[ -f /tmp/missing ]"], 1),
        (["test", "-d", "/tmp"], 0),
        (["ls", "/nope"], 1),
    ],
    ids=[
        "cat of an existing file succeeds",
        "test -e finds the file",
        "the bracket form finds it too",
        "test -e of a missing file fails",
        "the bracket form of a missing file fails",
        "tmp is a directory",
        "ls of a missing directory fails",
    ],
)
def test_exec_probe_commands(node, probe, code):
    cid = start(node, command=["sh", "-c", "touch /tmp/healthy; sleep 600"])
    assert node.exec_sync(cid, probe).exit_code == code


@pytest.mark.parametrize(
    "script, grace, code, after",
    [
        ("sleep 3600", 30, 137, 30),
        ("trap 'exit 0' TERM; while true; do sleep 1; done", 30, 0, 1),
        ("trap 'echo bye; exit 143' SIGTERM; sleep 10", 30, 143, 10),
    ],
    ids=[
        "a shell as PID 1 ignores SIGTERM and is SIGKILLed after the grace period",
        "a trap on TERM exits once the current one-second sleep ends",
        "a trap waits for a long foreground sleep, as a real shell does",
    ],
)
def test_a_shell_and_sigterm(loop, node, script, grace, code, after):
    cid = start(node, command=["sh", "-c", script])
    loop.run_for(0.5)
    stopped_at = loop.now
    done = node.stop_container(cid, grace)
    loop.run_for(grace + 1)
    assert done.done()
    status = node.container_status(cid)
    assert status.exit_code == code
    assert status.finished_at / 1e9 == pytest.approx(stopped_at + after - (0.5 if after in (1, 10) else 0))


def test_a_loop_that_never_sleeps_burns_cpu_without_hanging_the_loop(loop, node):
    cid = start(node, command=["sh", "-c", "while true; do :; done"])
    loop.run_for(1)
    assert node.container_status(cid).state == CONTAINER_RUNNING
    assert node.container_stats(cid)["usage_usec"] > 500_000


def test_volumes_appear_as_files(loop, node):
    pod = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    config = ContainerConfig(ContainerMetadata("c"), "busybox", command=["sh", "-c", "cat /etc/config/color"],
                             files={"/etc/config/color": "blue\n"})
    cid = node.create_container(pod, config)
    node.start_container(cid)
    assert log(node, cid) == ["blue"]


def test_a_long_sleeping_loop_keeps_exact_time(loop, node):
    cid = start(node, command=["sh", "-c", "while true; do echo tick; sleep 1; done"])
    loop.run_for(500.5)
    stamps = [line.split(" ")[0] for line in node.read_log(node.container_status(cid).log_path)]
    assert len(stamps) == 501
    assert stamps[-1] == "2025-01-01T00:08:30.000000000Z"


def test_an_init_container_waits_until_its_service_resolves(loop, node):
    names: dict[str, list[str]] = {}
    node.resolver = lambda name: names.get(name, [])
    script = ("until nslookup myservice.default.svc.cluster.local; do echo waiting for myservice; sleep 2; done")
    cid = start(node, command=["sh", "-c", script])
    loop.run_for(5)
    assert node.container_status(cid).state == CONTAINER_RUNNING
    assert log(node, cid).count("waiting for myservice") == 3
    names["myservice.default.svc.cluster.local"] = ["10.96.0.42"]
    loop.run_for(2)
    status = node.container_status(cid)
    assert (status.state, status.exit_code) == (CONTAINER_EXITED, 0)
    assert "Address: 10.96.0.42" in log(node, cid)


@pytest.mark.parametrize(
    "answer, code, out, err",
    [
        ({"status": 200, "body": "hello\n"}, 0, "hello\n", ""),
        ({"status": 503, "body": ""}, 1, "", "wget: server returned error: HTTP/1.1 503 Service Unavailable\n"),
        (None, 1, "", "wget: can't connect to remote host (web): Connection refused\n"),
        ({"status": 0, "error": "timeout"}, 1, "", "wget: download timed out\n"),
        ({"status": 0, "error": "unresolved"}, 1, "", "wget: bad address 'web'\n"),
    ],
    ids=[
        "wget prints the body the network layer returns",
        "an error status fails as busybox wget does",
        "nothing listening is connection refused",
        "a dropped connection times out",
        "a name that does not resolve is a bad address",
    ],
)
def test_wget_goes_through_the_network_hook(loop, node, answer, code, out, err):
    node.http = lambda url: answer
    cid = start(node, command=["sleep", "600"])
    result = node.exec_sync(cid, ["wget", "-qO-", "http://web/"])
    assert (result.exit_code, result.stdout, result.stderr) == (code, out, err)


def test_without_a_network_wget_cannot_resolve(node):
    cid = start(node, command=["sleep", "600"])
    assert node.exec_sync(cid, ["wget", "-qO-", "http://web/"]).stderr == "wget: bad address 'web'\n"


def test_an_exec_longer_than_its_timeout_is_deadline_exceeded(node):
    cid = start(node, command=["sleep", "600"])
    assert node.exec_sync(cid, ["sh", "-c", "sleep 1; true"], timeout=2).exit_code == 0
    with pytest.raises(CriError) as failure:
        node.exec_sync(cid, ["sh", "-c", "sleep 5"], timeout=1)
    assert failure.value.code == "DeadlineExceeded"



def test_wget_waits_for_a_server_that_takes_time_to_answer(loop, node):
    requests = []
    node.http = lambda url: requests.append(loop.now) or {"status": 200, "body": "OK!", "elapsed": 0.2}
    started = loop.now
    start(node, args=["/bin/sh", "-c", "while sleep 0.05; do wget -q -O- http://php-apache; done"])
    loop.run_until(started + 2.4)
    assert len(requests) == 10                         # one every 0.05 + 0.2 s, not one every 0.05 s
    assert requests[1] - requests[0] == pytest.approx(0.25)


def streams(node, cid):
    """(stream, text) of each CRI log record: containerd keeps stdout and stderr apart in one file."""
    return [tuple(line.split(" ", 3)[1:4:2]) for line in node.read_log(node.container_status(cid).log_path)]


@pytest.mark.parametrize(
    "script, records",
    [
        ("echo out; echo err >&2; echo also 1>&2", [("stdout", "out"), ("stderr", "err"), ("stderr", "also")]),
        ("cat /nope 2>&1; ls /nope 2>/dev/null; echo after", [
            ("stdout", "cat: can't open '/nope': No such file or directory"), ("stdout", "after")]),
        ("{ echo a; echo b >&2; } 2>&1 | grep b", [("stdout", "b")]),
        ("ls /nope 2>/tmp/e >/dev/null; cat /tmp/e", [("stdout", "ls: /nope: No such file or directory")]),
        ("cat /nope 2>&1 >/dev/null; echo x >/dev/stderr", [
            ("stdout", "cat: can't open '/nope': No such file or directory"), ("stderr", "x")]),
        ("cat /nope >/dev/null 2>&1; echo quiet", [("stdout", "quiet")]),
        ("echo one 2>>/tmp/l 1>&2; cat /tmp/l; v=$(echo hidden >&2); echo \"[$v]\"", [
            ("stdout", "one"), ("stderr", "hidden"), ("stdout", "[]")]),
    ],
    ids=[
        ">&2 and 1>&2 write to stderr, which the CRI log keeps as the stderr stream",
        "2>&1 sends errors to stdout and 2>/dev/null drops them",
        "2>&1 on a group feeds both streams into a pipe",
        "2>FILE keeps the errors in a file",
        "2>&1 >FILE is not >FILE 2>&1: stderr goes where stdout went before",
        ">/dev/null 2>&1 silences a command",
        "1>&2 follows fd 2 into a file; command substitution captures stdout only",
    ],
)
def test_redirections_and_the_two_log_streams(loop, node, script, records):
    cid = start(node, command=["sh", "-c", script])
    loop.run_for(1)
    assert streams(node, cid) == records


@pytest.mark.parametrize(
    "script, lines",
    [
        ('for x in apple b12 "" zz; do case "$x" in\n  a*) echo "fruit $x";;\n  b[0-9]*|c) echo code;;\n'
         '  "") echo empty ;;\n  *) echo other\n esac; done', ["fruit apple", "code", "empty", "other"]),
        ("case x in (y) echo no;; esac; echo status=$?", ["status=0"]),
        ("p='*'; case star in \"$p\") echo literal;; $p) echo glob;; esac", ["glob"]),
        ("case $HOSTNAME in pod-[!0-9]) echo no;; pod) echo yes; false;; esac; echo $?", ["yes", "1"]),
    ],
    ids=[
        "patterns, alternatives, an empty word and a default arm",
        "no arm matches: status 0",
        "a quoted expansion matches literally, an unquoted one as a glob",
        "a bracket class and the arm's last status",
    ],
)
def test_case(loop, node, script, lines):
    cid = start(node, command=["sh", "-c", script], env={"HOSTNAME": "pod"})
    loop.run_for(1)
    assert log(node, cid) == lines


@pytest.mark.parametrize(
    "command, lines",
    [
        (["bash", "-c", "items=(foo bar\n baz)\ni=2\necho ${items[$i]} ${items[i-1]} $items ${items[@]} [${items[7]}]"],
         ["baz bar foo foo bar baz []"]),
        (["sh", "-c", "items=(foo bar)"], ['sh: syntax error: unexpected "("']),
        (["sh", "-c", "printf 'abc\\nxy\\n' > /tmp/f; rev /tmp/f; echo hello | rev; rev /nope"],
         ["cba", "yx", "olleh", "rev: /nope: No such file or directory"]),
    ],
    ids=["bash arrays: elements by arithmetic index, $NAME is element 0, @ is all",
         "busybox ash has no arrays", "rev reverses each line of a file or stdin"],
)
def test_bash_arrays_and_rev(loop, node, command, lines):
    cid = start(node, command=command, image="bash:5" if command[0] == "bash" else "busybox")
    loop.run_for(1)
    assert log(node, cid) == lines


def test_exec_keeps_stdout_and_stderr_apart(node):
    cid = start(node, command=["sleep", "3600"])
    result = node.exec_sync(cid, ["sh", "-c", "echo o; echo e >&2; ls /x 2>&1"])
    assert (result.stdout, result.stderr) == ("o\nls: /x: No such file or directory\n", "e\n")
