"""Raft, small enough to watch: the consensus protocol behind etcd, as a deterministic model on the virtual clock.

etcd's members agree on one log of writes with Raft (Ongaro and Ousterhout, "In Search of an Understandable
Consensus Algorithm", 2014; etcd's ``raft`` package). This model keeps the parts the etcd chapter teaches:

- **Terms and elections.** Time is cut into terms, each with at most one leader. A follower that hears
  nothing from a leader for its election timeout (randomised between ``election_timeout`` and twice that,
  from the loop's seeded random, as etcd does) becomes a candidate in the next term and asks every peer
  for its vote (``RequestVote``). A member votes once per term, and only for a candidate whose log is at
  least as up to date as its own; a candidate with votes from a majority becomes leader.
- **Log replication.** The leader appends each proposed command to its log and sends it in
  ``AppendEntries`` (also its heartbeat, every ``heartbeat`` seconds) with the index and term of the entry
  before it; a follower accepts only when its log matches there, else the leader backs up and resends.
- **Commit by quorum.** An entry of the leader's term is committed once a majority holds it; everything
  before it is then committed too. A new leader appends an empty entry of its term for that reason.
- **Higher terms win.** Any member that sees a message of a higher term adopts it and becomes a follower:
  a stale leader cut off by a partition steps down the moment it hears from the new term.

    raft = RaftModel(["etcd-0", "etcd-1", "etcd-2"], loop=Loop(seed=0))
    raft.run(2.0)                     # an election happens
    raft.leader(); raft.propose("x=1"); raft.step()
    raft.partition({"etcd-0"}, {"etcd-1", "etcd-2"}); raft.heal(); raft.stop("etcd-1"); raft.start("etcd-1")
    raft.in_flight                    # the messages on the wire, each with its delivery time

Promises: the same seed and the same calls give the same history (every timer and message is a loop
timer; nothing reads the wall clock); ``violations`` stays empty, because the model checks Raft's safety
properties as it runs (one leader per term, a committed entry never changes or disappears from a leader).
What it leaves out: persistence to disk, snapshots, membership changes, pre-vote, and read requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engine.sim.loop import Loop, Timer

Role = Literal["follower", "candidate", "leader"]
HEARTBEAT = 0.1
"""Seconds between a leader's heartbeats (etcd's --heartbeat-interval, 100 ms)."""
ELECTION_TIMEOUT = 1.0
"""A follower's patience before it starts an election (etcd's --election-timeout, 1000 ms)."""
LATENCY = (0.01, 0.03)
"""Seconds a message spends on the wire, drawn from the loop's random source."""


@dataclass(frozen=True)
class Entry:
    term: int
    command: str                         # "" for the empty entry a new leader appends


@dataclass(eq=False)
class Message:
    kind: Literal["RequestVote", "Vote", "AppendEntries", "AppendResult"]
    source: str
    target: str
    term: int
    sent: float
    arrives: float
    last_index: int = 0                  # RequestVote: the candidate's last log entry; AppendEntries: prev index
    last_term: int = 0
    entries: tuple[Entry, ...] = ()
    commit: int = 0                      # AppendEntries: the leader's commit index
    granted: bool = False                # Vote / AppendResult
    match: int = 0                       # AppendResult: the follower's log matches up to here
    timer: Timer | None = None

    def describe(self) -> str:
        if self.kind == "RequestVote":
            return f"RequestVote(term {self.term}, last log {self.last_index}@{self.last_term})"
        if self.kind == "Vote":
            return f"Vote(term {self.term}, {'granted' if self.granted else 'refused'})"
        if self.kind == "AppendEntries":
            what = f"{len(self.entries)} entries" if self.entries else "heartbeat"
            return f"AppendEntries(term {self.term}, {what}, after {self.last_index}@{self.last_term}, commit {self.commit})"
        return f"AppendResult(term {self.term}, {'ok, match ' + str(self.match) if self.granted else 'mismatch'})"


@dataclass
class Member:
    name: str
    term: int = 0
    voted_for: str | None = None
    log: list[Entry] = field(default_factory=list)    # index i (from 1) is log[i - 1]
    commit: int = 0
    role: Role = "follower"
    running: bool = True
    votes: set[str] = field(default_factory=set)
    next_index: dict[str, int] = field(default_factory=dict)
    match_index: dict[str, int] = field(default_factory=dict)
    election_timer: Timer | None = None
    heartbeat_timer: Timer | None = None

    @property
    def last_index(self) -> int:
        return len(self.log)

    @property
    def last_term(self) -> int:
        return self.log[-1].term if self.log else 0

    def term_at(self, index: int) -> int:
        return self.log[index - 1].term if 0 < index <= len(self.log) else 0


class RaftModel:
    """Raft members exchanging messages on ``loop``'s clock, with partitions and stopped members."""

    def __init__(self, names: list[str] | tuple[str, ...] = ("etcd-0", "etcd-1", "etcd-2"), *,
                 loop: Loop | None = None, heartbeat: float = HEARTBEAT,
                 election_timeout: float = ELECTION_TIMEOUT) -> None:
        self.loop = loop or Loop(seed=0)
        self.heartbeat = heartbeat
        self.election_timeout = election_timeout
        self.members = {name: Member(name) for name in names}
        self.in_flight: list[Message] = []
        self.groups: list[set[str]] = [set(names)]
        self.events: list[str] = []                  # what happened, oldest first, for the view
        self.leaders: dict[int, str] = {}            # term -> the one member elected in it
        self.committed: list[Entry] = []             # the committed prefix, as the cluster learned it
        self.violations: list[str] = []
        for member in self.members.values():
            self._reset_election_timer(member)

    # -- what a learner drives ---------------------------------------------------------
    def step(self) -> bool:
        """Fire the next timer or deliver the next message; False when nothing is scheduled."""
        return self.loop.step()

    def run(self, seconds: float) -> None:
        self.loop.run_for(seconds)

    def leader(self) -> str | None:
        """The running leader of the highest term, if any (a stale leader may still think it leads)."""
        leaders = [m for m in self.members.values() if m.running and m.role == "leader"]
        return max(leaders, key=lambda m: m.term).name if leaders else None

    def propose(self, command: str, to: str | None = None) -> str | None:
        """Hand ``command`` to a leader (``to``, or the newest one); returns who took it, None if nobody leads."""
        name = to or self.leader()
        member = self.members.get(name) if name else None
        if member is None or not member.running or member.role != "leader":
            return None
        member.log.append(Entry(member.term, command))
        member.match_index[member.name] = member.last_index
        self._note(f"{member.name} appends {command!r} at index {member.last_index} (term {member.term})")
        self._replicate(member)
        return member.name

    def partition(self, *groups: set[str] | list[str]) -> None:
        """Cut the network: members talk only inside their group (a member in no group is alone)."""
        named = [set(group) for group in groups]
        alone = [{name} for name in self.members if not any(name in group for group in named)]
        self.groups = named + alone
        self._note("network partitioned: " + " | ".join(",".join(sorted(g)) for g in self.groups))

    def heal(self) -> None:
        self.groups = [set(self.members)]
        self._note("network healed")

    def stop(self, name: str) -> None:
        """Crash a member: it keeps its term, vote and log (on disk), and does nothing until started."""
        member = self.members[name]
        member.running = False
        member.role = "follower"
        for timer in (member.election_timer, member.heartbeat_timer):
            if timer is not None:
                timer.cancel()
        self._note(f"{name} stopped")

    def start(self, name: str) -> None:
        member = self.members[name]
        if member.running:
            return
        member.running = True
        member.votes = set()
        self._reset_election_timer(member)
        self._note(f"{name} started as a follower in term {member.term}")

    def can_talk(self, source: str, target: str) -> bool:
        return any(source in group and target in group for group in self.groups)

    @property
    def quorum(self) -> int:
        return len(self.members) // 2 + 1

    # -- timers ------------------------------------------------------------------
    def _reset_election_timer(self, member: Member) -> None:
        if member.election_timer is not None:
            member.election_timer.cancel()
        timeout = self.loop.random.uniform(self.election_timeout, 2 * self.election_timeout)
        member.election_timer = self.loop.call_later(timeout, self._election_timeout, member,
                                                     label=f"raft {member.name} election timeout")

    def _election_timeout(self, member: Member) -> None:
        if not member.running or member.role == "leader":
            return
        member.term += 1
        member.role = "candidate"
        member.voted_for = member.name
        member.votes = {member.name}
        self._note(f"{member.name} times out and stands for election in term {member.term}")
        self._reset_election_timer(member)
        for peer in self._peers(member):
            self._send(Message("RequestVote", member.name, peer, member.term, 0, 0,
                               last_index=member.last_index, last_term=member.last_term))
        self._maybe_win(member)

    def _heartbeat(self, member: Member) -> None:
        if not member.running or member.role != "leader":
            return
        self._replicate(member)
        member.heartbeat_timer = self.loop.call_later(self.heartbeat, self._heartbeat, member,
                                                      label=f"raft {member.name} heartbeat")

    # -- messages ------------------------------------------------------------------
    def _peers(self, member: Member) -> list[str]:
        return [name for name in self.members if name != member.name]

    def _send(self, message: Message) -> None:
        low, high = LATENCY
        message.sent = self.loop.now
        message.arrives = self.loop.now + self.loop.random.uniform(low, high)
        message.timer = self.loop.call_at(message.arrives, self._deliver, message,
                                          label=f"raft {message.kind} {message.source}->{message.target}")
        self.in_flight.append(message)

    def _deliver(self, message: Message) -> None:
        self.in_flight.remove(message)
        target = self.members[message.target]
        if not target.running or not self.can_talk(message.source, message.target):
            return                                   # lost: the target is down or cut off
        if message.term > target.term:
            if target.role == "leader":
                self._note(f"{target.name} sees term {message.term} > its term {target.term} and steps down")
            if target.role == "leader":
                self._reset_election_timer(target)
            target.term, target.voted_for, target.role = message.term, None, "follower"
            if target.heartbeat_timer is not None:
                target.heartbeat_timer.cancel()
        handler = {"RequestVote": self._on_request_vote, "Vote": self._on_vote,
                   "AppendEntries": self._on_append_entries, "AppendResult": self._on_append_result}
        handler[message.kind](target, message)

    def _on_request_vote(self, member: Member, message: Message) -> None:
        up_to_date = (message.last_term, message.last_index) >= (member.last_term, member.last_index)
        grant = (message.term == member.term and member.voted_for in (None, message.source) and up_to_date)
        if grant:
            member.voted_for = message.source
            self._reset_election_timer(member)
        self._send(Message("Vote", member.name, message.source, member.term, 0, 0, granted=grant))

    def _on_vote(self, member: Member, message: Message) -> None:
        if member.role != "candidate" or message.term != member.term or not message.granted:
            return
        member.votes.add(message.source)
        self._maybe_win(member)

    def _maybe_win(self, member: Member) -> None:
        if member.role != "candidate" or len(member.votes) < self.quorum:
            return
        member.role = "leader"
        if member.term in self.leaders and self.leaders[member.term] != member.name:
            self.violations.append(f"two leaders in term {member.term}: {self.leaders[member.term]} and {member.name}")
        self.leaders[member.term] = member.name
        self._note(f"{member.name} wins term {member.term} with votes of {', '.join(sorted(member.votes))}")
        if member.log[:len(self.committed)] != self.committed:   # leader completeness
            self.violations.append(f"leader {member.name} of term {member.term} lacks committed entries")
        member.next_index = {peer: member.last_index + 1 for peer in self._peers(member)}
        member.match_index = {peer: 0 for peer in self._peers(member)}
        member.log.append(Entry(member.term, ""))
        member.match_index[member.name] = member.last_index
        self._heartbeat(member)

    def _replicate(self, member: Member) -> None:
        for peer in self._peers(member):
            after = member.next_index.get(peer, member.last_index + 1) - 1
            self._send(Message("AppendEntries", member.name, peer, member.term, 0, 0, last_index=after,
                               last_term=member.term_at(after), entries=tuple(member.log[after:]),
                               commit=member.commit))

    def _on_append_entries(self, member: Member, message: Message) -> None:
        if message.term < member.term:
            self._send(Message("AppendResult", member.name, message.source, member.term, 0, 0))
            return
        if member.role != "follower":
            member.role = "follower"
        self._reset_election_timer(member)
        after = message.last_index
        if after > member.last_index or member.term_at(after) != message.last_term:
            self._send(Message("AppendResult", member.name, message.source, member.term, 0, 0, match=0))
            return
        for offset, entry in enumerate(message.entries):
            index = after + offset + 1
            if member.term_at(index) != entry.term:
                del member.log[index - 1:]           # a conflicting suffix from an old term goes
                member.log.extend(message.entries[offset:])
                break
        match = after + len(message.entries)
        if message.commit > member.commit:
            member.commit = min(message.commit, match)
            self._check_commit(member)
        self._send(Message("AppendResult", member.name, message.source, member.term, 0, 0, granted=True,
                           match=match))

    def _on_append_result(self, member: Member, message: Message) -> None:
        if member.role != "leader" or message.term != member.term:
            return
        peer = message.source
        if not message.granted:
            member.next_index[peer] = max(1, member.next_index.get(peer, 1) - 1)
            return
        member.match_index[peer] = max(member.match_index.get(peer, 0), message.match)
        member.next_index[peer] = member.match_index[peer] + 1
        for index in range(member.last_index, member.commit, -1):
            holders = sum(1 for value in member.match_index.values() if value >= index)
            if holders >= self.quorum and member.term_at(index) == member.term:
                member.commit = index
                self._note(f"{member.name} commits up to index {index}: a majority holds it")
                self._check_commit(member)
                break

    def _check_commit(self, member: Member) -> None:
        """State machine safety: every member's committed prefix agrees with what was committed before."""
        prefix = member.log[:member.commit]
        shorter = min(len(prefix), len(self.committed))
        if prefix[:shorter] != self.committed[:shorter]:
            self.violations.append(f"{member.name} committed {prefix} against {self.committed}")
        if len(prefix) > len(self.committed):
            self.committed = list(prefix)

    def _note(self, text: str) -> None:
        self.events.append(f"t={self.loop.now:6.3f}s  {text}")
