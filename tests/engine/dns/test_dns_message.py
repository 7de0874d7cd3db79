"""DNS messages: names, reverse names, wire size and dig's presentation."""

from engine.dns.message import (NXDOMAIN, DnsQuery, DnsResponse, ResourceRecord, address_of_reverse, fqdn,
                                reverse_name)


def test_names_are_absolute_and_lower_case():
    assert fqdn("Web.Default") == "web.default."
    assert DnsQuery("WEB", "srv").name == "web." and DnsQuery("web", "srv").qtype == "SRV"


def test_reverse_names_round_trip_and_reject_partial_names():
    assert reverse_name("10.96.0.10") == "10.0.96.10.in-addr.arpa."
    assert address_of_reverse("10.0.96.10.in-addr.arpa") == "10.96.0.10"
    assert address_of_reverse("0.96.10.in-addr.arpa.") is None
    assert address_of_reverse("example.com.") is None


def test_wire_size_compresses_the_owner_name_like_a_real_message():
    query = DnsQuery("web.default.svc.cluster.local", id=5)
    answer = DnsResponse(query, answers=[ResourceRecord(query.name, "A", 30, "10.96.12.34")], authoritative=True)
    # header 12 + question 31+4 + answer (pointer 2 + type/class/ttl/rdlength 10 + 4)
    assert answer.wire_size() == 12 + 35 + 16


def test_dig_output_has_the_header_flags_and_sections_dig_prints():
    query = DnsQuery("nope.default.svc.cluster.local", id=4242)
    soa = ResourceRecord("cluster.local", "SOA", 30,
                         "ns.dns.cluster.local. hostmaster.cluster.local. 1735689600 7200 1800 86400 30")
    text = DnsResponse(query, NXDOMAIN, authority=[soa], authoritative=True).dig(now=5.0)
    lines = text.splitlines()
    assert lines[0] == "; <<>> DiG 9.18.24 <<>> nope.default.svc.cluster.local"
    assert ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 4242" in lines
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0" in lines
    assert ";; WARNING: recursion requested but not available" in lines
    assert ";; AUTHORITY SECTION:" in lines and ";; ANSWER SECTION:" not in lines
    assert "cluster.local.\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1735689600 7200 1800 86400 30" \
        in lines
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)" in lines
    assert ";; WHEN: Wed Jan 01 00:00:05 UTC 2025" in lines
