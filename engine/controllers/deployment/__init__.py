"""The Deployment controller (pkg/controller/deployment), one module per part as upstream:

- ``controller``: informers, work queue and ``sync_deployment`` (deployment_controller.go);
- ``sync``: the new ReplicaSet and its revision, scaling (proportional), history cleanup (sync.go);
- ``rolling``: RollingUpdate, with the pure ``rolling_update_step`` (rolling.go);
- ``recreate``: Recreate (recreate.go);
- ``rollback``: the rollback annotation (rollback.go);
- ``progress``: the Progressing condition and progressDeadlineSeconds (progress.go);
- ``status``: the status from the ReplicaSets (calculateStatus);
- ``util``: revisions, annotations, surge and unavailability, conditions (util/deployment_util.go).
"""

from engine.controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
