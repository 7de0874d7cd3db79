"""Real etcd members on loopback: one server for a store, or a three-member Raft cluster for the etcd chapter.

This runs Debian's ``etcd`` binary (package ``etcd-server``) as a child process, the way a test or a notebook
needs it: on 127.0.0.1 only, on free ports, with a temporary data directory, its log in a file (never on
our stderr), a readiness wait, and a clean shutdown that removes what it created.

    with EtcdServer() as server:           # one member, elected leader of itself
        server.endpoint                    # "http://127.0.0.1:PORT", for EtcdStore or etcdctl --endpoints
    cluster = EtcdCluster(3).start()       # members etcd-0, etcd-1, etcd-2 that elect one leader
    cluster.stop_member(0); cluster.start_member(0); cluster.kill_member(1)
    cluster.status()                       # each member's MemberStatus (leader, raft term, raft index), or None
    cluster.leader_index()                 # which member leads now
    cluster.stop()                         # every member stopped, data directories removed

Promises: ``start`` returns once the member answers its client port and knows a leader (for a cluster
member started alone: once it answers); ``stop`` sends SIGTERM and waits (SIGKILL after ``timeout``);
``kill_member`` is SIGKILL, a crash. A member still running when its object is collected, or when Python
exits, is terminated. A stopped member keeps its data directory, so starting it again
rejoins with its log, as a rebooted machine would. Nothing listens beyond loopback.

The flags are etcd's defaults (``--heartbeat-interval=100``, ``--election-timeout=1000``, so the shortest
lease is 2 s, as ``engine.store.MIN_LEASE_TTL`` says) plus one: watch progress notifications every
100 ms instead of 10 min, which lets ``EtcdStore.sync`` prove quickly that its watch has caught up.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType

from engine.store.etcd_client import EtcdUnavailable, MemberStatus, status

log = logging.getLogger(__name__)

ETCD_BINARY = "etcd"
PROGRESS_NOTIFY_INTERVAL = "100ms"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def etcd_binary() -> str:
    """The path of the etcd server binary; raises when it is not installed."""
    found = shutil.which(ETCD_BINARY) or ("/usr/bin/etcd" if os.path.exists("/usr/bin/etcd") else None)
    if found is None:
        raise FileNotFoundError("etcd is not installed: run scripts/install-system-deps.sh "
                                "(Debian package etcd-server)")
    return found


def _scratch_root() -> str | None:
    """Prefer memory-backed /dev/shm for data directories: etcd fsyncs every write."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


class EtcdServer:
    """One etcd member as a child process. Alone it is a one-member cluster; ``EtcdCluster`` makes peers."""

    def __init__(self, name: str = "default", *, client_port: int = 0, peer_port: int = 0,
                 data_dir: str | None = None, initial_cluster: str | None = None,
                 cluster_token: str = "engine-etcd") -> None:
        self.name = name
        self.client_port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self._own_dir = data_dir is None
        self.root = Path(data_dir or tempfile.mkdtemp(prefix=f"etcd-{name}-", dir=_scratch_root()))
        self.data_dir = self.root / "data"
        self.log_path = self.root / f"{name}.log"
        self.initial_cluster = initial_cluster or f"{name}={self.peer_url}"
        self.cluster_token = cluster_token
        self._process: subprocess.Popen | None = None
        self._log_file = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The command line that starts this member."""
        return [etcd_binary(), "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", self.initial_cluster, "--initial-cluster-token", self.cluster_token,
                "--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", "stderr",
                "--experimental-watch-progress-notify-interval", PROGRESS_NOTIFY_INTERVAL]

    def launch(self) -> None:
        """Start the process without waiting for it to be ready."""
        if self.running:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")
        self._process = subprocess.Popen(self.command(), stdout=self._log_file, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        weakref.finalize(self, _terminate, self._process)   # never outlive the Python that started it
        log.info("started etcd member %s (pid %d) on %s", self.name, self._process.pid, self.endpoint)

    def wait_ready(self, timeout: float = 15.0, *, need_leader: bool = True) -> MemberStatus:
        """Wait until the member answers (and, with ``need_leader``, follows a leader)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise RuntimeError(f"etcd member {self.name} exited; see its log {self.log_path}:\n"
                                   + self.log_tail())
            try:
                answer = status(self.endpoint, timeout=1.0)
                if answer.leader or not need_leader:
                    return answer
            except EtcdUnavailable:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"etcd member {self.name} not ready after {timeout} s; log {self.log_path}")
            time.sleep(0.02)

    def start(self, timeout: float = 15.0) -> "EtcdServer":
        self.launch()
        self.wait_ready(timeout)
        return self

    def status(self) -> MemberStatus | None:
        """This member's status, or None when it is down or does not answer."""
        if not self.running:
            return None
        try:
            return status(self.endpoint, timeout=1.0)
        except EtcdUnavailable:
            return None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait (SIGKILL if it does not exit in ``timeout``); the data directory stays."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: the member crashes as a machine losing power would."""
        self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: int, timeout: float) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.info("stopped etcd member %s (exit %s)", self.name, process.returncode)
        self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def remove(self) -> None:
        """Stop the member and delete its directory (when this object created it)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> "EtcdServer":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.remove()


class EtcdCluster:
    """``size`` etcd members on loopback that form one Raft cluster (``etcd-0``, ``etcd-1``, ...)."""

    def __init__(self, size: int = 3) -> None:
        peers = [(f"etcd-{index}", free_port()) for index in range(size)]
        initial = ",".join(f"{name}=http://127.0.0.1:{port}" for name, port in peers)
        self.root = Path(tempfile.mkdtemp(prefix="etcd-cluster-", dir=_scratch_root()))
        self.members = [EtcdServer(name, peer_port=port, data_dir=str(self.root / name), initial_cluster=initial)
                        for name, port in peers]

    @property
    def endpoints(self) -> list[str]:
        return [member.endpoint for member in self.members]

    def start(self, timeout: float = 20.0) -> "EtcdCluster":
        """Start every member and wait until all of them follow one leader."""
        for member in self.members:
            member.launch()
        for member in self.members:
            member.wait_ready(timeout)
        return self

    def start_member(self, index: int, timeout: float = 15.0) -> MemberStatus:
        """Start (or restart) one member; waits until it answers, and for a leader when there is quorum."""
        member = self.members[index]
        member.launch()
        quorum = sum(other.running for other in self.members) > len(self.members) // 2
        return member.wait_ready(timeout, need_leader=quorum)

    def stop_member(self, index: int) -> None:
        self.members[index].stop()

    def kill_member(self, index: int) -> None:
        self.members[index].kill()

    def status(self) -> list[MemberStatus | None]:
        """Each member's status in member order (None for a member that is down or silent)."""
        return [member.status() for member in self.members]

    def leader_index(self, timeout: float = 10.0) -> int:
        """The index of the member that leads now, waiting up to ``timeout`` for an election to end."""
        deadline = time.monotonic() + timeout
        while True:
            for index, answer in enumerate(self.status()):
                if answer is not None and answer.is_leader:
                    return index
            if time.monotonic() > deadline:
                raise TimeoutError(f"no etcd member is leader after {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop every member and remove the cluster's directories."""
        for member in self.members:
            member.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "EtcdCluster":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
