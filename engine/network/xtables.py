"""xtables: one iptables rule, parsed from its command-line words and printed the way iptables-save prints it.

In Linux a rule is an IP header match (``-s``, ``-d``, ``-i``, ``-o``, ``-p``,
each optionally negated with ``!``), then match extensions loaded with ``-m``
(libxt_comment, libxt_tcp, libxt_multiport, libxt_statistic, ...), then one target (a chain to
jump or go to, or a target extension such as DNAT). iptables-save prints a
rule in that canonical order whatever order it was written in, with host
addresses as ``/32``, the ``--probability`` the kernel actually stored (an
integer out of 2^31, printed with 11 decimals), ``MARK --or-mark X`` as
``--set-xmark X/X`` and a comment quoted when it holds anything but letters,
digits, ``-`` and ``_``. ``parse_rule`` and ``Rule.text`` do exactly that, so
``kube-proxy``'s restore input and the saved text differ the way they do on
a real node.

``Rule.matches(packet, context)`` evaluates the IP header match and every
extension (``recent`` and ``statistic`` change state as they do in the
kernel: the former records sources, the latter draws from the seeded random).
This module never walks chains or decides verdicts: that is ``netfilter``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

TERMINAL_TARGETS = frozenset({"ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE"})
"""Built-in and extension targets; any other target name is a chain."""
EXTENSION_TARGETS = TERMINAL_TARGETS | {"MARK", "LOG"}
FLAG_OPTIONS = frozenset({"--set", "--rcheck", "--update", "--remove", "--reap", "--rsource", "--rdest",
                          "--random-fully", "--random", "--persistent"})
"""Options that take no value."""
PROBABILITY_SCALE = 0x80000000        # libxt_statistic stores probability * 2^31 as an integer


class RuleError(ValueError):
    """A rule iptables would refuse (unknown option, missing value)."""


class MatchContext(Protocol):
    """What a rule needs from its host to match: the time, the random source, the host's addresses."""

    def now(self) -> float: ...
    def draw31(self) -> int: ...
    def is_local(self, address: str) -> bool: ...
    def ipset_test(self, name: str, packet: Any, flags: list[str]) -> bool: ...
    def recent_table(self, name: str) -> dict[str, float]: ...


@dataclass
class Option:
    name: str                      # "--dport"
    values: list[str] = field(default_factory=list)
    negated: bool = False

    def text(self) -> str:
        values = [_save_string(v) for v in self.values] if self.name == "--comment" else self.values
        words = (["!"] if self.negated else []) + [self.name] + values
        return " ".join(words)


@dataclass
class Match:
    module: str                    # "comment", "tcp", "statistic", ...
    options: list[Option] = field(default_factory=list)

    def get(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def text(self) -> str:
        return " ".join([f"-m {self.module}"] + [o.text() for o in _canonical_options(self)])


@dataclass
class Rule:
    chain: str
    src: tuple[str, bool] | None = None          # (cidr, negated)
    dst: tuple[str, bool] | None = None
    in_iface: tuple[str, bool] | None = None
    out_iface: tuple[str, bool] | None = None
    proto: tuple[str, bool] | None = None
    matches: list[Match] = field(default_factory=list)
    target: str | None = None
    goto: bool = False
    target_options: list[Option] = field(default_factory=list)
    packets: int = 0
    """How many packets matched this rule (iptables -v's pkts column)."""

    # -- printing --------------------------------------------------------------
    def text(self) -> str:
        """This rule as iptables-save prints it: ``-A CHAIN -s .. -d .. -i .. -o .. -p .. -m ... -j ...``."""
        words = [f"-A {self.chain}"]
        for flag, value in (("-s", self.src), ("-d", self.dst), ("-i", self.in_iface), ("-o", self.out_iface),
                            ("-p", self.proto)):
            if value is not None:
                words.append(("! " if value[1] else "") + f"{flag} {value[0]}")
        words.extend(m.text() for m in self.matches)
        if self.target:
            words.append(f"{'-g' if self.goto else '-j'} {self.target}")
            words.extend(o.text() for o in _canonical_target(self))
        return " ".join(words)

    def target_option(self, name: str) -> str | None:
        option = next((o for o in self.target_options if o.name == name), None)
        return option.values[0] if option and option.values else None

    # -- matching --------------------------------------------------------------
    def matches_packet(self, packet: Any, context: MatchContext) -> bool:
        """The IP header match, then every extension in order (stateful ones act only if all before matched)."""
        if self.dst is not None and _in_cidr(packet.dst, self.dst[0]) == self.dst[1]:
            return False
        if self.src is not None and _in_cidr(packet.src, self.src[0]) == self.src[1]:
            return False
        if self.proto is not None:
            wanted = self.proto[0]
            if (wanted in ("all", "0") or wanted == str(packet.proto).lower()) == self.proto[1]:
                return False
        if self.in_iface is not None and _iface(getattr(packet, "in_iface", None), self.in_iface[0]) == \
                self.in_iface[1]:
            return False
        if self.out_iface is not None and _iface(getattr(packet, "out_iface", None), self.out_iface[0]) == \
                self.out_iface[1]:
            return False
        for match in self.matches:
            if not _match(match, packet, context):
                return False
        return True


# -- parsing -----------------------------------------------------------------------------

_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)')


def split_words(line: str) -> list[str]:
    """The shell words of one restore line (double quotes with backslash escapes, single quotes); fast
    for the common case of no quotes at all (iptables-restore's own tokenizer is as simple)."""
    if '"' not in line and "'" not in line:
        return line.split()
    words = []
    for double, single, bare in _WORD.findall(line):
        words.append(re.sub(r"\\(.)", r"\1", double) if double or (not single and not bare) else single or bare)
    return words


def parse_rule(words: list[str] | str, chain: str | None = None) -> Rule:
    """A rule from its words: ``-A CHAIN ...`` (or the words after the chain when ``chain`` is given)."""
    if isinstance(words, str):
        words = split_words(words)
    words = list(words)
    if chain is None:
        if len(words) < 2 or words[0] not in ("-A", "--append"):
            raise RuleError(f"expected -A CHAIN, got {' '.join(words[:2])!r}")
        chain, words = words[1], words[2:]
    rule = Rule(chain=chain)
    current: Match | None = None
    in_target = False
    negate = False
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "!":
            negate = True
            continue
        if word in ("-s", "--source", "--src", "-d", "--destination", "--dst", "-i", "--in-interface",
                    "-o", "--out-interface", "-p", "--protocol"):
            if i >= len(words):
                raise RuleError(f"option {word!r} requires an argument")
            value = words[i]
            i += 1
            attr = {"-s": "src", "--source": "src", "--src": "src", "-d": "dst", "--destination": "dst",
                    "--dst": "dst", "-i": "in_iface", "--in-interface": "in_iface", "-o": "out_iface",
                    "--out-interface": "out_iface", "-p": "proto", "--protocol": "proto"}[word]
            if attr in ("src", "dst"):
                value = _normalise_cidr(value)
            if attr == "proto":
                value = value.lower()
            setattr(rule, attr, (value, negate))
            negate = False
            continue
        if word in ("-m", "--match"):
            if i >= len(words):
                raise RuleError("-m requires a module name")
            current = Match(words[i])
            rule.matches.append(current)
            i += 1
            continue
        if word in ("-j", "--jump", "-g", "--goto"):
            if i >= len(words):
                raise RuleError(f"{word} requires a target")
            rule.target, rule.goto = words[i], word in ("-g", "--goto")
            in_target = True
            i += 1
            continue
        if not word.startswith("--"):
            raise RuleError(f"Bad argument `{word}'")
        values: list[str] = []
        if word not in FLAG_OPTIONS:
            while i < len(words) and not words[i].startswith("-") and words[i] != "!":
                values.append(words[i])
                i += 1
            if not values:
                raise RuleError(f"option {word!r} requires an argument")
        option = Option(word, values, negate)
        negate = False
        if in_target:
            rule.target_options.append(option)
            continue
        if current is None or (word in ("--dport", "--sport") and current.module not in ("tcp", "udp", "sctp")):
            if word in ("--dport", "--sport") and rule.proto and rule.proto[0] in ("tcp", "udp", "sctp"):
                current = Match(rule.proto[0])      # iptables loads the protocol's match implicitly
                rule.matches.append(current)
            else:
                raise RuleError(f"unknown option {word!r}")
        current.options.append(option)
    if negate:
        raise RuleError("dangling '!'")
    return rule


def _normalise_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise RuleError(f"host/network `{value}' not found") from exc
    return f"{network.network_address}/{network.prefixlen}"


def _save_string(value: str) -> str:
    """xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with \\ escapes."""
    if value and all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _canonical_options(match: Match) -> list[Option]:
    """The order and spelling libxt_<module>'s save function prints."""
    opts = match.options
    if match.module == "statistic":
        out = []
        for o in opts:
            if o.name == "--probability":
                stored = round(float(o.values[0]) * PROBABILITY_SCALE)
                out.append(Option(o.name, [f"{stored / PROBABILITY_SCALE:.11f}"], o.negated))
            else:
                out.append(o)
        return out
    if match.module == "recent":
        order = ["--set", "--rcheck", "--update", "--remove", "--seconds", "--reap", "--hitcount", "--rttl",
                 "--name", "--mask", "--rsource", "--rdest"]
        present = {o.name: o for o in opts}
        present.setdefault("--name", Option("--name", ["DEFAULT"]))
        present.setdefault("--mask", Option("--mask", ["255.255.255.255"]))
        if "--rdest" not in present:
            present.setdefault("--rsource", Option("--rsource"))
        return [present[n] for n in order if n in present]
    if match.module == "mark":
        return [Option(o.name, [_mark_value(o.values[0])], o.negated) if o.name == "--mark" else o for o in opts]
    if match.module == "multiport":
        return [Option(_MULTIPORT_SAVED.get(o.name, o.name), o.values, o.negated) for o in opts]
    return opts


_MULTIPORT_SAVED = {"--destination-ports": "--dports", "--source-ports": "--sports"}
"""libxt_multiport saves the long spellings short."""


def _mark_value(text: str) -> str:
    value, _, mask = text.partition("/")
    v = int(value, 0)
    return f"{v:#x}/{int(mask, 0):#x}" if mask else f"{v:#x}"


def _canonical_target(rule: Rule) -> list[Option]:
    if rule.target == "MARK":
        value, mask = mark_operation(rule)
        return [Option("--set-xmark", [f"{value:#x}/{mask:#x}"])]
    if rule.target == "REJECT" and not rule.target_options:
        return [Option("--reject-with", ["icmp-port-unreachable"])]
    return rule.target_options


def mark_operation(rule: Rule) -> tuple[int, int]:
    """The MARK target as the kernel keeps it: ``mark = (mark & ~mask) ^ value``."""
    option = rule.target_options[0] if rule.target_options else Option("--set-xmark", ["0x0/0x0"])
    raw = option.values[0]
    value_text, _, mask_text = raw.partition("/")
    value = int(value_text, 0)
    full = 0xFFFFFFFF
    if option.name == "--set-xmark":
        return value, int(mask_text, 0) if mask_text else full
    if option.name == "--set-mark":
        mask = int(mask_text, 0) if mask_text else full
        return value, mask | value
    if option.name == "--or-mark":
        return value, value
    if option.name == "--xor-mark":
        return value, 0
    if option.name == "--and-mark":
        return 0, (~value) & full
    raise RuleError(f"MARK: unknown option {option.name}")


# -- matching ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def _address(address: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(address))
    except ValueError:
        return None


@functools.lru_cache(maxsize=8192)
def _network(cidr: str) -> tuple[int, int]:
    network = ipaddress.IPv4Network(cidr, strict=False)
    return int(network.network_address), int(network.netmask)


def _in_cidr(address: str, cidr: str) -> bool:
    """IPv4 prefix match on integers (cached: every packet checks every rule's -s / -d)."""
    value = _address(address)
    if value is None:
        return False
    network, mask = _network(cidr)
    return value & mask == network


def _iface(name: str | None, pattern: str) -> bool:
    if name is None:
        return False
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else name == pattern


def _match(match: Match, packet: Any, context: MatchContext) -> bool:
    handler = _MATCHERS.get(match.module)
    if handler is None:
        raise RuleError(f"Couldn't load match `{match.module}'")
    return handler(match, packet, context)


def _negatable(option: Option, result: bool) -> bool:
    return result != option.negated


def _ports(spec: str, port: int) -> bool:
    low, _, high = spec.partition(":")
    return int(low or 0) <= port <= int(high or 65535) if high or ":" in spec else port == int(low)


def _l4(match: Match, packet: Any, context: MatchContext) -> bool:
    if str(packet.proto).lower() != match.module:
        return False
    for option in match.options:
        port = packet.dport if option.name in ("--dport", "--destination-port") else packet.sport
        if option.name in ("--dport", "--destination-port", "--sport", "--source-port"):
            if not _negatable(option, _ports(option.values[0], int(port or 0))):
                return False
    return True


def _multiport(match: Match, packet: Any, context: MatchContext) -> bool:
    """``-m multiport --dports 80,8080,9000:9100`` (and --sports, --ports: either port)."""
    for option in match.options:
        name = _MULTIPORT_SAVED.get(option.name, option.name)
        wanted = [int(packet.dport or 0)] if name == "--dports" else [int(packet.sport or 0)] \
            if name == "--sports" else [int(packet.dport or 0), int(packet.sport or 0)]
        specs = option.values[0].split(",")
        if not _negatable(option, any(_ports(spec, port) for spec in specs for port in wanted)):
            return False
    return True


def _statistic(match: Match, packet: Any, context: MatchContext) -> bool:
    mode = match.get("--mode")
    if mode is None or mode.values[0] != "random":
        raise RuleError("statistic: only --mode random is supported")
    option = match.get("--probability")
    stored = round(float(option.values[0]) * PROBABILITY_SCALE) if option else 0
    hit = context.draw31() < stored
    return hit != (option.negated if option else False)


def _recent(match: Match, packet: Any, context: MatchContext) -> bool:
    name = (match.get("--name") or Option("--name", ["DEFAULT"])).values[0]
    table = context.recent_table(name)
    address = packet.dst if match.get("--rdest") else packet.src
    now = context.now()
    seconds_opt = match.get("--seconds")
    seconds = float(seconds_opt.values[0]) if seconds_opt else None
    if match.get("--reap") and seconds is not None:
        for key in [k for k, seen in table.items() if now - seen > seconds]:
            del table[key]
    if match.get("--set"):
        table[address] = now
        return True
    seen = table.get(address)
    hit = seen is not None and (seconds is None or now - seen <= seconds)
    if hit and match.get("--update"):
        table[address] = now
    if hit and match.get("--remove"):
        del table[address]
    negated = any(o.negated for o in match.options if o.name in ("--rcheck", "--update", "--remove"))
    return hit != negated


def _addrtype(match: Match, packet: Any, context: MatchContext) -> bool:
    for option in match.options:
        address = packet.src if option.name == "--src-type" else packet.dst
        if option.values[0] != "LOCAL":
            raise RuleError(f"addrtype: only LOCAL is supported, got {option.values[0]}")
        if not _negatable(option, context.is_local(address)):
            return False
    return True


def _mark(match: Match, packet: Any, context: MatchContext) -> bool:
    option = match.get("--mark")
    value_text, _, mask_text = option.values[0].partition("/")
    mask = int(mask_text, 0) if mask_text else 0xFFFFFFFF
    return _negatable(option, (int(getattr(packet, "mark", 0) or 0) & mask) == int(value_text, 0))


def _conntrack(match: Match, packet: Any, context: MatchContext) -> bool:
    state = getattr(packet, "ctstate", None) or "NEW"
    for option in match.options:
        if option.name == "--ctstate":
            wanted = set(option.values[0].split(","))
            actual = {state} | ({"DNAT"} if getattr(packet, "ctstate_dnat", False) else set())
            if not _negatable(option, bool(wanted & actual)):
                return False
    return True


def _set(match: Match, packet: Any, context: MatchContext) -> bool:
    option = match.get("--match-set")
    name, flags = option.values[0], option.values[1].split(",")
    return _negatable(option, context.ipset_test(name, packet, flags))


_MATCHERS: dict[str, Callable[[Match, Any, MatchContext], bool]] = {
    "comment": lambda m, p, c: True,
    "tcp": _l4, "udp": _l4, "sctp": _l4,
    "statistic": _statistic,
    "multiport": _multiport,
    "recent": _recent,
    "addrtype": _addrtype,
    "mark": _mark,
    "conntrack": _conntrack,
    "set": _set,
}
