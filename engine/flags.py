"""Kubernetes time constants and limits, under their flag names, with the real defaults.

Every component reads its timing from here, so a learner can find in one
place why a node turns NotReady after 40 seconds or a pod is evicted five
minutes later. Each value is the upstream default of the flag or field
named; the comment says which component owns it.
"""

# kube-apiserver
event_ttl = 3600.0                     # --event-ttl: Events expire from etcd after an hour
etcd_compaction_interval = 300.0       # --etcd-compaction-interval: etcd history is compacted every 5 minutes
service_cluster_ip_range = "10.96.0.0/12"   # --service-cluster-ip-range (kubeadm's default)
service_node_port_range = (30000, 32767)    # --service-node-port-range
default_not_ready_toleration_seconds = 300  # --default-not-ready-toleration-seconds
default_unreachable_toleration_seconds = 300  # --default-unreachable-toleration-seconds
watch_delay = 0.005                    # not a flag: how late (virtual s) a watcher sees an event

# kubelet
node_status_update_frequency = 10.0    # --node-status-update-frequency
node_status_report_frequency = 300.0   # nodeStatusReportFrequency: post status at least this often
node_lease_duration_seconds = 40       # nodeLeaseDurationSeconds
node_lease_renew_interval_fraction = 0.25  # the lease is renewed every 40 s * 0.25 = 10 s
max_pods = 110                         # --max-pods
eviction_hard = {"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%",
                 "imagefs.available": "15%", "imagefs.inodesFree": "5%"}   # --eviction-hard (Linux defaults)
eviction_pressure_transition_period = 300.0   # --eviction-pressure-transition-period
eviction_monitoring_period = 10.0      # evictionMonitoringPeriod: the eviction manager's housekeeping interval
sync_frequency = 60.0                  # --sync-frequency: every pod worker re-syncs at least this often
housekeeping_period = 2.0              # housekeepingPeriod: clean up pods that are gone
static_pod_path = "/etc/kubernetes/manifests"   # staticPodPath (--pod-manifest-path): the kubelet's file source
file_check_frequency = 20.0            # fileCheckFrequency: how often the kubelet re-reads staticPodPath
pleg_relist_period = 1.0               # plegRelistPeriod: the generic PLEG lists the runtime every second
container_backoff_initial = 10.0       # backOffPeriod: first CrashLoopBackOff / ImagePullBackOff delay
container_backoff_max = 300.0          # MaxContainerBackOff: the delay doubles up to 5 minutes
minimum_grace_period = 2.0             # minimumGracePeriodInSeconds: what is left for SIGTERM after preStop
kubelet_port = 10250                   # --port: the kubelet's API (logs, exec, stats)
cluster_dns = ["10.96.0.10"]           # --cluster-dns / clusterDNS (empty upstream; kubeadm sets the service CIDR's 10th IP)
cluster_domain = "cluster.local"       # --cluster-domain / clusterDomain (empty upstream; kubeadm sets cluster.local)
resolv_conf = "/etc/resolv.conf"       # --resolv-conf: the node's resolver config, the base of pods' resolv.conf

# kube-controller-manager
node_monitor_period = 5.0              # --node-monitor-period
node_monitor_grace_period = 40.0       # --node-monitor-grace-period
node_startup_grace_period = 60.0       # --node-startup-grace-period
node_eviction_rate = 0.1               # --node-eviction-rate: nodes tainted per second in a healthy zone
secondary_node_eviction_rate = 0.01    # --secondary-node-eviction-rate: in a partially disrupted large zone
unhealthy_zone_threshold = 0.55        # --unhealthy-zone-threshold: share of not-Ready nodes (of > 2) that is a disruption
large_cluster_size_threshold = 50      # --large-cluster-size-threshold: smaller zones stop tainting when disrupted
concurrent_syncs = 5                   # --concurrent-*-syncs (replicaset, deployment, ...)
concurrent_service_endpoint_syncs = 5  # --concurrent-service-endpoint-syncs (EndpointSlice workers)
concurrent_endpoint_syncs = 5          # --concurrent-endpoint-syncs (Endpoints workers)
horizontal_pod_autoscaler_sync_period = 15.0   # --horizontal-pod-autoscaler-sync-period
horizontal_pod_autoscaler_tolerance = 0.1      # --horizontal-pod-autoscaler-tolerance
horizontal_pod_autoscaler_downscale_stabilization = 300.0   # --horizontal-pod-autoscaler-downscale-stabilization
horizontal_pod_autoscaler_cpu_initialization_period = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
horizontal_pod_autoscaler_initial_readiness_delay = 30.0    # --horizontal-pod-autoscaler-initial-readiness-delay
terminated_pod_gc_threshold = 12500    # --terminated-pod-gc-threshold
resource_quota_sync_period = 300.0     # --resource-quota-sync-period
concurrent_resource_quota_syncs = 5    # --concurrent-resource-quota-syncs
max_endpoints_per_slice = 100          # --max-endpoints-per-slice
allocate_node_cidrs = False            # --allocate-node-cidrs (kubeadm sets it when a pod subnet is given)
cluster_cidr = "10.244.0.0/16"          # --cluster-cidr (kubeadm's networking.podSubnet, flannel's default)
node_cidr_mask_size = 24               # --node-cidr-mask-size (IPv4)
max_endpoints_per_endpoints = 1000     # maxCapacity: addresses kept in one Endpoints object (the rest truncated)
pvclaimbinder_sync_period = 15.0       # --pvclaimbinder-sync-period: the PV controller re-syncs every claim and volume

# cloud-controller-manager (k8s.io/cloud-provider; its own binary, so its flags are its own)
cluster_name = "kubernetes"            # --cluster-name: tags the cloud resources this cluster owns
cloud_cluster_cidr = "10.244.0.0/16"   # --cluster-cidr: the route controller owns routes inside it
configure_cloud_routes = True          # --configure-cloud-routes
route_reconciliation_period = 10.0     # --route-reconciliation-period
cloud_node_status_update_frequency = 300.0   # --node-status-update-frequency: the cloud node controller's address refresh
concurrent_service_syncs = 1           # --concurrent-service-syncs
service_node_sync_period = 100.0       # nodeSyncPeriod: load balancers re-targeted at least this often
service_min_retry_delay = 5.0          # minRetryDelay: a failed load balancer sync is retried after 5 s...
service_max_retry_delay = 300.0        # maxRetryDelay: ... doubling up to 5 minutes
attach_detach_reconcile_sync_period = 60.0   # --attach-detach-reconcile-sync-period
max_wait_for_unmount_duration = 360.0  # maxWaitForUnmountDuration: detach anyway after 6 min (node not reporting)
csi_retry_interval_start = 1.0         # external-provisioner / external-attacher --retry-interval-start
csi_retry_interval_max = 300.0         # ... --retry-interval-max

# leader election (component-base/config: LeaderElectionConfiguration)
leader_elect_lease_duration = 15.0     # --leader-elect-lease-duration
leader_elect_renew_deadline = 10.0     # --leader-elect-renew-deadline
leader_elect_retry_period = 2.0        # --leader-elect-retry-period

# client-go
workqueue_base_delay = 0.005           # DefaultControllerRateLimiter: per-item exponential from 5 ms
workqueue_max_delay = 1000.0           # ... up to 1000 s
workqueue_qps = 10.0                   # ... and an overall token bucket of 10 qps
workqueue_burst = 100                  # ... with a burst of 100
informer_resync_period = 0.0           # 0 disables periodic resync (the factory default per informer)

# kube-proxy (KubeProxyConfiguration; the flags override the config file)
iptables_min_sync_period = 1.0         # --iptables-min-sync-period: at most one burst of rule writes per second
iptables_sync_period = 30.0            # --iptables-sync-period: how often the rules are checked (canary) and retried
ipvs_min_sync_period = 0.0             # --ipvs-min-sync-period
ipvs_sync_period = 30.0                # --ipvs-sync-period
ipvs_scheduler = "rr"                  # --ipvs-scheduler: round robin
iptables_masquerade_bit = 14           # --iptables-masquerade-bit: the fwmark 0x4000 means "SNAT me"
masquerade_all = False                 # --masquerade-all
proxy_full_sync_period = 3600.0        # proxyutil.FullSyncPeriod: a full resync at least hourly
