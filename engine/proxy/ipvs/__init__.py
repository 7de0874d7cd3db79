"""kube-proxy's ipvs mode (pkg/proxy/ipvs): virtual servers, kube-ipvs0, ipsets and a few iptables rules."""
