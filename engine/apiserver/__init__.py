"""kube-apiserver: the only component that talks to etcd; every request passes its pipeline."""
