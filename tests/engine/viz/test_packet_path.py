"""The packet path view draws hops grouped by node and pod, colours NAT and encapsulation, and is deterministic."""

from __future__ import annotations

from engine.network.packet import Hop
from engine.viz.packet_path import COLORS, packet_path, path_table

HOPS = [
    Hop("default/client", "route", "default via 10.244.1.1 dev eth0", "10.244.1.2:40000 > 10.96.0.20:80 TCP [SYN]"),
    Hop("node-1", "DNAT", "--to-destination 10.244.2.2:80", "10.244.1.2:40000 > 10.244.2.2:80 TCP [SYN]"),
    Hop("node-1", "encapsulate", "flannel.1: fdb dst 172.18.0.4",
        "172.18.0.3:40001 > 172.18.0.4:8472 UDP VXLAN vni 1 | 10.244.1.2:40000 > 10.244.2.2:80 TCP [SYN]"),
    Hop("node-1", "wire", "eth0 -> node-2:eth0",
        "172.18.0.3:40001 > 172.18.0.4:8472 UDP VXLAN vni 1 | 10.244.1.2:40000 > 10.244.2.2:80 TCP [SYN]"),
    Hop("node-2", "decapsulate", "flannel.1 vni 1", "10.244.1.2:40000 > 10.244.2.2:80 TCP [SYN]"),
    Hop("default/web", "deliver", "Nginx listening on :80", "10.244.1.2:40000 > 10.244.2.2:80 TCP [SYN]"),
    Hop("default/web", "route", "default via 10.244.2.1 dev eth0", "10.244.2.2:80 > 10.244.1.2:40000 TCP [SYN-ACK]"),
]


def test_each_hop_is_a_numbered_box_in_its_place_and_nat_and_tunnel_are_coloured() -> None:
    source = packet_path(HOPS, title="curl http://web/").source
    assert "1. route" in source and "7. route" in source
    assert "label=\"nodes' network 172.18.0.0/16\"" in source
    assert "label=\"node-1\"" in source and "label=\"node-2\"" in source
    assert f'color="{COLORS["nat"]}"' in source and f'color="{COLORS["tunnel"]}"' in source
    assert "outer 172.18.0.3:40001 &gt; 172.18.0.4:8472 UDP VXLAN vni 1" in source
    assert "hop6 -> hop7 [color=\"#2e7d32\" style=dashed]" in source
    assert "hop1 -> hop2 [color=\"#37474f\" style=solid]" in source


def test_the_same_hops_give_the_same_drawing_and_the_table_lists_them() -> None:
    assert packet_path(HOPS).source == packet_path(list(HOPS)).source
    lines = path_table(HOPS).splitlines()
    assert len(lines) == 7 and lines[1].strip().startswith("2. node-1") and "DNAT" in lines[1]
