"""kube-proxy's iptables mode (pkg/proxy/iptables): ``rules`` builds the restore input, ``proxier`` syncs it."""
