"""engine: a faithful miniature of every Kubernetes component, for learning how Kubernetes works inside."""
