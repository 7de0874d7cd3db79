"""Object metadata helpers: virtual timestamps, uids, generated names, keys and owners.

Every object's ``metadata`` follows ObjectMeta. Times are RFC 3339 strings of
*virtual* time, counted from a fixed epoch so the same seed always stamps the
same dates; uids and generated name suffixes come from the cluster's seeded
random source, never from the operating system.
"""

from __future__ import annotations

import datetime as _dt
import functools
import random
from typing import Any

EPOCH = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
"""Virtual time 0. Chosen once; the date itself carries no meaning."""

# apimachinery's rand.String alphabet: no vowels (no words) and no confusable characters.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATE_NAME_SUFFIX = 5


def timestamp(now: float) -> str:
    """RFC 3339 with seconds, as metav1.Time serialises (``2025-01-01T00:00:05Z``)."""
    return _timestamp(int(now))


@functools.lru_cache(maxsize=4096)
def _timestamp(seconds: int) -> str:
    return (EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_timestamp(now: float) -> str:
    """RFC 3339 with microseconds, as metav1.MicroTime serialises (Leases, Events)."""
    moment = EPOCH + _dt.timedelta(seconds=now)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> float:
    """The virtual time of an RFC 3339 timestamp written by ``timestamp`` or ``micro_timestamp``."""
    cleaned = text.replace("Z", "+00:00")
    moment = _dt.datetime.fromisoformat(cleaned)
    return (moment - EPOCH).total_seconds()


_UUID_V4_CLEAR = ~((0xc000 << 48) | (0xf000 << 64))
_UUID_V4_SET = (0x8000 << 48) | (4 << 76)


def new_uid(rng: random.Random) -> str:
    """A version-4 UUID drawn from the cluster's seeded random source.

    The text of ``uuid.UUID(int=rng.getrandbits(128), version=4)``: the variant and version bits set as
    ``uuid.UUID`` sets them, without its constructor's checks (a 128-bit draw needs none).
    """
    digits = "%032x" % ((rng.getrandbits(128) & _UUID_V4_CLEAR) | _UUID_V4_SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def random_suffix(rng: random.Random, length: int = GENERATE_NAME_SUFFIX) -> str:
    """The random tail of a generated name (``web-7d4b9c8f5-``+``x2kq9``)."""
    return "".join(rng.choice(_NAME_ALPHABET) for _ in range(length))


def object_key(obj: dict[str, Any]) -> str:
    """``namespace/name`` (or ``name`` for cluster-scoped objects): client-go's MetaNamespaceKeyFunc."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "")
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str | None, str]:
    """Inverse of ``object_key``: ``("default", "web")`` or ``(None, "node-1")``."""
    if "/" in key:
        namespace, name = key.split("/", 1)
        return namespace, name
    return None, key


def owner_reference(owner: dict[str, Any], *, controller: bool = True,
                    block_owner_deletion: bool = True) -> dict[str, Any]:
    """An ownerReference pointing at ``owner`` (metav1.NewControllerRef)."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block_owner_deletion,
    }
