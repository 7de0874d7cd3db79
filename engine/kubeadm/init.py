"""``kubeadm init``: the phases that make a control-plane machine and what the engine does for each.

``kubeadm init`` runs these phases in order (``kubeadm init --help`` lists
them; ``kubeadm init phase <name>`` runs one):

    preflight            checks the machine (swap off, ports free, a container runtime)
    certs                the cluster CA and every component's certificate under /etc/kubernetes/pki
    kubeconfig           admin.conf, super-admin.conf, kubelet.conf, controller-manager.conf, scheduler.conf
    etcd                 a static pod manifest for the local etcd, in /etc/kubernetes/manifests
    control-plane        static pod manifests for kube-apiserver, kube-controller-manager, kube-scheduler
    kubelet-start        writes the kubelet's config and (re)starts it; it runs the static pods
    wait-control-plane   waits for the API server's /healthz
    upload-config        kubeadm-config and kubelet-config ConfigMaps (``uploadconfig``)
    upload-certs         (only with --upload-certs) the certificates, encrypted, for other control planes
    mark-control-plane   the node-role.kubernetes.io/control-plane label and NoSchedule taint
    bootstrap-token      a join token and the kube-public/cluster-info ConfigMap (``uploadconfig``)
    kubelet-finalize     points the kubelet at its rotated client certificate
    addon                CoreDNS and kube-proxy (``addons``)

In the engine, ``Cluster`` plays the machine-level phases itself: the store,
the API server, the controller manager and the scheduler are built directly
(there are no certificates: tokens stand for them), and every node's kubelet
registers with the control-plane labels and taint that mark-control-plane
sets. The etcd and control-plane phases are ``controlplane``: the four static
pod manifests on the control-plane machine, whose containers' processes are
those components. ``init_phases`` is what comes after the API server
answers: the phases that talk to it, through the admin's client, as
``kubeadm init`` does with ``admin.conf``: upload-config, bootstrap-token,
addon, and then what an administrator applies next (the CNI manifest and
the other add-ons). It returns the lines ``kubeadm init`` (then ``kubectl
apply``) would print.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.kubeadm.addons import apply_addons
from engine.kubeadm.apiclient import create_or_update
from engine.kubeadm.config import InitConfiguration
from engine.kubeadm.uploadconfig import cluster_info_objects, upload_config_objects

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.runtime.images import Registry

log = logging.getLogger(__name__)


def init_phases(admin: "Client", config: InitConfiguration, *, registry: "Registry | None" = None) -> list[str]:
    """Run the phases of ``kubeadm init`` that go through the API server, then apply the add-ons.

    ``registry`` is the image registry the add-on packages publish their images into.
    """
    output = ['[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the '
              '"kube-system" Namespace',
              '[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration '
              'for the kubelets in the cluster']
    for obj in upload_config_objects(config):
        create_or_update(admin, obj)
    output.append("[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace")
    for obj in cluster_info_objects(config):
        create_or_update(admin, obj)
    output.extend(apply_addons(admin, config, registry))
    for line in output:
        log.info("%s", line)
    return output
