"""busybox ``ping``: ICMP echo through the packet model, printed as busybox prints it.

``ping [-c COUNT] [-W SEC] [-w SEC] HOST`` resolves HOST (``ctx.resolve``),
then sends one echo request a second (``ctx.ping``: the pod's kernel sends
it through the node's routes, the overlay and netfilter; the kernel of the
namespace it reaches answers). Each reply prints
``64 bytes from IP: seq=N ttl=T time=X ms`` (T is 64 less the routers the
reply crossed: 64 from a pod on the same node, 62 across the overlay).
After the last request it waits up to ``-W`` seconds (10) for missing
replies, then prints the statistics; exit status 0 if any reply came, 1
otherwise. A Service's ClusterIP never answers in iptables mode: kube-proxy
DNATs only TCP, UDP and SCTP, so the echo request wanders off through the
node's default route and is lost (``100% packet loss``). Without ``-c`` and
``-w`` ping runs until killed; run to completion beside a process
(``kubectl exec``, which has no Ctrl-C here) it stops after
``UNBOUNDED_IN_EXEC`` requests. The round-trip times are modelled
(deterministic, a few hundred microseconds a router).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

if TYPE_CHECKING:
    from engine.runtime.programs.shell import Shell

DEFAULT_WAIT = 10.0
"""busybox's MAXWAIT: seconds -W waits for a reply after the last request."""
UNBOUNDED_IN_EXEC = 100


def ping(shell: "Shell", argv: list[str]) -> Generator[float, None, int]:
    count, wait, deadline, host = _options(shell, argv[1:])
    if host is None:
        shell.write_err("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\n"
                        "Usage: ping [OPTIONS] HOST\n")
        return 1
    addresses = [host] if _is_address(host) else (shell.ctx.resolve(host) if shell.ctx.resolve else [])
    if not addresses:
        shell.write_err(f"ping: bad address '{host}'\n")
        return 1
    address = addresses[0]
    if count is None and deadline is None and shell.capture:
        count = UNBOUNDED_IN_EXEC
    shell.write(f"PING {host} ({address}): 56 data bytes\n")
    sent, times, elapsed = 0, [], 0.0
    while (count is None or sent < count) and (deadline is None or elapsed < deadline):
        answer = shell.ctx.ping(address, sent) if shell.ctx.ping is not None else {"error": "unreachable"}
        if answer.get("error") == "unreachable":
            shell.write_err("ping: sendto: Network unreachable\n")
            return 1
        sent += 1
        if "ttl" in answer:
            ttl = int(answer["ttl"])
            rtt = 0.045 + 0.28 * (64 - ttl) + 0.001 * (sent * 7 % 11)
            times.append(rtt)
            shell.write(f"64 bytes from {address}: seq={sent - 1} ttl={ttl} time={rtt:.3f} ms\n")
        if count is not None and sent >= count:
            break
        yield 1.0
        elapsed += 1.0
    if len(times) < sent:                  # missing replies: wait for them until -W (or the deadline)
        pause = wait if deadline is None else max(0.0, min(wait, deadline - elapsed))
        if pause:
            yield pause
    shell.write(f"\n--- {host} ping statistics ---\n")
    loss = (sent - len(times)) * 100 // sent if sent else 0
    shell.write(f"{sent} packets transmitted, {len(times)} packets received, {loss}% packet loss\n")
    if times:
        shell.write(f"round-trip min/avg/max = {min(times):.3f}/{sum(times) / len(times):.3f}/"
                    f"{max(times):.3f} ms\n")
    return 0 if times else 1


def _options(shell: "Shell", args: list[str]) -> tuple[int | None, float, float | None, str | None]:
    count, wait, deadline, host = None, DEFAULT_WAIT, None, None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-c", "-W", "-w") and index + 1 < len(args):
            value = args[index + 1]
            if arg == "-c":
                count = int(value)
            elif arg == "-W":
                wait = float(value)
            else:
                deadline = float(value)
            index += 2
            continue
        if arg.startswith("-c") and arg[2:].isdigit():
            count = int(arg[2:])
        elif not arg.startswith("-"):
            host = arg
        index += 1
    return count, wait, deadline, host


def _is_address(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)
