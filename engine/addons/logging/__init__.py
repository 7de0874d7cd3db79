"""Cluster-level logging (EFK): fluent-bit on every node ships container logs to Elasticsearch.

    mapping           Elasticsearch's dynamic mapping, the standard analyzer, dates and date math
    index             one index: documents, inverted index, doc values, refresh, segments on the data path
    query             the query DSL (match, match_phrase, term(s), range, prefix, wildcard, exists, bool...)
    query_string      the search box's syntax (``stream:stderr AND "connection refused"``)
    search            ``_search`` / ``_count``: sorting, paging, total hits, terms and date_histogram aggregations
    elasticsearch     the Elasticsearch binary: REST API on 9200 (_bulk, _search, _count, _cat/indices...)
    tail              fluent-bit's tail input, the CRI parser, the position DB
    filter_kubernetes fluent-bit's kubernetes filter: pod metadata from the API server
    buffer            chunks on the filesystem, flushes, retries with backoff
    out_es            fluent-bit's es output: the _bulk body, OK / RETRY
    fluent_bit        the fluent-bit binary: its configuration, engine and HTTP server on 2020
    manifests         the add-on's objects (namespace ``logging``)
    store             ``LogStore``: Elasticsearch's API from outside, for notebooks, widgets and tests

Use::

    c = engine.Cluster(nodes=2, network="flannel")
    engine.addons.logging.install(c)          # the objects applied, the images published
    c.run(30)                                 # the store starts, the agents ship
    store = engine.addons.logging.LogStore(c)
    store.search('kubernetes.labels.app:web AND log:error')["hits"]["hits"]

Everything runs as pods and talks over the cluster's network; nothing here reaches into a component.
"""

from __future__ import annotations

from typing import Any

from engine.addons.logging.manifests import ES_IMAGE, FLUENT_BIT_IMAGE, NAMESPACE, manifests
from engine.addons.logging.store import LogStore

__all__ = ["ES_IMAGE", "FLUENT_BIT_IMAGE", "LogStore", "NAMESPACE", "install", "manifests", "register_images"]

ES_IMAGE_SIZE = 650_000_000          # the linux/amd64 image's compressed size, rounded
FLUENT_BIT_IMAGE_SIZE = 36_000_000


def register_images(registry: Any) -> None:
    """Publish the Elasticsearch and fluent-bit images into ``registry``."""
    from engine.addons.logging.elasticsearch import ElasticsearchProgram
    from engine.addons.logging.fluent_bit import FluentBitProgram
    registry.register(ES_IMAGE, ElasticsearchProgram, size=ES_IMAGE_SIZE,
                      entrypoint=["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"], cmd=["eswrapper"])
    registry.register(FLUENT_BIT_IMAGE, FluentBitProgram, size=FLUENT_BIT_IMAGE_SIZE,
                      entrypoint=["/fluent-bit/bin/fluent-bit"], cmd=["-c", "/fluent-bit/etc/fluent-bit.conf"])


def install(cluster: Any, *, node: str | None = None) -> None:
    """Install the logging add-on into ``cluster``, as an administrator applies its manifests.

    Publishes the two images into ``cluster.registry`` and applies ``manifests(node)``: the namespace
    ``logging``; Elasticsearch (a StatefulSet of one pod and the Service ``elasticsearch`` on 9200) keeping its
    indices on ``node``'s disk (``/var/lib/elasticsearch``; default: the last worker node), so the store
    survives its pod being deleted or restarted; and the fluent-bit DaemonSet on every node. Needs a cluster
    with a network add-on (``Cluster(network="flannel")`` or ``"calico"``): the agents reach the store, and
    the API server, through the cluster's network. Nothing runs until the cluster does (``cluster.run``):
    Elasticsearch takes about 15 s to start, the agents ship every second from then on.
    """
    if getattr(cluster, "fabric", None) is None:
        raise RuntimeError("the logging add-on needs a cluster network: create the cluster with "
                           "network='flannel' (or 'calico')")
    workers = [name for name in cluster.node_names if name != "control-plane"]
    register_images(cluster.registry)
    for obj in manifests(node or (workers or cluster.node_names)[-1]):
        cluster.apply(obj)
