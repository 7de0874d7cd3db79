"""The kubelet's prober (pkg/kubelet/prober): liveness, readiness and startup probes on the virtual clock."""

from engine.kubelet.prober.manager import ProbeManager
from engine.kubelet.prober.results import FAILURE, SUCCESS, UNKNOWN, ProbeCount, count_result

__all__ = ["FAILURE", "SUCCESS", "UNKNOWN", "ProbeCount", "ProbeManager", "count_result"]
