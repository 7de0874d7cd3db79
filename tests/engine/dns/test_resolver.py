"""The stub resolver: glibc's search-list walk with ndots, nameserver fail-over, the hosts file, every query kept."""

from engine.dns.message import NOERROR, NXDOMAIN, SERVFAIL, DnsQuery, DnsResponse, ResourceRecord
from engine.dns.resolver import ResolvConf, Resolver, resolve

POD_RESOLV_CONF = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"

ZONE = {"web.default.svc.cluster.local.": "10.96.12.34", "db.prod.svc.cluster.local.": "10.96.7.7",
        "example.com.": "93.184.215.14"}


class FakeServers:
    """Name servers by address: "ok" answers from ZONE, "down" never answers, "servfail" answers SERVFAIL."""

    def __init__(self, **behaviour: str) -> None:
        self.behaviour = behaviour
        self.sent: list[tuple[str, str]] = []

    def __call__(self, server: str, port: int, query: DnsQuery) -> DnsResponse | None:
        assert port == 53
        self.sent.append((server, query.name))
        mode = self.behaviour.get(server, "ok")
        if mode == "down":
            return None
        if mode == "servfail":
            return DnsResponse(query, SERVFAIL)
        if query.name in ZONE and query.qtype == "A":
            return DnsResponse(query, NOERROR, [ResourceRecord(query.name, "A", 30, ZONE[query.name])])
        return DnsResponse(query, NXDOMAIN)


def names(lookup) -> list[str]:
    return [q.query.name for q in lookup.queries]


def test_a_short_name_walks_the_search_list_to_the_service():
    lookup = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("web")
    assert names(lookup) == ["web.default.svc.cluster.local."]
    assert lookup.addresses == ["10.96.12.34"] and lookup.answered_name == "web.default.svc.cluster.local."
    assert lookup.wasted == 0


def test_name_dot_namespace_needs_the_second_search_domain():
    lookup = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("db.prod")
    assert names(lookup) == ["db.prod.default.svc.cluster.local.", "db.prod.svc.cluster.local."]
    assert lookup.addresses == ["10.96.7.7"] and lookup.wasted == 1


def test_a_trailing_dot_is_absolute_one_query():
    lookup = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("web.default.svc.cluster.local.")
    assert names(lookup) == ["web.default.svc.cluster.local."] and lookup.ok


def test_example_com_with_ndots_5_wastes_three_queries_first():
    lookup = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("example.com")
    assert names(lookup) == ["example.com.default.svc.cluster.local.", "example.com.svc.cluster.local.",
                             "example.com.cluster.local.", "example.com."]
    assert [q.response.rcode for q in lookup.queries] == [NXDOMAIN, NXDOMAIN, NXDOMAIN, NOERROR]
    assert lookup.wasted == 3 and lookup.addresses == ["93.184.215.14"]
    assert lookup.trace().splitlines()[1] == \
        "  example.com.default.svc.cluster.local. A -> 10.96.0.10: NXDOMAIN"


def test_enough_dots_asks_the_name_as_is_first():
    conf = POD_RESOLV_CONF.replace("ndots:5", "ndots:1")
    assert names(Resolver(conf, FakeServers()).lookup("example.com")) == ["example.com."]
    # the full service name has 4 dots: with ndots:5 the search list still goes first
    long = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("web.default.svc.cluster.local")
    assert names(long)[0] == "web.default.svc.cluster.local.default.svc.cluster.local." and long.wasted == 3


def test_a_name_found_nowhere_is_asked_every_way_then_fails():
    lookup = Resolver(POD_RESOLV_CONF, FakeServers()).lookup("nothing")
    assert len(lookup.queries) == 4 and not lookup.ok and lookup.response.rcode == NXDOMAIN
    assert lookup.trace().endswith("=> not found")


def test_a_silent_server_costs_its_timeout_and_the_next_one_answers():
    conf = "nameserver 10.0.0.1\nnameserver 10.96.0.10\nsearch default.svc.cluster.local\noptions ndots:5 timeout:2\n"
    servers = FakeServers(**{"10.0.0.1": "down"})
    lookup = Resolver(conf, servers).lookup("web")
    assert servers.sent == [("10.0.0.1", "web.default.svc.cluster.local."),
                            ("10.96.0.10", "web.default.svc.cluster.local.")]
    assert lookup.ok and lookup.elapsed == 2 and lookup.queries[0].response is None


def test_servfail_moves_to_the_next_server_and_timeouts_everywhere_stop_the_walk():
    conf = "nameserver 10.0.0.1\nnameserver 10.96.0.10\nsearch default.svc.cluster.local\noptions ndots:5\n"
    assert Resolver(conf, FakeServers(**{"10.0.0.1": "servfail"})).lookup("web").ok
    silent = Resolver(conf, FakeServers(**{"10.0.0.1": "down", "10.96.0.10": "down"})).lookup("web")
    assert len(silent.queries) == 4 and silent.elapsed == 20 and not silent.ok   # 2 attempts x 2 servers x 5 s
    assert {q.query.name for q in silent.queries} == {"web.default.svc.cluster.local."}


def test_the_hosts_file_answers_before_dns():
    hosts = "127.0.0.1\tlocalhost\n10.244.1.5\tweb-0.nginx.default.svc.cluster.local\tweb-0\n"
    servers = FakeServers()
    lookup = Resolver(POD_RESOLV_CONF, servers, hosts=hosts).lookup("web-0")
    assert lookup.from_hosts and lookup.addresses == ["10.244.1.5"] and servers.sent == []


def test_resolv_conf_parsing_keeps_glibcs_limits():
    conf = ResolvConf.parse("nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\n"
                            "domain corp.example\nsearch a.example b.example.\n"
                            "options ndots:20 timeout:1 attempts:9 rotate # comment\n")
    assert conf.nameservers == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
    assert conf.search == ["a.example", "b.example"]
    assert (conf.ndots, conf.timeout, conf.attempts, conf.rotate) == (15, 1, 5, True)
    assert ResolvConf.parse("").ndots == 1


def test_rotate_starts_each_question_at_the_next_server():
    conf = "nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions rotate\n"
    servers = FakeServers()
    resolver = Resolver(conf, servers)
    resolver.lookup("example.com.")
    resolver.lookup("example.com.")
    assert [server for server, _ in servers.sent] == ["10.0.0.1", "10.0.0.2"]


def test_a_containers_files_configure_it():
    fs = {"/etc/resolv.conf": POD_RESOLV_CONF, "/etc/hosts": "10.244.1.5\tme\n"}
    resolver = Resolver.from_fs(fs, FakeServers())
    assert resolver.resolve("me") == ["10.244.1.5"] and resolver.resolve("web") == ["10.96.12.34"]
    assert resolver.resolve("nothing") == []


def test_the_packet_models_door_sends_to_each_nameserver_on_port_53():
    servers = FakeServers()
    sent = []

    def send(server, query):
        sent.append(server)
        return servers(server, 53, query)

    assert resolve("db.prod", POD_RESOLV_CONF, send) == ["10.96.7.7"] and sent == ["10.96.0.10", "10.96.0.10"]
