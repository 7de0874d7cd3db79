"""cache, loadbalance, forward failures, loop detection and reload, on the virtual clock."""

from engine.dns.message import NOERROR, NXDOMAIN, SERVFAIL


def test_an_answer_is_served_from_cache_after_the_service_changed_until_it_expires(dns):
    dns.apply(dns.service("web", selector={"app": "web"}))
    old = dns.cluster.get("svc", "web")["spec"]["clusterIP"]
    assert dns.ask("web.default.svc.cluster.local").answers[0].ttl == 30
    dns.cluster.delete("svc", "web")
    dns.apply(dns.service("web", selector={"app": "web"}), seconds=9)
    new = dns.cluster.get("svc", "web")["spec"]["clusterIP"]
    assert new != old
    stale = dns.ask("web.default.svc.cluster.local")
    assert stale.addresses() == [old] and stale.answers[0].ttl == 21      # 9 s of the 30 gone
    dns.cluster.run(21)
    fresh = dns.ask("web.default.svc.cluster.local")
    assert fresh.addresses() == [new] and fresh.answers[0].ttl == 30
    metrics = dns.server.metrics()
    assert 'coredns_cache_hits_total{server="dns://:53",type="success"} 1' in metrics


def test_a_denial_is_cached_too_for_the_soa_minimum(dns):
    assert dns.ask("late.default.svc.cluster.local").rcode == NXDOMAIN
    dns.apply(dns.service("late", selector={"app": "late"}), seconds=5)
    still = dns.ask("late.default.svc.cluster.local")
    assert still.rcode == NXDOMAIN and still.authority[0].ttl == 25
    dns.cluster.run(25)
    assert dns.ask("late.default.svc.cluster.local").rcode == NOERROR


def test_forwarded_answers_are_capped_at_30_seconds(dns):
    first = dns.ask("example.com")
    assert first.answers[0].ttl == 300 and not first.authoritative
    dns.cluster.run(4)
    again = dns.ask("example.com")
    assert again.answers[0].ttl == 26 and again.authoritative      # the cache sets aa on what it serves


def test_loadbalance_shuffles_a_headless_services_addresses(dns):
    dns.apply(dns.service("nginx", clusterIP="None"))
    addresses = [f"10.244.1.{i}" for i in range(2, 7)]
    dns.apply(dns.endpoint_slice("nginx", [{"addresses": [a]} for a in addresses]))
    orders = set()
    for _ in range(6):
        answer = dns.ask("nginx.default.svc.cluster.local")
        assert sorted(answer.addresses()) == addresses
        orders.add(tuple(answer.addresses()))
        dns.cluster.run(31)
    assert len(orders) > 1


def test_an_unreachable_upstream_is_servfail_with_coredns_error_line(start_dns):
    env = start_dns(resolv_conf="nameserver 192.0.2.53\n")
    assert env.ask("example.com").rcode == SERVFAIL
    assert any(line.startswith("[ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.5:")
               and line.endswith("->192.0.2.53:53: i/o timeout") for line in env.logs)


def test_forwarding_to_itself_is_a_loop_and_coredns_exits(start_dns):
    env = start_dns(resolv_conf="nameserver 127.0.0.53\n")
    fatal = [line for line in env.logs if line.startswith("[FATAL] plugin/loop: Loop (")]
    assert len(fatal) == 1 and 'detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting' in fatal[0]
    assert len(env.fatal) == 1


def test_reload_picks_up_a_changed_corefile_within_45_seconds(dns):
    dns.apply(dns.service("web", selector={"app": "web"}))
    assert dns.ask("web.default.svc.cluster.local").answers[0].ttl == 30
    dns.fs["/etc/coredns/Corefile"] = dns.fs["/etc/coredns/Corefile"].replace("ttl 30", "ttl 10").replace(
        "cache 30", "")
    dns.cluster.run(46)
    assert "[INFO] Reloading" in dns.logs and "[INFO] Reloading complete" in dns.logs
    assert dns.ask("web.default.svc.cluster.local").answers[0].ttl == 10
    dns.fs["/etc/coredns/Corefile"] = ".:53 {\n  kubernetes {\n"
    dns.cluster.run(46)
    assert any(line.startswith("[ERROR] Restart failed:") for line in dns.logs)
    assert dns.ask("web.default.svc.cluster.local").answers[0].ttl == 10
