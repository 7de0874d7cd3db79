"""kube-apiserver's HTTP front: the REST API the real kubectl and client libraries speak.

``serve(cluster)`` (behind ``Cluster.serve()``) starts it; ``HTTPFront`` is the
server itself. See ``server`` for the request path, ``routes`` for URLs,
``discovery`` / ``openapi`` / ``table`` for the documents it serves.
"""

from engine.apiserver.http.serve import ServeHandle, kubeconfig, serve, write_kubeconfig
from engine.apiserver.http.server import HTTPFront

__all__ = ["HTTPFront", "ServeHandle", "serve", "kubeconfig", "write_kubeconfig"]
