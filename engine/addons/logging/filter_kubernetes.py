"""fluent-bit's ``kubernetes`` filter: add the pod's metadata, read from the API server, to each record.

The tag of a record from ``/var/log/containers`` ends with the file's name, which the kubelet made from the
pod: ``<pod>_<namespace>_<container>-<container id>.log``. The filter cuts ``Kube_Tag_Prefix``
(``kube.var.log.containers.``) off the tag, reads pod, namespace, container and container id from the rest
with the filter's own regular expression, and asks the API server for the pod
(``GET /api/v1/namespaces/<namespace>/pods/<pod>``, as the DaemonSet's ServiceAccount, whose ClusterRole
grants get/list/watch on pods and namespaces). It adds, under ``kubernetes``::

    pod_name, namespace_name, pod_id, labels, annotations, host, container_name, docker_id,
    container_hash, container_image

Answers are cached per pod and container (``Kube_Meta_Cache_TTL`` 0: for as long as the agent runs). When the
API server cannot be asked or the pod is gone, the record still gets what the file name says (pod_name,
namespace_name, container_name, docker_id), and the failure is not cached, so the next record asks again.
``Labels`` and ``Annotations`` (both on by default) choose whether those maps are added. What it never does:
change the record's ``log``, or write to the API server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from engine.api import errors

log = logging.getLogger(__name__)

TAG_PREFIX = "kube.var.log.containers."
TAG_REGEX = re.compile(r"^(?P<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)_"
                       r"(?P<namespace_name>[^_]+)_(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$")
"""fluent-bit's ``KUBE_TAG_TO_REGEX``."""


class KubernetesFilter:
    """``[FILTER] Name kubernetes``: ``filter(tag, records)`` returns the records with their metadata."""

    def __init__(self, client: Any, *, tag_prefix: str = TAG_PREFIX, labels: bool = True,
                 annotations: bool = True) -> None:
        self.client = client
        self.tag_prefix = tag_prefix
        self.labels = labels
        self.annotations = annotations
        self.cache: dict[tuple[str, str, str, str], dict] = {}
        self.api_requests = 0

    def metadata(self, tag: str) -> dict | None:
        """The ``kubernetes`` map for a tag, or None when the tag is not a container log's."""
        if not tag.startswith(self.tag_prefix):
            return None
        found = TAG_REGEX.match(tag[len(self.tag_prefix):])
        if found is None:
            return None
        ids = found.groupdict()
        key = (ids["namespace_name"], ids["pod_name"], ids["container_name"], ids["docker_id"])
        if key in self.cache:
            return self.cache[key]
        meta = {"pod_name": ids["pod_name"], "namespace_name": ids["namespace_name"]}
        pod = self._pod(ids["namespace_name"], ids["pod_name"])
        if pod is not None:
            meta.update(self._from_pod(pod, ids["container_name"]))
        meta["container_name"] = ids["container_name"]
        meta["docker_id"] = ids["docker_id"]
        if pod is not None:
            status = next((s for group in ("containerStatuses", "initContainerStatuses")
                           for s in pod.get("status", {}).get(group) or [] if s.get("name") == ids["container_name"]),
                          None)
            if status is not None:
                meta["container_hash"] = status.get("imageID", "")
                meta["container_image"] = status.get("image", "")
            self.cache[key] = meta
        return meta

    def _pod(self, namespace: str, name: str) -> dict | None:
        self.api_requests += 1
        try:
            return self.client.get("pods", name, namespace)
        except errors.ApiError as error:
            log.info("[filter:kubernetes] could not get meta for POD %s/%s: %s", namespace, name, error)
        return None

    def _from_pod(self, pod: dict, container: str) -> dict:
        meta = pod["metadata"]
        found: dict[str, Any] = {"pod_id": meta.get("uid", "")}
        if self.labels and meta.get("labels"):
            found["labels"] = dict(meta["labels"])
        if self.annotations and meta.get("annotations"):
            found["annotations"] = dict(meta["annotations"])
        found["host"] = pod.get("spec", {}).get("nodeName", "")
        return found

    def filter(self, tag: str, records: list[tuple[float, dict]]) -> list[tuple[float, dict]]:
        meta = self.metadata(tag)
        if meta is None:
            return records
        return [(when, {**record, "kubernetes": meta}) for when, record in records]
