"""The hosts' network, reduced to what the control plane needs: addresses, listening ports, dialling.

The API server reaches a kubelet the way the real one does: it reads the
Node's ``InternalIP`` and ``daemonEndpoints.kubeletEndpoint.Port`` (10250)
and connects there. ``HostNetwork`` models exactly that and no more:

    listen(address, port, handler)   a server binds address:port (one at a time)
    close(address, port)             it stops listening
    dial(address, port) -> handler   a client connects: the handler, or
                                     ``ConnectionRefused`` (the real dial error)
    power_off(address) / power_on    a machine that is off answers nothing: a dial
                                     to its address times out (``DialTimeout``)

A handler is any object the server and its clients agree on (the kubelet
server answers ``handler.get(path, params)``). There are no packets, routes
or latency here: the networking layer builds those on top later.

``HostLocalIPAM`` is the other thing the hosts need before a CNI exists:
the host-local IPAM plugin, handing out pod IPs from a node's pod CIDR
(``10.244.1.0/24``: .1 is the bridge, pods get .2 upwards, released on CNI DEL).
"""

from __future__ import annotations

import ipaddress
from typing import Any


class ConnectionRefused(Exception):
    """``dial tcp ADDRESS:PORT: connect: connection refused``."""

    def __init__(self, address: str, port: int) -> None:
        super().__init__(f"dial tcp {address}:{port}: connect: connection refused")
        self.address = address
        self.port = port


class DialTimeout(ConnectionRefused):
    """``dial tcp ADDRESS:PORT: i/o timeout``: nothing answered (the machine is off). A kind of failed dial, so
    every caller that handles a refused dial handles it too, with Go's own words."""

    def __init__(self, address: str, port: int) -> None:
        super().__init__(address, port)
        self.args = (f"dial tcp {address}:{port}: i/o timeout",)


class HostNetwork:
    """Listening sockets of every host of one cluster, by (address, port)."""

    def __init__(self) -> None:
        self._listeners: dict[tuple[str, int], Any] = {}
        self._off: set[str] = set()
        """Addresses of machines that are powered off."""

    def listen(self, address: str, port: int, handler: Any) -> None:
        key = (address, int(port))
        if key in self._listeners and self._listeners[key] is not handler:
            raise OSError(f"listen tcp {address}:{port}: bind: address already in use")
        self._listeners[key] = handler

    def close(self, address: str, port: int, handler: Any = None) -> None:
        key = (address, int(port))
        if handler is None or self._listeners.get(key) is handler:
            self._listeners.pop(key, None)

    def power_off(self, address: str) -> None:
        """The machine at ``address`` is off: dials to it get no answer."""
        self._off.add(address)

    def power_on(self, address: str) -> None:
        self._off.discard(address)

    def dial(self, address: str, port: int) -> Any:
        if address in self._off:
            raise DialTimeout(address, int(port))
        handler = self._listeners.get((address, int(port)))
        if handler is None:
            raise ConnectionRefused(address, int(port))
        return handler


class HostLocalIPAM:
    """One node's pod addresses from its pod CIDR, lowest free first (CNI ``host-local``)."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr)
        self._hosts = list(self.network.hosts())[1:]    # the first host address is the bridge (cni0)
        self._used: dict[str, str] = {}                  # sandbox id -> address

    def add(self, sandbox_id: str) -> str:
        if sandbox_id in self._used:
            return self._used[sandbox_id]
        taken = set(self._used.values())
        for address in self._hosts:
            text = str(address)
            if text not in taken:
                self._used[sandbox_id] = text
                return text
        raise RuntimeError(f"failed to allocate for range 0: no IP addresses available in range set: {self.network}")

    def delete(self, sandbox_id: str) -> None:
        self._used.pop(sandbox_id, None)
