"""kube-scheduler (engine/scheduler): the scheduling queue, the framework, the default plugins.

``SCHEDULER`` is the component's registry line, one of the default
``engine.components.COMPONENTS`` every ``engine.Cluster`` runs. The parts:
``queue`` (activeQ, backoffQ, unschedulablePods), ``framework`` (extension
points, Status, CycleState, the ``0/N nodes are available`` message),
``plugins/`` (one module per default plugin), ``registry``, ``profile``
(KubeSchedulerConfiguration), ``cache`` and ``nodeinfo`` (what is on each
node), ``scheduler`` (the component) and ``explain`` (why each decision).
"""

from engine.components import ComponentSpec

SCHEDULER = ComponentSpec("kube-scheduler", "control-plane", "engine.scheduler.scheduler:Scheduler",
                          user="system:kube-scheduler")

__all__ = ["SCHEDULER"]
