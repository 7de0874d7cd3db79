"""kube-controller-manager: the controllers that drive actual state toward desired state.

One module per controller, each built the sample-controller way: informers
whose handlers only queue keys, a rate-limited work queue, and a
``sync(key)`` that reads from listers and writes through the client.
"""
