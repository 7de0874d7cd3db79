"""etcd: the MVCC key-value store that holds all cluster state (in memory, or a real etcd)."""
