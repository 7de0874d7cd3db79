"""engine: a faithful miniature of every Kubernetes component, for learning how Kubernetes works inside.

The public surface is the ``Cluster`` door and the API errors::

    import engine
    c = engine.Cluster(nodes=3, seed=0)
    try:
        c.get("pod", "missing")
    except engine.NotFound as error:
        print(error.status["message"])       # pods "missing" not found
"""

from engine.api.errors import (AlreadyExists, ApiError, Conflict, Forbidden, Gone, Invalid, NotFound,
                               Unauthorized)
from engine.cluster import Cluster

__all__ = ["Cluster", "ApiError", "NotFound", "AlreadyExists", "Conflict", "Invalid", "Forbidden",
           "Unauthorized", "Gone"]
