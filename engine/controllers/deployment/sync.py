"""Scaling, the new ReplicaSet, revisions and cleanup (pkg/controller/deployment/sync.go).

The parts of the Deployment controller every strategy shares, as methods of
``SyncMixin`` (Go's receiver methods spread over files):

- ``get_new_replica_set``: finds the set whose template equals the
  Deployment's, or creates ``<name>-<pod-template-hash>`` with the hash in its
  labels and selector, sized by NewRSNewReplicas, with the revision (one more
  than the old sets' highest), desired-replicas and max-replicas annotations;
  a name taken by a set with another template is a hash collision: status
  ``collisionCount`` goes up and the next sync hashes again. Records
  ``Scaled up replica set web-5d8f7 from 0 to 3`` and sets Progressing to
  ``NewReplicaSetCreated`` (or ``FoundNewReplicaSet``);
- ``scale``: a change of spec.replicas (a *scaling event*: an active set's
  desired-replicas annotation differs) or a paused Deployment. One active
  set takes the whole size; otherwise the surplus or deficit against
  ``replicas + maxSurge`` is shared out in proportion to each set's size
  (proportional scaling), the leftover to the largest set;
- ``scale_replica_set``: writes a set's size and annotations, recording
  ``Scaled up|down replica set <name> from <old> to <new>``;
- ``cleanup_deployment``: deletes the oldest old sets beyond
  ``revisionHistoryLimit`` that are scaled to zero and fully observed;
- ``check_paused_conditions``: Progressing Unknown ``DeploymentPaused`` /
  ``DeploymentResumed``, so a paused rollout never times out.
"""

from __future__ import annotations

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference
from engine.controllers.controller_ref_manager import controller_of
from engine.controllers.controller_utils import compute_hash
from engine.controllers.deployment import util
from engine.controllers.deployment.status import calculate_status

SCALING_REPLICA_SET = "ScalingReplicaSet"


class SyncMixin:
    """Methods of DeploymentController shared by the strategies (it provides client, recorder, loop, sets)."""

    # -- revisions and the new set ---------------------------------------------------------
    def get_all_replica_sets_and_sync_revision(self, d: dict, rs_list: list[dict], *,
                                               create_if_not_existed: bool) -> tuple[dict | None, list[dict]]:
        _, old = util.find_old_replica_sets(d, rs_list)
        new = self.get_new_replica_set(d, rs_list, old, create_if_not_existed)
        return new, old

    def get_new_replica_set(self, d: dict, rs_list: list[dict], old: list[dict],
                            create_if_not_existed: bool) -> dict | None:
        existing = util.find_new_replica_set(d, rs_list)
        new_revision = str(util.max_revision(old) + 1)
        now = self.loop.now
        if existing is not None:
            rs = thaw(existing)
            annotations_updated = util.set_new_replica_set_annotations(d, rs, new_revision, True)
            min_ready = d["spec"].get("minReadySeconds", 0) or 0
            if annotations_updated or (rs["spec"].get("minReadySeconds", 0) or 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                return self.client.update(rs)
            needs_update = util.set_deployment_revision(d, util.annotations_of(rs).get(util.REVISION, ""))
            status = d.setdefault("status", {})
            if util.has_progress_deadline(d) and util.get_condition(status, "Progressing") is None:
                util.set_condition(status, util.new_condition(
                    "Progressing", "True", util.FOUND_NEW_RS, f'Found new replica set "{rs["metadata"]["name"]}"', now))
                needs_update = True
            if needs_update:
                self.update_deployment_status(d)
            return rs
        if not create_if_not_existed:
            return None
        template = thaw(d["spec"]["template"])
        collision_count = (d.get("status") or {}).get("collisionCount")
        pod_hash = compute_hash(template, collision_count)
        template.setdefault("metadata", {}).setdefault("labels", {})[util.POD_TEMPLATE_HASH] = pod_hash
        selector = thaw(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[util.POD_TEMPLATE_HASH] = pod_hash
        name = f'{d["metadata"]["name"]}-{pod_hash}'
        namespace = d["metadata"]["namespace"]
        new_rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": name, "namespace": namespace, "labels": dict(template["metadata"]["labels"]),
                               "ownerReferences": [owner_reference(d)]},
                  "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds", 0) or 0,
                           "selector": selector, "template": template}}
        count = util.new_rs_new_replicas(d, old + [new_rs], new_rs)
        new_rs["spec"]["replicas"] = count
        util.set_new_replica_set_annotations(d, new_rs, new_revision, False)
        already_exists = False
        try:
            created = self.client.create(new_rs)
        except errors.AlreadyExists:
            already_exists = True
            found = self.sets.indexer.get_by_key(f"{namespace}/{name}")
            if found is None:
                raise
            ref = controller_of(found)
            if ref is None or ref.get("uid") != d["metadata"]["uid"] or not util.equal_ignore_hash(
                    d["spec"]["template"], found["spec"]["template"]):
                status = d.setdefault("status", {})
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                self.update_deployment_status(d)
                raise
            created = thaw(found)
        except errors.ApiError as error:
            message = f'Failed to create new replica set "{name}": {error}'
            if util.has_progress_deadline(d):
                util.set_condition(d.setdefault("status", {}), util.new_condition(
                    "Progressing", "False", util.FAILED_RS_CREATE, message, now))
                try:
                    self.update_deployment_status(d)
                except errors.ApiError:
                    pass
            self.recorder.event(d, "Warning", util.FAILED_RS_CREATE, message)
            raise
        if not already_exists and count > 0:
            self.recorder.event(d, "Normal", SCALING_REPLICA_SET,
                                f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
        needs_update = util.set_deployment_revision(d, new_revision)
        if not already_exists and util.has_progress_deadline(d):
            util.set_condition(d.setdefault("status", {}), util.new_condition(
                "Progressing", "True", util.NEW_REPLICA_SET, f'Created new replica set "{created["metadata"]["name"]}"',
                now))
            needs_update = True
        if needs_update:
            self.update_deployment_status(d)
        return created

    # -- scaling ------------------------------------------------------------------------------
    def scale_replica_set_and_record_event(self, rs: dict, size: int, d: dict) -> tuple[bool, dict]:
        if util.replicas_of(rs) == size:
            return False, rs
        return self.scale_replica_set(rs, size, d, "up" if util.replicas_of(rs) < size else "down")

    def scale_replica_set(self, rs: dict, size: int, d: dict, operation: str) -> tuple[bool, dict]:
        desired = util.replicas_of(d)
        maximum = desired + util.max_surge(d)
        size_changed = util.replicas_of(rs) != size
        if not size_changed and not util.replicas_annotations_need_update(rs, desired, maximum):
            return False, rs
        before = util.replicas_of(rs)
        copy = thaw(rs)
        copy["spec"]["replicas"] = size
        util.set_replicas_annotations(copy, desired, maximum)
        updated = self.client.update(copy)
        if size_changed:
            self.recorder.event(d, "Normal", SCALING_REPLICA_SET,
                                f"Scaled {operation} replica set {updated['metadata']['name']} from {before} to {size}")
        return size_changed, updated

    def is_scaling_event(self, d: dict, rs_list: list[dict]) -> bool:
        new, old = self.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=False)
        for rs in util.filter_active(old + [new]):
            desired = util.desired_replicas_annotation(rs)
            if desired is not None and desired != util.replicas_of(d):
                return True
        return False

    def scale(self, d: dict, new: dict | None, old: list[dict]) -> None:
        active_or_latest = util.find_active_or_latest(new, old)
        if active_or_latest is not None:
            if util.replicas_of(active_or_latest) != util.replicas_of(d):
                self.scale_replica_set_and_record_event(active_or_latest, util.replicas_of(d), d)
            return
        if new is not None and self._saturated(d, new):
            for rs in util.filter_active(old):
                self.scale_replica_set_and_record_event(rs, 0, d)
            return
        if not util.is_rolling_update(d):
            return
        sets = util.filter_active(old + [new])
        allowed = util.replicas_of(d) + util.max_surge(d) if util.replicas_of(d) > 0 else 0
        to_add = allowed - util.replica_count(sets)
        operation = ""
        if to_add > 0:
            sets, operation = util.by_size_newer(sets), "up"
        elif to_add < 0:
            sets, operation = util.by_size_older(sets), "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in sets:
            if to_add != 0:
                share = util.proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = util.replicas_of(rs) + share
                added += share
            else:
                sizes[rs["metadata"]["name"]] = util.replicas_of(rs)
        for index, rs in enumerate(sets):
            name = rs["metadata"]["name"]
            if index == 0 and to_add != 0:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            self.scale_replica_set(rs, sizes[name], d, operation)

    @staticmethod
    def _saturated(d: dict, rs: dict) -> bool:
        """IsSaturated: the new set is desired-sized, annotated so, and all its replicas available."""
        desired = util.replicas_of(d)
        return (util.desired_replicas_annotation(rs) == desired and util.replicas_of(rs) == desired
                and int((rs.get("status") or {}).get("availableReplicas") or 0) == desired)

    # -- paused, scaling-only and status-only syncs ----------------------------------------------
    def sync(self, d: dict, rs_list: list[dict]) -> None:
        """A scaling event or a paused Deployment: scale, clean up (if paused), write status."""
        new, old = self.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=False)
        self.scale(d, new, old)
        if d["spec"].get("paused") and util.annotations_of(d).get(util.ROLLBACK_TO) is None:
            self.cleanup_deployment(old, d)
        self.sync_deployment_status(old + [new], new, d)

    def sync_status_only(self, d: dict, rs_list: list[dict]) -> None:
        new, old = self.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=False)
        self.sync_deployment_status(old + [new], new, d)

    def sync_deployment_status(self, all_sets: list[dict | None], new: dict | None, d: dict) -> None:
        status = calculate_status(all_sets, new, d, self.loop.now)
        if status == (d.get("status") or {}):
            return
        updated = thaw(d)
        updated["status"] = status
        self.update_deployment_status(updated)

    def check_paused_conditions(self, d: dict) -> None:
        if not util.has_progress_deadline(d):
            return
        status = d.setdefault("status", {})
        condition = util.get_condition(status, "Progressing")
        if condition is not None and condition.get("reason") == util.TIMED_OUT:
            return
        paused_exists = condition is not None and condition.get("reason") == util.PAUSED
        if d["spec"].get("paused") and not paused_exists:
            util.set_condition(status, util.new_condition("Progressing", "Unknown", util.PAUSED,
                                                          "Deployment is paused", self.loop.now))
        elif not d["spec"].get("paused") and paused_exists:
            util.set_condition(status, util.new_condition("Progressing", "Unknown", util.RESUMED,
                                                          "Deployment is resumed", self.loop.now))
        else:
            return
        self.update_deployment_status(d)

    # -- history ----------------------------------------------------------------------------------
    def cleanup_deployment(self, old: list[dict], d: dict) -> None:
        """Delete the oldest-revision old sets beyond revisionHistoryLimit (only empty, observed ones)."""
        if not util.has_revision_history_limit(d):
            return
        alive = [rs for rs in old if rs is not None and not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - int(d["spec"]["revisionHistoryLimit"])
        if diff <= 0:
            return
        for rs in util.by_revision(alive)[:diff]:
            status = rs.get("status") or {}
            if (int(status.get("replicas") or 0) != 0 or util.replicas_of(rs) != 0
                    or int(rs["metadata"].get("generation") or 0) > int(status.get("observedGeneration") or 0)):
                continue
            try:
                self.client.delete("replicasets", rs["metadata"]["name"], rs["metadata"]["namespace"])
            except errors.NotFound:
                pass
