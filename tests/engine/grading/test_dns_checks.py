"""The DNS lab's checks: right answers pass, typical mistakes are named, delegation earns nothing; the plugin's seam."""

from __future__ import annotations

import ipaddress

import pytest

from engine.dns.message import DnsQuery, DnsResponse, ResourceRecord
from engine.dns.plugin import Request
from engine.grading import GradingFailure
from engine.grading.dns import _plugin, check_records, check_search_names, reference_records, reference_search_names

ZONE = "cluster.local."


def search_names(name: str, search: list[str], ndots: int, bare_first: bool = False) -> list[str]:
    if name.endswith("."):
        return [name]
    first = bare_first or name.count(".") >= ndots
    return ([name + "."] if first else []) + [f"{name}.{d}." for d in search] + ([] if first else [name + "."])


def records(name: str, qtype: str, services: list, slices: list, namespaces: list, headless: bool = True,
            strip: bool = True) -> list | None:
    labels = name[: -len(ZONE) - 1].split(".")
    namespace = labels[-2]
    if namespace not in namespaces:
        return None
    if labels[-1] == "pod":
        try:
            return [("A", str(ipaddress.IPv4Address(labels[0].replace("-", "."))))]
        except ValueError:
            return None
    service = next((s for s in services if s["metadata"]["name"] == labels[-3]
                    and s["metadata"]["namespace"] == namespace), None)
    if service is None:
        return None
    base = f"{labels[-3]}.{namespace}.svc.{ZONE}"
    wanted = None
    if qtype == "SRV":
        wanted = (labels[0][1:], labels[1][1:].upper()) if strip else (labels[0], labels[1].upper())
    found = []
    if headless and service["spec"]["clusterIP"] == "None":
        for s in slices:
            if s["metadata"]["namespace"] != namespace or \
                    s["metadata"]["labels"]["kubernetes.io/service-name"] != labels[-3]:
                continue
            for endpoint in s["endpoints"]:
                if (endpoint.get("conditions") or {}).get("ready") is False:
                    continue
                host = endpoint.get("hostname") or endpoint["addresses"][0].replace(".", "-")
                for port in s["ports"]:
                    if wanted is None or (port["name"], port["protocol"]) == wanted:
                        found.append((endpoint["addresses"][0], port["port"], f"{host}.{base}"))
    else:
        for port in service["spec"]["ports"]:
            if wanted is None or (port["name"], port["protocol"]) == wanted:
                found.append((service["spec"]["clusterIP"], port["port"], base))
    if not found:
        return None
    if qtype == "A":
        return [("A", a) for a in dict.fromkeys(a for a, _, _ in found)]
    srv = list(dict.fromkeys((p, t) for _, p, t in found))
    return [("SRV", f"0 {100 // len(srv)} {p} {t}") for p, t in srv]


def test_right_answers_pass() -> None:
    check_search_names(search_names, seed=1)
    check_records(records, seed=2)


@pytest.mark.parametrize("check, answer, words", [
    (check_search_names, lambda *a: search_names(*a, bare_first=True), "the search list comes first"),
    (check_records, lambda *a: records(*a, headless=False), "headless"),
    (check_records, lambda *a: records(*a, strip=False), "strip the underscores"),
], ids=["a short name is not asked bare first", "a headless Service answers with its endpoints",
        "SRV labels carry an underscore"])
def test_typical_mistakes_are_named(check, answer, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check(answer, seed=3)


def test_handing_the_work_to_the_engine_earns_nothing() -> None:
    with pytest.raises(GradingFailure, match="hands the work to the engine"):
        check_search_names(reference_search_names, seed=4)
    with pytest.raises(GradingFailure, match="hands the work to the engine"):
        check_records(lambda *args: reference_records(*args), seed=4)


def test_the_plugins_answer_hook_answers_or_leaves_the_query_to_the_plugin() -> None:
    service = {"metadata": {"name": "web", "namespace": "default"},
               "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
    plugin = _plugin([service], [], ["default"])

    def ask(name: str) -> DnsResponse:
        return plugin.serve(Request(DnsQuery(name, "A")), lambda request: DnsResponse(request.query, "REFUSED"))

    plugin.answer_hook = lambda query, zone: ([ResourceRecord(query.name, "A", 5, "10.0.0.9")], []) \
        if query.name.startswith("web.") else None
    assert ask("web.default.svc.cluster.local.").addresses() == ["10.0.0.9"]
    plugin.answer_hook = lambda query, zone: None
    assert ask("web.default.svc.cluster.local.").addresses() == ["10.96.0.20"]
    plugin.answer_hook = lambda query, zone: (None, [])
    assert ask("web.default.svc.cluster.local.").rcode == "NXDOMAIN"
