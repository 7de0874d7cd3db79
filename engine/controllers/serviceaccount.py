"""The ServiceAccount controller: every active namespace has a ``default`` ServiceAccount.

Pods run as a ServiceAccount, and the ServiceAccount admission plugin refuses
a pod whose account does not exist, so a new namespace is usable only once
this controller has made its ``default`` account (serviceaccounts_controller.go).
It queues a namespace when the namespace appears or changes, or when one of
its ServiceAccounts is deleted, and ``sync`` creates what is missing.
"""

from __future__ import annotations

from engine.api import errors
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

MANAGED_NAMES = ("default",)


class ServiceAccountsController:
    name = "serviceaccount"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.queue = WorkQueue(context.loop, name="serviceaccount")
        informers = context.informers
        self.namespaces = informers.informer("namespaces")
        self.accounts = informers.informer("serviceaccounts")
        self.namespaces.add_event_handler(on_add=self._enqueue_namespace,
                                          on_update=lambda old, new: self._enqueue_namespace(new))
        self.accounts.add_event_handler(on_delete=self._account_deleted)
        self.workers = None

    def _enqueue_namespace(self, namespace: dict) -> None:
        self.queue.add(namespace["metadata"]["name"])

    def _account_deleted(self, account: dict) -> None:
        obj = getattr(account, "obj", account)
        if obj["metadata"]["name"] in MANAGED_NAMES:
            self.queue.add(obj["metadata"]["namespace"])

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, namespace_name: str) -> None:
        namespace = self.namespaces.indexer.get_by_key(namespace_name)
        if namespace is None or namespace.get("status", {}).get("phase") == "Terminating":
            return
        for name in MANAGED_NAMES:
            if self.accounts.indexer.get_by_key(f"{namespace_name}/{name}") is not None:
                continue
            try:
                self.client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                    "metadata": {"name": name, "namespace": namespace_name}})
            except errors.AlreadyExists:
                continue
