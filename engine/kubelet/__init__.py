"""kubelet: the node agent."""
