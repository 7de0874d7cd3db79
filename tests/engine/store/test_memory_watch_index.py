"""MemoryStore's watcher index: an event reaches exactly the watchers whose range holds its key, whatever the
prefixes (ending in "/" or not, nested, empty) and however watchers come and go between writes."""

from __future__ import annotations

import random

from engine.sim.loop import Loop
from engine.store.memory import MemoryStore
from engine.store.types import prefix_end

PREFIXES = ["", "/", "/registry/", "/registry/pods/", "/registry/pods/default/", "/registry/pods/default/web",
            "/registry/pods/default/web-1", "/registry/pods/de", "/registry/events/", "/registry/events/kube-system/",
            "/reg", "web", "/registry/pods/default/web/x"]
KEYS = ["/registry/pods/default/web", "/registry/pods/default/web-1", "/registry/pods/default/web-12",
        "/registry/pods/default/db", "/registry/pods/dev/web", "/registry/events/default/web.1",
        "/registry/events/kube-system/x.2", "/registry/pods/default/web/x", "/registry/pods/", "/other", "web2",
        "/registry/pods/default/"]


def test_each_write_reaches_the_watchers_whose_prefix_it_has() -> None:
    store = MemoryStore(Loop(0))
    rng = random.Random(3)
    seen: dict[int, list[str]] = {}
    watchers: dict[int, tuple[str, object]] = {}
    for step in range(300):
        if rng.random() < 0.3 or not watchers:
            prefix = rng.choice(PREFIXES)
            number = step

            def record(events, number=number) -> None:
                seen.setdefault(number, []).extend(event.kv.key for event in events)
            watchers[number] = (prefix, store.watch(prefix, prefix_end(prefix), callback=record))
        elif rng.random() < 0.2:
            number = rng.choice(sorted(watchers))
            watchers.pop(number)[1].cancel()
        key = rng.choice(KEYS)
        seen.clear()
        store.put(key, b"v")
        expected = {number for number, (prefix, _) in watchers.items() if key.startswith(prefix)}
        assert set(seen) == expected, (key, step)
        assert all(keys == [key] for keys in seen.values())
