"""The kubernetes plugin's records, per the Kubernetes DNS specification, answered by a running CoreDNS."""

from engine.dns import manifests
from engine.dns.message import NOERROR, NXDOMAIN, SERVFAIL, reverse_name


def test_a_clusterip_service_answers_its_clusterip_with_ttl_30(dns):
    dns.apply(dns.service("web", selector={"app": "web"}))
    ip = dns.cluster.get("svc", "web")["spec"]["clusterIP"]
    answer = dns.ask("web.default.svc.cluster.local")
    assert answer.rcode == NOERROR and answer.authoritative
    assert [(r.name, r.type, r.ttl, r.data) for r in answer.answers] == [
        ("web.default.svc.cluster.local.", "A", 30, ip)]


def test_a_missing_name_is_nxdomain_with_the_kubernetes_plugins_soa(dns):
    answer = dns.ask("nope.default.svc.cluster.local")
    assert answer.rcode == NXDOMAIN and not answer.answers
    [soa] = answer.authority
    mname, rname, serial, refresh, retry, expire, minimum = soa.data.split()
    assert (soa.name, soa.type, soa.ttl) == ("cluster.local.", "SOA", 30)
    assert (mname, rname, refresh, retry, expire, minimum) == (
        "ns.dns.cluster.local.", "hostmaster.cluster.local.", "7200", "1800", "86400", "30")


def test_nodata_for_a_type_the_name_lacks_and_for_existing_namespaces(dns):
    dns.apply(dns.service("web", selector={"app": "web"}))
    for name, qtype in [("web.default.svc.cluster.local", "AAAA"), ("web.default.svc.cluster.local", "TXT"),
                        ("default.svc.cluster.local", "A"), ("svc.cluster.local", "A"), ("cluster.local", "A")]:
        answer = dns.ask(name, qtype)
        assert answer.rcode == NOERROR and not answer.answers and answer.authority[0].type == "SOA", (name, qtype)
    assert dns.ask("nowhere.svc.cluster.local").rcode == NXDOMAIN
    assert dns.ask("web.nowhere.svc.cluster.local").rcode == NXDOMAIN
    assert dns.ask("a.b.c.d.web.default.svc.cluster.local").rcode == NXDOMAIN
    assert dns.ask("web.default.bogus.cluster.local").rcode == NXDOMAIN
    assert dns.ask("dns-version.cluster.local", "TXT").answers[0].data == '"1.1.0"'
    assert dns.ask("cluster.local", "SOA").answers[0].type == "SOA"


def test_a_headless_service_answers_its_ready_endpoints_and_their_hostnames(dns):
    dns.apply(dns.service("nginx", clusterIP="None"))
    dns.apply(dns.endpoint_slice("nginx", [
        {"addresses": ["10.244.1.5"], "hostname": "web-0", "conditions": {"ready": True}},
        {"addresses": ["10.244.2.7"], "hostname": "web-1", "conditions": {"ready": True}},
        {"addresses": ["10.244.2.9"], "conditions": {}},
        {"addresses": ["10.244.3.3"], "hostname": "web-2", "conditions": {"ready": False}}]))
    answer = dns.ask("nginx.default.svc.cluster.local")
    assert sorted(answer.addresses()) == ["10.244.1.5", "10.244.2.7", "10.244.2.9"]
    assert dns.ask("web-0.nginx.default.svc.cluster.local").addresses() == ["10.244.1.5"]
    assert dns.ask("10-244-2-9.nginx.default.svc.cluster.local").addresses() == ["10.244.2.9"]
    assert dns.ask("web-2.nginx.default.svc.cluster.local").rcode == NXDOMAIN   # not ready


def test_a_headless_service_without_ready_endpoints_is_nxdomain(dns):
    dns.apply(dns.service("empty", clusterIP="None"))
    assert dns.ask("empty.default.svc.cluster.local").rcode == NXDOMAIN


def test_srv_records_for_named_ports(dns):
    dns.apply(dns.service("web", selector={"app": "web"}, ports=[{"name": "http", "port": 80, "protocol": "TCP"},
                                                             {"name": "metrics", "port": 9100, "protocol": "TCP"}]))
    ip = dns.cluster.get("svc", "web")["spec"]["clusterIP"]
    answer = dns.ask("_http._tcp.web.default.svc.cluster.local", "SRV")
    assert [r.data for r in answer.answers] == ["0 100 80 web.default.svc.cluster.local."]
    assert [(r.name, r.data) for r in answer.additional] == [("web.default.svc.cluster.local.", ip)]
    assert dns.ask("_http._udp.web.default.svc.cluster.local", "SRV").rcode == NXDOMAIN
    every_port = dns.ask("web.default.svc.cluster.local", "SRV")
    assert sorted(r.data for r in every_port.answers) == ["0 50 80 web.default.svc.cluster.local.",
                                                          "0 50 9100 web.default.svc.cluster.local."]


def test_srv_records_of_a_headless_service_name_each_endpoint(dns):
    dns.apply(dns.service("db", clusterIP="None", ports=[{"name": "pg", "port": 5432}]))
    dns.apply(dns.endpoint_slice("db", [{"addresses": ["10.244.1.5"], "hostname": "db-0"},
                                    {"addresses": ["10.244.2.6"], "hostname": "db-1"}],
                             ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    answer = dns.ask("_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert sorted(r.data for r in answer.answers) == ["0 50 5432 db-0.db.default.svc.cluster.local.",
                                                      "0 50 5432 db-1.db.default.svc.cluster.local."]
    assert sorted((r.name, r.data) for r in answer.additional) == [
        ("db-0.db.default.svc.cluster.local.", "10.244.1.5"), ("db-1.db.default.svc.cluster.local.", "10.244.2.6")]


def test_pod_records_with_pods_insecure(dns):
    assert dns.ask("10-244-1-5.default.pod.cluster.local").addresses() == ["10.244.1.5"]
    assert dns.ask("10-244-1-5.nowhere.pod.cluster.local").rcode == NXDOMAIN
    assert dns.ask("not-an-ip.default.pod.cluster.local").rcode == NXDOMAIN


def test_an_externalname_service_is_a_cname_followed_upstream(dns):
    dns.apply(dns.service("search", type="ExternalName", externalName="example.com", ports=None))
    answer = dns.ask("search.default.svc.cluster.local")
    assert [(r.type, r.data) for r in answer.answers] == [("CNAME", "example.com."), ("A", "93.184.215.14")]
    assert [r.type for r in dns.ask("search.default.svc.cluster.local", "CNAME").answers] == ["CNAME"]


def test_ptr_records_for_clusterips_and_endpoints_and_fallthrough_for_the_rest(dns):
    dns.apply(dns.service("web", selector={"app": "web"}))
    dns.apply(dns.service("nginx", clusterIP="None"))
    dns.apply(dns.endpoint_slice("nginx", [{"addresses": ["10.244.1.5"], "hostname": "web-0"}]))
    ip = dns.cluster.get("svc", "web")["spec"]["clusterIP"]
    assert dns.ask(reverse_name(ip), "PTR").answers[0].data == "web.default.svc.cluster.local."
    assert dns.ask(reverse_name("10.244.1.5"), "PTR").answers[0].data == "web-0.nginx.default.svc.cluster.local."
    elsewhere = dns.ask(reverse_name("192.0.2.1"), "PTR")         # fallthrough in-addr.arpa: forward answers
    assert elsewhere.rcode == NXDOMAIN and not elsewhere.authoritative and elsewhere.recursion_available


def test_names_outside_the_zone_are_forwarded_to_the_nodes_resolver(dns):
    found = dns.ask("example.com")
    assert found.addresses() == ["93.184.215.14"] and found.recursion_available and not found.authoritative
    assert dns.ask("no-such-name.example").rcode == NXDOMAIN


def test_servfail_until_the_informers_have_synced_and_ready_says_so(start_dns):
    env = start_dns(rbac=False)          # the coredns ServiceAccount may not list anything yet
    assert env.ask("web.default.svc.cluster.local").rcode == SERVFAIL
    assert env.ask("example.com").rcode == NOERROR          # outside the zone: forward does not wait
    assert env.server.handle_http({"port": 8181, "path": "/ready"})["status"] == 503
    assert env.server.handle_http({"port": 8181, "path": "/ready"})["body"] == "kubernetes"
    assert env.server.handle_http({"port": 8080, "path": "/health"}) == {
        "status": 200, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": "OK"}
    for obj in manifests()[1:3]:
        env.cluster.apply(obj)
    env.cluster.run(60)              # the reflectors' back-off, then a list that succeeds
    assert env.server.handle_http({"port": 8181, "path": "/ready"})["status"] == 200
    assert env.ask("kubernetes.default.svc.cluster.local").addresses() == ["10.96.0.1"]
    assert env.server.handle_http({"port": 9153, "path": "/metrics"})["body"].count("coredns_dns_requests_total") == 2
