"""Formats: the string checks every kind shares, with apimachinery's exact messages.

Mirrors ``k8s.io/apimachinery/pkg/util/validation`` (``IsDNS1123Label``,
``IsValidPortName``, ``IsConfigMapKey``, ``IsValidPercent``, ...) and the name
functions of ``apimachinery/pkg/api/validation`` (``NameIsDNSSubdomain`` and
friends, which accept a ``generateName`` prefix). Each ``is_*`` and
``name_is_*`` function returns the list of messages for one value, empty when
it is valid; DNS-1123 subdomains and label keys and values live in
``engine.api.selectors``, which label selectors need too.

Also the few field checks that Pods, Services and Endpoints share: an IP
address, a CIDR, a port protocol, a port given by number or name. These write
causes to an ``Errors``; the format functions never do.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

from engine.api.selectors import is_dns1123_subdomain, regex_error
from engine.api.validation.fields import Errors, child, get_string

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile("^" + _DNS1123_LABEL_FMT + "$")
_DNS1123_SUBDOMAIN_RE = re.compile("^" + _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*$")
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile("^" + _DNS1035_LABEL_FMT + "$")
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_RE = re.compile("^" + _CONFIG_MAP_KEY_FMT + "$")
_PERCENT_FMT = "[0-9]+%"
_PERCENT_RE = re.compile("^" + _PERCENT_FMT + "$")
_PORT_NAME_CHARSET = re.compile("^[-a-z0-9]+$")


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                                    "or '-', and must start and end with an alphanumeric character",
                                    _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                                "with an alphabetic character, and end with an alphanumeric character",
                                _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def _mask_trailing_dash(name: str) -> str:
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def is_valid_path_segment_name(name: str, prefix: bool = False) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def is_valid_port_name(port: str) -> list[str]:
    errs = []
    if len(port) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARSET.match(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_MAP_KEY_RE.match(value):
        errs.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    errs = []
    if not value:
        errs.append("environment variable name must be non-empty")
    if any(ord(c) > 127 or not c.isprintable() or c == "=" for c in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    return errs


def is_valid_percent(value: str) -> list[str]:
    if _PERCENT_RE.match(value):
        return []
    return [regex_error("a valid percent string must be a numeric string followed by an ending '%'",
                        _PERCENT_FMT, "1%", "93%")]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


# Field checks that write causes, shared by containers, Services and Endpoints.

def validate_ip(errs: Errors, path: str, value: str) -> None:
    if not _is_ip(value):
        errs.invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def validate_cidr(errs: Errors, path: str, value: str) -> None:
    if not is_cidr(value):
        errs.invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")


def validate_protocol(errs: Errors, port: Mapping, port_path: str) -> None:
    protocol = get_string(errs, port, "protocol", child(port_path, "protocol"))
    if not protocol:
        errs.required(child(port_path, "protocol"))
    elif protocol not in ("SCTP", "TCP", "UDP"):
        errs.not_supported(child(port_path, "protocol"), protocol, ("SCTP", "TCP", "UDP"))


def validate_port_num_or_name(errs: Errors, port: Any, path: str) -> None:
    if isinstance(port, bool) or port is None:
        errs.invalid(path, 0, "must be between 1 and 65535, inclusive")
    elif isinstance(port, int):
        for msg in is_valid_port_num(port):
            errs.invalid(path, port, msg)
    elif isinstance(port, str):
        for msg in is_valid_port_name(port):
            errs.invalid(path, port, msg)
    else:
        errs.type_invalid(path, port, "integer")
