"""TLS for the HTTP front: a cluster CA, the API server's certificate, and x509 client identities.

kubeadm makes a CA (``/etc/kubernetes/pki/ca.crt``), signs the API server's
serving certificate with it, and kube-apiserver's x509 authenticator reads a
client certificate's subject as the user: the CommonName is the user name and
each Organization is a group (``CN=jane,O=dev`` is user ``jane`` in group
``dev``; ``O=system:masters`` is an administrator). This module does the same
with the Debian ``openssl`` command, not a Python crypto package: the engine
gains no dependency, and the commands are the ones a learner would type.

Why TLS matters to the real clients: kubectl (client-go's ``clientcmd``) sends
the kubeconfig's credentials only to an ``https`` server, so per-user RBAC
through kubectl needs it. Keys are P-256 EC keys (fast to make); files live
in a directory the caller owns and removes.
"""

from __future__ import annotations

import pathlib
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from typing import Iterable

DAYS = 365
_CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_CA_CONFIG = """[req]
distinguished_name = dn
x509_extensions = ca
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
"""
_LEAF_CONFIG = """[req]
distinguished_name = dn
x509_extensions = leaf
[dn]
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = {usage}
{san}
"""

class TLSUnavailable(RuntimeError):
    """The ``openssl`` command is missing; serve over plain HTTP instead."""

def _openssl(args: list[str], workdir: pathlib.Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise TLSUnavailable("the openssl command is needed for tls=True: install Debian's openssl package")
    result = subprocess.run([binary, *args], cwd=workdir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")

def _subject(common_name: str, organizations: Iterable[str] = ()) -> str:
    escape = lambda text: text.replace("\\", "\\\\").replace("/", "\\/").replace("=", "\\=")  # noqa: E731
    return "/CN=" + escape(common_name) + "".join("/O=" + escape(org) for org in organizations)

@dataclass
class TLSBundle:
    """The files of one served cluster's PKI."""

    directory: pathlib.Path
    ca_cert: pathlib.Path
    ca_key: pathlib.Path
    server_cert: pathlib.Path
    server_key: pathlib.Path

    def server_context(self) -> ssl.SSLContext:
        """The serving context: our certificate, and client certificates verified against the CA if sent."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.load_verify_locations(self.ca_cert)
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def client_certificate(self, user: str, groups: Iterable[str] = ()) -> tuple[pathlib.Path, pathlib.Path]:
        """A client certificate (and key) for ``user`` in ``groups``, signed by the cluster CA."""
        stem = user.replace(":", "-").replace("/", "-")
        return self._leaf(stem, _subject(user, groups), "clientAuth", "")

    def _leaf(self, stem: str, subject: str, usage: str, san: str) -> tuple[pathlib.Path, pathlib.Path]:
        config = self.directory / f"{stem}.cnf"
        config.write_text(_LEAF_CONFIG.format(usage=usage, san=san))
        cert, key = self.directory / f"{stem}.crt", self.directory / f"{stem}.key"
        _openssl(["req", "-x509", "-config", config.name, "-CA", self.ca_cert.name, "-CAkey", self.ca_key.name,
                  *_CURVE, "-keyout", key.name, "-out", cert.name, "-days", str(DAYS), "-subj", subject],
                 self.directory)
        key.chmod(0o600)
        return cert, key

def make_bundle(directory: str | pathlib.Path) -> TLSBundle:
    """A new CA and an API server certificate for 127.0.0.1 / localhost, written under ``directory``."""
    workdir = pathlib.Path(directory)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "ca.cnf").write_text(_CA_CONFIG)
    _openssl(["req", "-x509", "-config", "ca.cnf", *_CURVE, "-keyout", "ca.key", "-out", "ca.crt",
              "-days", str(DAYS), "-subj", "/CN=kubernetes"], workdir)
    (workdir / "ca.key").chmod(0o600)
    bundle = TLSBundle(workdir, workdir / "ca.crt", workdir / "ca.key", workdir / "apiserver.crt",
                       workdir / "apiserver.key")
    bundle._leaf("apiserver", "/CN=kube-apiserver", "serverAuth",
                 "subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, "
                 "DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local")
    return bundle

def certificate_identity(certificate: dict) -> tuple[str, tuple[str, ...]] | None:
    """The x509 authenticator: CN is the user, each O a group (``ssl.getpeercert()`` form)."""
    user = None
    groups: list[str] = []
    for rdn in certificate.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                user = value
            elif name == "organizationName":
                groups.append(value)
    return (user, tuple(groups)) if user else None
