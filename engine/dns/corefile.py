"""The Corefile: CoreDNS's configuration (Caddyfile syntax), parsed into server blocks and plugin directives.

    .:53 {
        errors
        kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        forward . /etc/resolv.conf {
           max_concurrent 1000
        }
        cache 30
    }

``parse(text)`` returns ``ServerBlock``s: their keys (``.:53`` -> zone ``.``,
port 53) and their ``Directive``s (name, arguments, and a nested block of
sub-directives), in file order. Comments (``#``) and blank lines are
ignored, as are quotes around a token. Errors read like CoreDNS's own
(``Corefile:3 - Error during parsing: Unexpected '}' because no matching opening brace``).
The order in which plugins *run* is not the file's: see ``engine.dns.plugin``.
What this module never does: know what a plugin means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PORT = 53


class CorefileError(ValueError):
    """A Corefile that CoreDNS would refuse to start with."""


@dataclass
class Directive:
    """One line of a server block (``cache 30``) and its nested block, if any."""

    name: str
    args: list[str] = field(default_factory=list)
    block: list["Directive"] = field(default_factory=list)
    line: int = 0

    def option(self, name: str) -> list[str] | None:
        """The arguments of sub-directive ``name`` (``ttl`` -> ``["30"]``), None when absent."""
        for sub in self.block:
            if sub.name == name:
                return sub.args
        return None


@dataclass
class ServerBlock:
    """``.:53 { ... }``: the zones and port it serves, and its directives in file order."""

    keys: list[str]
    directives: list[Directive]

    @property
    def zones(self) -> list[str]:
        zones = []
        for key in self.keys:
            zone = key.split("://")[-1].rsplit(":", 1)[0] if ":" in key.split("://")[-1] else key.split("://")[-1]
            zones.append(zone if zone.endswith(".") else zone + ".")
        return zones

    @property
    def port(self) -> int:
        key = self.keys[0].split("://")[-1]
        return int(key.rsplit(":", 1)[1]) if ":" in key else DEFAULT_PORT

    def directive(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)


def _tokens(text: str) -> list[tuple[str, int, bool]]:
    """(token, line, first on its line) for every token; braces are tokens of their own."""
    tokens: list[tuple[str, int, bool]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        first = True
        for word in line.replace("{", " { ").replace("}", " } ").split():
            tokens.append((word.strip('"'), number, first))
            first = False
    return tokens


def parse(text: str, filename: str = "Corefile") -> list[ServerBlock]:
    """Parse a Corefile into its server blocks."""
    tokens = _tokens(text)
    position = 0

    def error(line: int, message: str) -> CorefileError:
        return CorefileError(f"{filename}:{line} - Error during parsing: {message}")

    def directives() -> list[Directive]:
        nonlocal position
        found: list[Directive] = []
        while position < len(tokens):
            word, line, _ = tokens[position]
            if word == "}":
                position += 1
                return found
            if word == "{":
                raise error(line, "Unexpected '{'")
            position += 1
            directive = Directive(word, line=line)
            while position < len(tokens) and not tokens[position][2] and tokens[position][0] not in "{}":
                directive.args.append(tokens[position][0])
                position += 1
            if position < len(tokens) and tokens[position][0] == "{" and tokens[position][1] == line:
                position += 1
                directive.block = directives()
            found.append(directive)
        raise error(tokens[-1][1] if tokens else 0, "Unexpected EOF")

    blocks: list[ServerBlock] = []
    while position < len(tokens):
        keys = []
        word, line, _ = tokens[position]
        if word in "{}":
            raise error(line, f"Unexpected '{word}' because no matching opening brace" if word == "}" else
                        "Unexpected '{'")
        while position < len(tokens) and tokens[position][0] != "{":
            keys.append(tokens[position][0].rstrip(","))
            position += 1
        if position >= len(tokens):
            raise error(line, "Unexpected EOF")
        position += 1
        blocks.append(ServerBlock(keys, directives()))
    return blocks
