"""The simulated cloud's request path: every call goes through ``SimCloudBase.call``.

A real cloud API call takes time, counts against the account's request
quota, and sometimes fails. ``call(operation, action)`` does the same on
the cluster's virtual clock, in this order:

1. an injected fault for this operation (``inject``) fires first: an error
   (nothing done) or a timeout (the action *is* done, the caller is told it
   timed out, as happens when a response is lost);
2. the request quota: EC2-style token buckets, one for describe calls and
   one for mutating calls; an empty bucket raises ``RequestLimitExceeded``
   with the seconds until the next token (HTTP 429 ``Retry-After``);
3. the action runs; its effect on slow resources (instances booting, disks
   attaching, load balancers provisioning) completes ``latency`` seconds
   later through the loop, so callers see ``pending`` / ``attaching`` /
   ``provisioning`` states first and must poll, as with a real cloud.

Every call is recorded in ``calls`` (time, operation, outcome) for views
and tests. Randomness (ids, addresses, latency jitter) comes from the
cloud's own ``random.Random``, seeded from the loop's, so the same cluster
seed gives the same cloud. It never touches the cluster: the cloud does not
know Kubernetes exists; the cloud-controller-manager calls it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from engine.client.workqueue import TokenBucket
from engine.cloud.provider.errors import CloudError, InternalError, RequestLimitExceeded, RequestTimeout
from engine.sim.loop import Loop

log = logging.getLogger(__name__)

T = TypeVar("T")

DESCRIBE_QPS, DESCRIBE_BURST = 20.0, 100
"""EC2's non-mutating request bucket: 100 tokens, refilled at 20 a second."""
MUTATE_QPS, MUTATE_BURST = 5.0, 200
"""EC2's mutating request bucket: 200 tokens, refilled at 5 a second."""
INSTANCE_TERMINATED = "instance-terminated"
"""``inject``'s pseudo-operation: an instance deleted behind the cluster's back."""
TIMEOUT_SECONDS = 30.0
"""How long a caller waits before giving up on a call (the SDK's default HTTP timeout is about this)."""

LATENCY: dict[str, float] = {
    "RunInstances": 30.0,          # an instance boots: pending -> running
    "StopInstances": 10.0,
    "StartInstances": 20.0,
    "TerminateInstances": 15.0,    # shutting-down -> terminated
    "CreateLoadBalancer": 5.0,     # provisioning -> active
    "CreateVolume": 2.0,           # creating -> available
    "AttachVolume": 3.0,           # attaching -> attached
    "DetachVolume": 3.0,           # detaching -> detached
}
"""Seconds until a slow operation's effect is complete (jittered +-20% by the cloud's random)."""


@dataclass(frozen=True)
class CloudCall:
    """One API call as the cloud saw it."""

    time: float
    operation: str
    outcome: str          # "ok" or the error code


@dataclass
class _Fault:
    operation: str
    remaining: int
    error: str | None
    timeout: bool


class SimCloudBase:
    """Request path, fault injection and delayed effects shared by the cloud's services."""

    def __init__(self, loop: Loop, *, describe_rate: tuple[float, int] = (DESCRIBE_QPS, DESCRIBE_BURST),
                 mutate_rate: tuple[float, int] = (MUTATE_QPS, MUTATE_BURST),
                 latency: dict[str, float] | None = None) -> None:
        self.loop = loop
        self.random = random.Random(loop.random.getrandbits(64))
        self.latency = {**LATENCY, **(latency or {})}
        self._describe = TokenBucket(loop, *describe_rate)
        self._mutate = TokenBucket(loop, *mutate_rate)
        self._faults: list[_Fault] = []
        self.calls: list[CloudCall] = []

    # -- fault injection ------------------------------------------------------
    def inject(self, operation: str, *, error: str | None = "InternalError", times: int = 1,
               timeout: bool = False, instance: str | None = None) -> None:
        """Make the next ``times`` calls of ``operation`` (or ``"*"``, any call) fail.

        ``error``: the error code raised (nothing is done); ``timeout=True``: the call takes effect but
        the caller gets ``RequestTimeout``. Faults queue up in the order they were injected.
        ``inject("instance-terminated", instance="node-2")``: someone deletes that instance (a name or
        an id) in the cloud's console, behind the cluster's back: no fault, it just happens.
        """
        if operation == INSTANCE_TERMINATED:
            self._terminate_behind_the_back(instance or "")   # the compute service's (SimCloud mixes it in)
            return
        self._faults.append(_Fault(operation, times, None if timeout else error, timeout))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, operation: str) -> _Fault | None:
        for fault in self._faults:
            if fault.operation in (operation, "*") and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- the request path ----------------------------------------------------
    def call(self, operation: str, action: Callable[[], T]) -> T:
        """Run one API call through faults, the request quota and the action (see the module docstring)."""
        fault = self._take_fault(operation)
        if fault is not None and not fault.timeout:
            self._record(operation, fault.error or "InternalError")
            if fault.error == "RequestLimitExceeded":
                raise RequestLimitExceeded(operation, 1.0)
            raise InternalError(fault.error or "InternalError",
                                "An internal error has occurred. Retry your request.")
        bucket = self._describe if operation.startswith(("Describe", "List", "Get")) else self._mutate
        if not bucket.try_accept():
            self._record(operation, "RequestLimitExceeded")
            raise RequestLimitExceeded(operation, (1.0 - bucket.tokens) / bucket.qps)
        try:
            result = action()
        except CloudError as error:
            self._record(operation, error.code)
            raise
        if fault is not None:
            self._record(operation, "RequestTimeout")
            raise RequestTimeout(operation, TIMEOUT_SECONDS)
        self._record(operation, "ok")
        return result

    def _record(self, operation: str, outcome: str) -> None:
        self.calls.append(CloudCall(self.loop.now, operation, outcome))
        log.debug("cloud %s: %s", operation, outcome)

    def later(self, operation: str, effect: Callable[..., Any], *args: Any) -> None:
        """Complete ``effect`` after the operation's latency (with +-20% seeded jitter)."""
        base = self.latency.get(operation, 0.0)
        delay = base * self.random.uniform(0.8, 1.2) if base else 0.0
        self.loop.call_later(delay, effect, *args, label=f"cloud {operation}")

    def calls_of(self, operation: str) -> list[CloudCall]:
        return [c for c in self.calls if c.operation == operation]
