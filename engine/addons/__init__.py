"""Cluster add-ons beyond kubeadm's essential ones: what an administrator applies after ``kubeadm init``.

    metrics_server   metrics-server (the resource metrics pipeline): scrapes every kubelet's Summary API and
                     keeps the latest CPU rate and memory working set of each node, pod and container
                     (``engine.addons.metrics_server.install(cluster)``; ``kubectl top`` and the HPA read it)
    logging          cluster-level logging (EFK): a fluent-bit DaemonSet tails every node's container logs and
                     ships them to an Elasticsearch StatefulSet (``engine.addons.logging.install(cluster)``;
                     searched with ``LogStore`` and the ``engine.viz.log_search`` widget)
    dashboard        the Kubernetes Dashboard (a web UI in namespace kubernetes-dashboard): workloads, pods, nodes,
                     services, events, logs and YAML; reached through ``kubectl proxy`` and the API server's
                     ``services/proxy`` (``engine.addons.dashboard.install(cluster)``, ``dashboard.url()``)

This package has no ``manifests`` of its own, so engine/kubeadm's addon phase skips it: an add-on here is
opt-in. Each sub-package's ``install(cluster)`` publishes its images into ``cluster.registry`` and applies its
``manifests()`` as the admin would with ``kubectl apply -f`` (metrics-server's ``components.yaml``, ...).
"""
