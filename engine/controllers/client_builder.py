"""Per-controller credentials (k8s.io/controller-manager/pkg/clientbuilder: SAControllerClientBuilder).

kube-controller-manager runs with ``--use-service-account-credentials`` (as
kubeadm sets it): each controller writes as its own ServiceAccount in
``kube-system`` (``job-controller``, ``cronjob-controller``...), so RBAC's
``system:controller:<name>`` roles decide what each may do and the audit log
names the controller behind every write. The builder makes the account if it
is missing, asks the API server for a token (TokenRequest, one hour), and
renews it when 80% of its life has passed, as client-go's cached token
source does. Shared informers keep using the manager's own client, as
upstream's do.

What it never does: read the store or mint tokens itself; the token comes
from ``serviceaccounts/<name>/token`` like any client's.
"""

from __future__ import annotations

import logging

from engine.api import errors
from engine.client.client import Client
from engine.sim.loop import Loop, Timer

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
TOKEN_EXPIRATION_SECONDS = 3600
RENEW_FRACTION = 0.8
RETRY_SECONDS = 10.0


class ServiceAccountClient:
    """A ``Client`` authenticated as ``system:serviceaccount:kube-system:<name>``, its token kept fresh."""

    def __init__(self, root: Client, loop: Loop, name: str) -> None:
        self.root = root
        self.loop = loop
        self.name = name
        self.client = Client(root.server, None, name=f"system:serviceaccount:{NAMESPACE}:{name}")
        self._timer: Timer | None = None
        self._refresh()

    def _ensure_account(self) -> None:
        try:
            self.root.get("serviceaccounts", self.name, NAMESPACE)
        except errors.NotFound:
            try:
                self.root.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                  "metadata": {"name": self.name, "namespace": NAMESPACE}})
            except errors.AlreadyExists:
                pass

    def _refresh(self) -> None:
        self._timer = None
        try:
            self._ensure_account()
            request = self.root.create_token(NAMESPACE, self.name, TOKEN_EXPIRATION_SECONDS)
        except errors.ApiError as error:
            log.debug("%s: token request failed, retrying: %s", self.name, error)
            self._timer = self.loop.call_later(RETRY_SECONDS, self._refresh, label=f"token {self.name}")
            return
        self.client.token = request["status"]["token"]
        self._timer = self.loop.call_later(TOKEN_EXPIRATION_SECONDS * RENEW_FRACTION, self._refresh,
                                           label=f"token {self.name}")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
