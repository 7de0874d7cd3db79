"""The root CA certificate publisher: a ``kube-root-ca.crt`` ConfigMap in every namespace (``rootcacertpublisher``).

Every pod's service-account volume (``kube-api-access-*``) projects the
cluster's CA bundle from the ConfigMap ``kube-root-ca.crt`` of its own
namespace, so a pod can verify the API server at ``kubernetes.default.svc``.
This controller keeps that ConfigMap in each active namespace with the CA
the controller manager was given (``--root-ca-file``; here
``options["root_ca"]``, else the cluster's fixed CA text), recreates it when
deleted and restores it when edited. It writes as its own ServiceAccount,
``root-ca-cert-publisher``.
"""

from __future__ import annotations

from engine.api import errors
from engine.api.frozen import thaw
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

CONFIG_MAP_NAME = "kube-root-ca.crt"
DATA_KEY = "ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
DEFAULT_CA = ("-----BEGIN CERTIFICATE-----\n"
              "MIIDBTCCAe2gAwIBAgIIEngine0000000wDQYJKoZIhvcNAQELBQAwFTETMBEGA1UE\n"
              "AxMKa3ViZXJuZXRlczAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMBUx\n"
              "EzARBgNVBAMTCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK\n"
              "-----END CERTIFICATE-----\n")
"""What ``ca.crt`` holds when the cluster was not given a CA (a certificate-shaped text; nothing verifies it)."""


class RootCACertPublisher:
    name = "root-ca-cert-publisher"
    service_account = "root-ca-cert-publisher"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.root_ca = context.options.get("root_ca", DEFAULT_CA)
        self.queue = WorkQueue(context.loop, name="root_ca_cert_publisher")
        informers = context.informers
        self.namespaces = informers.informer("namespaces")
        self.config_maps = informers.informer("configmaps")
        self.namespaces.add_event_handler(on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new))
        self.config_maps.add_event_handler(on_update=lambda old, new: self._config_map_changed(new),
                                           on_delete=self._config_map_changed)
        self.workers = None

    def _enqueue(self, namespace: dict) -> None:
        self.queue.add(namespace["metadata"]["name"])

    def _config_map_changed(self, config_map: dict) -> None:
        obj = getattr(config_map, "obj", config_map)
        if obj["metadata"]["name"] == CONFIG_MAP_NAME:
            self.queue.add(obj["metadata"]["namespace"])

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, namespace_name: str) -> None:
        namespace = self.namespaces.indexer.get_by_key(namespace_name)
        if namespace is None or (namespace.get("status") or {}).get("phase") == "Terminating":
            return
        wanted = {DATA_KEY: self.root_ca}
        current = self.config_maps.indexer.get_by_key(f"{namespace_name}/{CONFIG_MAP_NAME}")
        if current is None:
            try:
                self.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": CONFIG_MAP_NAME, "namespace": namespace_name,
                                                 "annotations": {"kubernetes.io/description": DESCRIPTION}},
                                    "data": wanted})
            except errors.AlreadyExists:
                return
            return
        if current.get("data") == wanted and (current["metadata"].get("annotations") or {}).get(
                "kubernetes.io/description") == DESCRIPTION:
            return
        updated = thaw(current)
        updated["data"] = wanted
        updated["metadata"].setdefault("annotations", {})["kubernetes.io/description"] = DESCRIPTION
        self.client.update(updated)
