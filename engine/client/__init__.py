"""The client-go patterns: a client, shared informers, listers, a work queue, leader election, events.

One module per client-go part:

- ``client``: the clientset (``Client``): every call goes through the API server;
- ``cache``: the informer's ``Indexer`` of frozen objects, and the delete tombstone;
- ``informer``: ``SharedInformer`` (list, watch, relist on 410) and ``SharedInformerFactory``;
- ``lister``: ``Lister``, reads from an informer's cache;
- ``workqueue``: ``WorkQueue`` (de-duplicating, delaying, rate-limited) and ``run_workers``;
- ``leaderelection``: ``LeaderElector`` on a ``LeaseLock``;
- ``record``: ``EventRecorder``, which writes Events with client-go's correlation.
"""

from engine.client.cache import NAMESPACE_INDEX, DeletedFinalStateUnknown, Indexer, deletion_handling_key
from engine.client.client import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, Client
from engine.client.informer import HandlerRegistration, Reflector, SharedInformer, SharedInformerFactory
from engine.client.leaderelection import LeaderElectionRecord, LeaderElector, LeaseLock
from engine.client.lister import Lister
from engine.client.record import EventCorrelator, EventRecorder, object_reference
from engine.client.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    WorkQueue,
    Workers,
    default_controller_rate_limiter,
    run_workers,
)

__all__ = [
    "JSON_PATCH", "MERGE_PATCH", "NAMESPACE_INDEX", "STRATEGIC_MERGE_PATCH",
    "BucketRateLimiter", "Client", "DeletedFinalStateUnknown", "EventCorrelator", "EventRecorder",
    "HandlerRegistration", "Indexer", "ItemExponentialFailureRateLimiter", "LeaderElectionRecord",
    "LeaderElector", "LeaseLock", "Lister", "MaxOfRateLimiter", "RateLimiter", "Reflector", "SharedInformer",
    "SharedInformerFactory", "WorkQueue", "Workers", "default_controller_rate_limiter", "deletion_handling_key",
    "object_reference", "run_workers",
]
