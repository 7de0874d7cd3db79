"""Serving a cluster over HTTP: ``Cluster.serve()`` and the kubeconfig the real clients read.

``serve(cluster)`` starts what a cluster needs to be reachable from outside
the process: the real-time driver (virtual time follows the wall clock,
unless the cluster is already driven) and the HTTP front on 127.0.0.1, and
writes a kubeconfig whose user is the cluster admin (``kubernetes-admin`` in
``system:masters``, with its bearer token), as ``kubeadm`` writes
``/etc/kubernetes/admin.conf``. It returns a ``ServeHandle``: ``.url``,
``.port``, ``.kubeconfig_path``, ``.token``, ``.kubeconfig_for(user, groups)``
for a less privileged identity, ``.call(fn, *args)`` to run something on the
loop thread (``handle.call(c.admin.get, "pods", "web", "default")``: while
served, engine state belongs to the driver's thread), and ``.stop()``; it is a
context manager.

Over plain HTTP (the default) kubectl sends no credentials at all (client-go's
``clientcmd`` only sends them to ``https`` servers), so, like kube-apiserver's
old insecure port on 127.0.0.1 (removed in 1.20), a request without
credentials is served as the admin; a request with a bearer token (the Python
client sends it over HTTP) is authenticated and authorized as usual.

With ``tls=True`` the front speaks HTTPS with a fresh CA and server
certificate made by the ``openssl`` command (see ``engine.apiserver.http.tls``),
and accepts client certificates whose CN is the user and whose O fields are
the groups, as kube-apiserver's x509 authenticator does. Stopping the handle
stops the front and, if this handle started it, the driver; the cluster keeps
its state and can be served again.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

import yaml

from engine.apiserver.http.server import HTTPFront
from engine.sim.realtime import RealtimeDriver

if TYPE_CHECKING:
    from engine.cluster import Cluster

CLUSTER_NAME = "kubernetes"
T = TypeVar("T")


def kubeconfig(server: str, user: str, *, token: str | None = None, ca_file: str | None = None,
               client_cert: str | None = None, client_key: str | None = None,
               namespace: str = "default") -> dict[str, Any]:
    """A kubeconfig with one cluster, one user and one context, as kubeadm names them."""
    cluster: dict[str, Any] = {"server": server}
    if ca_file:
        cluster["certificate-authority"] = ca_file
    credentials: dict[str, Any] = {}
    if token:
        credentials["token"] = token
    if client_cert and client_key:
        credentials["client-certificate"] = client_cert
        credentials["client-key"] = client_key
    context = f"{user}@{CLUSTER_NAME}"
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": CLUSTER_NAME, "cluster": cluster}],
            "users": [{"name": user, "user": credentials}],
            "contexts": [{"name": context, "context": {"cluster": CLUSTER_NAME, "user": user,
                                                      "namespace": namespace}}],
            "current-context": context}


def write_kubeconfig(path: str | pathlib.Path, config: dict[str, Any]) -> pathlib.Path:
    """Write ``config`` as YAML, readable by its owner only (it holds credentials)."""
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    target.chmod(0o600)
    return target


class ServeHandle:
    """A served cluster: where it listens, how to reach it, and how to stop it."""

    def __init__(self, cluster: "Cluster", front: HTTPFront, driver: RealtimeDriver, owns_driver: bool,
                 kubeconfig_path: pathlib.Path, workdir: pathlib.Path | None, tls: Any = None) -> None:
        self.cluster = cluster
        self.front = front
        self.driver = driver
        self._owns_driver = owns_driver
        self.kubeconfig_path = kubeconfig_path
        self._workdir = workdir
        self.tls = tls
        self.token = cluster.token_for("kubernetes-admin", ("system:masters",))
        self._stopped = False

    @property
    def url(self) -> str:
        return self.front.url

    @property
    def port(self) -> int:
        return int(self.front.port)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the cluster's loop thread (for ``c.admin`` calls and other engine state)."""
        return self.driver.call(fn, *args)

    def kubeconfig_for(self, user: str, groups: Iterable[str] = (), path: str | pathlib.Path | None = None) -> pathlib.Path:
        """A kubeconfig for another identity (RBAC decides what it may do), next to the admin's."""
        token = self.cluster.token_for(user, tuple(groups))
        target = pathlib.Path(path) if path else self.kubeconfig_path.with_name(f"{user.replace(':', '-')}.kubeconfig")
        ca = str(self.tls.ca_cert) if self.tls else None
        return write_kubeconfig(target, kubeconfig(self.url, user, token=token, ca_file=ca))

    def kubeconfig_for_certificate(self, user: str, groups: Iterable[str] = (),
                                   path: str | pathlib.Path | None = None) -> pathlib.Path:
        """TLS only: a kubeconfig that authenticates with a client certificate (CN=user, O=groups)."""
        if self.tls is None:
            raise ValueError("client certificates need a TLS front: serve(tls=True)")
        cert, key = self.tls.client_certificate(user, groups)
        target = pathlib.Path(path) if path else self.kubeconfig_path.with_name(f"{user.replace(':', '-')}-x509.kubeconfig")
        return write_kubeconfig(target, kubeconfig(self.url, user, ca_file=str(self.tls.ca_cert),
                                                   client_cert=str(cert), client_key=str(key)))

    def stop(self) -> None:
        """Stop serving (idempotent); the cluster keeps its state."""
        if self._stopped:
            return
        self._stopped = True
        self.front.stop()
        if self._owns_driver:
            self.driver.stop()
            if getattr(self.cluster, "_driver", None) is self.driver:
                self.cluster._driver = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "ServeHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServeHandle(url={self.url!r}, kubeconfig={str(self.kubeconfig_path)!r})"


def serve(cluster: "Cluster", port: int = 0, *, kubeconfig_path: str | pathlib.Path | None = None,
          tls: bool = False, speed: float = 1.0) -> ServeHandle:
    """Start the driver (if needed) and the HTTP front for ``cluster``; write its admin kubeconfig."""
    driver = getattr(cluster, "_driver", None)
    owns_driver = driver is None or not driver.running
    if owns_driver:
        driver = RealtimeDriver(cluster.loop, speed=speed)
        cluster._driver = driver
        driver.start()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="engine-serve-")) if kubeconfig_path is None else None
    target = pathlib.Path(kubeconfig_path) if kubeconfig_path is not None else workdir / "kubeconfig"  # type: ignore[operator]
    bundle = None
    try:
        context = None
        cert_user = None
        if tls:
            from engine.apiserver.http import tls as tls_module
            bundle = tls_module.make_bundle(workdir or target.parent / "pki")
            context = bundle.server_context()
            cert_user = tls_module.certificate_identity
        admin_token = cluster.token_for("kubernetes-admin", ("system:masters",))
        front = HTTPFront(cluster.apiserver, driver, port=port, ssl_context=context, client_cert_user=cert_user,
                          insecure_token=None if tls else admin_token)
    except BaseException:
        if owns_driver:
            driver.stop()
            cluster._driver = None
        raise
    front.start()
    write_kubeconfig(target, kubeconfig(front.url, "kubernetes-admin", token=admin_token,
                                        ca_file=str(bundle.ca_cert) if bundle else None))
    return ServeHandle(cluster, front, driver, owns_driver, target, workdir, bundle)
