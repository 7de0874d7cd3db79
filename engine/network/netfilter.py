"""Netfilter: one network namespace's iptables tables, loaded with iptables-restore and walked by packets.

In Linux every network namespace has the tables ``filter``, ``nat``,
``mangle`` and ``raw``, each with built-in chains (the hooks) and user
chains. kube-proxy and the CNI plugins write them with ``iptables-restore``
(kube-proxy: one restore of ``*filter`` and ``*nat`` per sync, with
``--noflush`` so other programs' chains survive) and read them back with
``iptables-save``. This module keeps those tables:

- ``restore(text, noflush)`` parses iptables-restore input (``*table``,
  ``:CHAIN POLICY [p:b]``, ``-A``, ``-I``, ``-D``, ``-N``, ``-X``, ``-F``,
  ``COMMIT``) and applies each table at its ``COMMIT`` atomically: on any
  error nothing of that table changes and ``RestoreError`` names the line,
  as ``iptables-restore: line N failed`` does. Without ``noflush`` each
  table named is flushed first; a chain line of an existing user chain
  flushes it (that is how kube-proxy rewrites a chain).
- ``save()`` prints ``iptables-save`` text (see ``xtables`` for the rule
  spelling); ``ensure_chain`` / ``ensure_rule`` are ``iptables -N`` and
  ``iptables -C || iptables -I/-A``, as kube-proxy's jump rules use.
- ``traverse(table, chain, packet)`` walks a built-in chain: rules in order,
  jumps and gotos into user chains, RETURN, the chain's policy at the end;
  it updates ``packet.mark`` (MARK) and the ``recent`` lists, draws
  ``statistic`` from the seeded random, and returns a ``Verdict``. It never
  rewrites addresses: the host applies DNAT / SNAT / MASQUERADE and keeps
  them in conntrack (only a flow's first packet sees the nat table).
"""

from __future__ import annotations

import random as _random
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.network.ipset import IPSets
from engine.network.xtables import EXTENSION_TARGETS, Rule, RuleError, mark_operation, parse_rule, split_words

BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
TABLE_ORDER = ("raw", "mangle", "filter", "nat")
MAX_JUMPS = 10_000                  # a loop of jumps is a bug in the rules, not a reason to hang


class RestoreError(Exception):
    """iptables-restore refused its input; nothing of the failing table was applied."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"iptables-restore: line {line} failed: {message}")
        self.line = line


@dataclass
class Chain:
    name: str
    policy: str | None = None        # ACCEPT / DROP for built-in chains, None for user chains
    rules: list[Rule] = field(default_factory=list)


@dataclass
class Table:
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)

    def copy(self) -> "Table":
        """A working copy for a restore: new chain lists, the same (never mutated) rules."""
        return Table(self.name, {n: Chain(c.name, c.policy, list(c.rules)) for n, c in self.chains.items()})

    @classmethod
    def empty(cls, name: str) -> "Table":
        return cls(name, {c: Chain(c, "ACCEPT") for c in BUILTIN_CHAINS[name]})


@dataclass
class Verdict:
    """What a packet's walk decided; addresses are the host's to rewrite."""

    action: str = "ACCEPT"                      # ACCEPT | DROP | REJECT
    dnat: tuple[str, int] | None = None
    masquerade: bool = False
    snat: str | None = None
    trace: list[str] = field(default_factory=list)


class Netfilter:
    """The iptables tables of one network namespace (a node's, with hostNetwork pods in it)."""

    def __init__(self, clock: Callable[[], float], random: _random.Random, *,
                 is_local: Callable[[str], bool] | None = None) -> None:
        self.clock = clock
        self.random = random
        self.is_local_address = is_local or (lambda address: False)
        """addrtype LOCAL: the host says which addresses are its own (set by the Host)."""
        self.ipsets = IPSets()
        self.tables: dict[str, Table] = {}
        self.recent: dict[str, dict[str, float]] = {}
        self.restores = 0
        """How many iptables-restore runs succeeded (kube-proxy does one per sync)."""

    # -- tables ----------------------------------------------------------------------
    def table(self, name: str) -> Table:
        if name not in BUILTIN_CHAINS:
            raise RuleError(f"can't initialize iptables table `{name}': Table does not exist")
        if name not in self.tables:
            self.tables[name] = Table.empty(name)
        return self.tables[name]

    def chain(self, table: str, chain: str) -> Chain | None:
        return self.table(table).chains.get(chain)

    def rules(self, table: str, chain: str) -> list[Rule]:
        found = self.chain(table, chain)
        return list(found.rules) if found else []

    # -- iptables commands -----------------------------------------------------------
    def ensure_chain(self, table: str, chain: str) -> bool:
        """``iptables -t TABLE -N CHAIN`` unless it exists; True if it existed."""
        chains = self.table(table).chains
        if chain in chains:
            return True
        chains[chain] = Chain(chain)
        return False

    def ensure_rule(self, position: str, table: str, chain: str, args: list[str]) -> bool:
        """``iptables -C`` then ``-I`` (position "prepend") or ``-A``; True if the rule was already there."""
        rule = parse_rule(args, chain=chain)
        target = self.chain(table, chain)
        if target is None:
            raise RuleError(f"iptables: No chain/target/match by that name ({table}/{chain})")
        if any(r.text() == rule.text() for r in target.rules):
            return True
        if position == "prepend":
            target.rules.insert(0, rule)
        else:
            target.rules.append(rule)
        return False

    # -- iptables-restore / iptables-save --------------------------------------------
    def restore(self, text: str, noflush: bool = False) -> None:
        """iptables-restore: apply each ``*table`` ... ``COMMIT`` block atomically."""
        working: Table | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("*"):
                    if working is not None:
                        raise RuleError("no COMMIT before the next table")
                    name = line[1:].strip()
                    working = self.table(name).copy()
                    if not noflush:
                        working.chains = {c: Chain(c, working.chains[c].policy) for c in BUILTIN_CHAINS[name]}
                    continue
                if working is None:
                    raise RuleError("no table specified")
                if line == "COMMIT":
                    self._check(working)
                    self.tables[working.name] = working
                    working = None
                    continue
                if line.startswith(":"):
                    self._chain_line(working, line)
                    continue
                self._command(working, split_words(line))
            except (RuleError, ValueError, IndexError) as exc:
                raise RestoreError(number, str(exc)) from exc
        if working is not None:
            raise RestoreError(len(text.splitlines()), "no COMMIT at the end of the input")
        self.restores += 1

    def _chain_line(self, table: Table, line: str) -> None:
        parts = line[1:].split()
        name, policy = parts[0], parts[1] if len(parts) > 1 else "-"
        if name in BUILTIN_CHAINS[table.name]:
            if policy != "-":
                table.chains[name].policy = policy
            return
        if policy != "-":
            raise RuleError(f"can't set a policy on user chain {name}")
        table.chains[name] = Chain(name)            # creates it, or flushes the existing one

    def _command(self, table: Table, words: list[str]) -> None:
        op = words[0]
        if op in ("-A", "--append", "-I", "--insert", "-D", "--delete"):
            chain = table.chains.get(words[1]) if len(words) > 1 else None
            if chain is None:
                raise RuleError(f"Chain '{words[1] if len(words) > 1 else ''}' does not exist")
            rest = words[2:]
            if op in ("-I", "--insert"):
                index = int(rest.pop(0)) - 1 if rest and rest[0].isdigit() else 0
                chain.rules.insert(index, parse_rule(rest, chain=chain.name))
            elif op in ("-D", "--delete"):
                if len(rest) == 1 and rest[0].isdigit():
                    del chain.rules[int(rest[0]) - 1]
                    return
                text = parse_rule(rest, chain=chain.name).text()
                index = next((i for i, r in enumerate(chain.rules) if r.text() == text), None)
                if index is None:
                    raise RuleError("Bad rule (does a matching rule exist in that chain?)")
                del chain.rules[index]
            else:
                chain.rules.append(parse_rule(rest, chain=chain.name))
        elif op in ("-N", "--new-chain"):
            if words[1] in table.chains:
                raise RuleError(f"Chain '{words[1]}' already exists")
            table.chains[words[1]] = Chain(words[1])
        elif op in ("-F", "--flush"):
            names = [words[1]] if len(words) > 1 else list(table.chains)
            for name in names:
                if name not in table.chains:
                    raise RuleError(f"Chain '{name}' does not exist")
                table.chains[name].rules = []
        elif op in ("-X", "--delete-chain"):
            names = [words[1]] if len(words) > 1 else [c for c, v in table.chains.items() if v.policy is None]
            for name in names:
                chain = table.chains.get(name)
                if chain is None or chain.policy is not None:
                    raise RuleError(f"Can't delete chain '{name}': no such user chain")
                del table.chains[name]
        elif op in ("-P", "--policy"):
            table.chains[words[1]].policy = words[2]
        else:
            raise RuleError(f"unknown command {op!r}")

    def _check(self, table: Table) -> None:
        """At COMMIT: every jump goes to an existing chain or a known target; deleted chains are unused."""
        for chain in table.chains.values():
            for rule in chain.rules:
                target = rule.target
                if target and target not in table.chains and target not in EXTENSION_TARGETS:
                    raise RuleError(f"Couldn't load target `{target}':No such file or directory")

    def save(self, tables: tuple[str, ...] | None = None) -> str:
        """iptables-save: each table's chain lines (built-ins, then user chains by name) and rules."""
        lines: list[str] = []
        for name in TABLE_ORDER:
            if name not in self.tables or (tables is not None and name not in tables):
                continue
            table = self.tables[name]
            ordered = _chain_order(table)
            lines.append(f"*{name}")
            for chain in ordered:
                lines.append(f":{chain.name} {chain.policy or '-'} [0:0]")
            for chain in ordered:
                lines.extend(rule.text() for rule in chain.rules)
            lines.append("COMMIT")
        return "\n".join(lines) + ("\n" if lines else "")

    # -- a packet's walk ---------------------------------------------------------------
    def traverse(self, table: str, chain: str, packet: Any) -> Verdict:
        """Walk ``chain`` (a built-in chain) of ``table`` with ``packet``; see the module docstring."""
        tables = self.table(table)
        verdict = Verdict()
        context = _Context(self)
        stack: list[tuple[Chain, int]] = []
        current, index = tables.chains[chain], 0
        jumps = 0
        while True:
            if index >= len(current.rules):
                if stack:
                    current, index = stack.pop()
                    continue
                verdict.action = current.policy or "ACCEPT"
                return verdict
            rule = current.rules[index]
            index += 1
            if not rule.matches_packet(packet, context):
                continue
            rule.packets += 1
            verdict.trace.append(rule.text())
            target = rule.target
            if target is None:
                continue
            if target in tables.chains:
                jumps += 1
                if jumps > MAX_JUMPS:
                    raise RuleError(f"too many jumps walking {table}/{chain}: a loop in the rules")
                if not rule.goto:
                    stack.append((current, index))
                current, index = tables.chains[target], 0
                continue
            if target == "RETURN":
                if stack:
                    current, index = stack.pop()
                    continue
                verdict.action = current.policy or "ACCEPT"
                return verdict
            if target == "MARK":
                value, mask = mark_operation(rule)
                packet.mark = ((int(packet.mark or 0) & ~mask) ^ value) & 0xFFFFFFFF
                continue
            if target == "LOG":
                continue
            if target in ("ACCEPT", "DROP", "REJECT"):
                verdict.action = target
                return verdict
            if target == "DNAT":
                destination = rule.target_option("--to-destination") or ""
                address, _, port = destination.partition(":")
                verdict.dnat = (address, int(port) if port else int(packet.dport or 0))
                return verdict
            if target == "SNAT":
                verdict.snat = (rule.target_option("--to-source") or "").partition(":")[0]
                return verdict
            if target == "MASQUERADE":
                verdict.masquerade = True
                return verdict
            raise RuleError(f"Couldn't load target `{target}'")

    # -- iptables -L style counters ----------------------------------------------------
    def counters(self, table: str) -> list[tuple[int, str]]:
        """(packets, rule text) for every rule of ``table``, in save order."""
        return [(rule.packets, rule.text()) for chain in _chain_order(self.table(table)) for rule in chain.rules]


class _Context:
    """What xtables matches ask of the namespace: time, randomness, local addresses, ipsets, recent lists."""

    def __init__(self, netfilter: Netfilter) -> None:
        self._netfilter = netfilter

    def now(self) -> float:
        return self._netfilter.clock()

    def draw31(self) -> int:
        return self._netfilter.random.getrandbits(31)

    def is_local(self, address: str) -> bool:
        return self._netfilter.is_local_address(address)

    def ipset_test(self, name: str, packet: Any, flags: list[str]) -> bool:
        return self._netfilter.ipsets.test(name, packet, flags)

    def recent_table(self, name: str) -> dict[str, float]:
        return self._netfilter.recent.setdefault(name, {})


def _chain_order(table: Table) -> list[Chain]:
    builtins = [table.chains[c] for c in BUILTIN_CHAINS[table.name]]
    users = sorted((c for c in table.chains.values() if c.policy is None), key=lambda c: c.name)
    return builtins + users
