"""Cluster add-ons beyond kubeadm's essential ones: what an administrator applies after ``kubeadm init``.

    metrics_server   metrics-server (the resource metrics pipeline): scrapes every kubelet's Summary API and
                     keeps the latest CPU rate and memory working set of each node, pod and container

This package has no ``manifests`` of its own, so engine/kubeadm's addon phase skips it: an add-on here is
opt-in (``engine.addons.metrics_server.install(cluster)`` applies its manifests as the admin would with
``kubectl apply -f components.yaml``).
"""
