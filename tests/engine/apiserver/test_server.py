"""kube-apiserver: the request pipeline, storage semantics and watch, through a whole cluster's API server."""

import pytest

import engine
from engine.api.frozen import thaw

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
}

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
    },
}


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=1, seed=0)


@pytest.fixture
def admin(cluster):
    return cluster.admin


def test_create_sets_uid_creation_timestamp_resource_version_and_generation(admin):
    created = admin.create(DEPLOYMENT)
    metadata = created["metadata"]
    assert metadata["namespace"] == "default"
    assert len(metadata["uid"]) == 36 and metadata["creationTimestamp"].endswith("Z")
    assert int(metadata["resourceVersion"]) > 0
    assert metadata["generation"] == 1
    assert "status" not in created or not created["status"].get("replicas")


def test_creating_the_same_name_twice_is_409_already_exists(admin):
    admin.create(POD)
    with pytest.raises(engine.AlreadyExists) as caught:
        admin.create(POD)
    assert caught.value.code == 409
    assert caught.value.status["message"] == 'pods "web" already exists'
    assert caught.value.status["reason"] == "AlreadyExists"


def test_get_of_a_missing_object_is_404_with_the_real_message(admin):
    with pytest.raises(engine.NotFound) as caught:
        admin.get("deployments", "nope", "default")
    assert caught.value.status["message"] == 'deployments.apps "nope" not found'
    assert caught.value.status["details"] == {"name": "nope", "kind": "deployments", "group": "apps"}


def test_an_update_with_a_stale_resource_version_is_409_conflict(admin):
    first = admin.create(DEPLOYMENT)
    fresh = thaw(first)
    fresh["spec"]["replicas"] = 3
    admin.update(fresh)
    stale = thaw(first)
    stale["spec"]["replicas"] = 5
    with pytest.raises(engine.Conflict) as caught:
        admin.update(stale)
    assert caught.value.status["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again")
    assert admin.get("deployments", "web", "default")["spec"]["replicas"] == 3


def test_generation_moves_on_spec_changes_only(admin):
    created = admin.create(DEPLOYMENT)
    labelled = thaw(created)
    labelled["metadata"]["labels"] = {"team": "a"}
    after_label = admin.update(labelled)
    assert after_label["metadata"]["generation"] == 1
    scaled = thaw(after_label)
    scaled["spec"]["replicas"] = 4
    assert admin.update(scaled)["metadata"]["generation"] == 2


def test_the_status_subresource_changes_only_status_and_the_main_resource_cannot_change_status(admin):
    created = admin.create(DEPLOYMENT)
    with_status = thaw(created)
    with_status["status"] = {"replicas": 2, "readyReplicas": 2}
    with_status["spec"]["replicas"] = 9
    updated = admin.update_status(with_status)
    assert updated["status"]["readyReplicas"] == 2
    assert updated["spec"]["replicas"] == 2 and updated["metadata"]["generation"] == 1
    sneaky = thaw(updated)
    sneaky["status"]["readyReplicas"] = 99
    sneaky["spec"]["replicas"] = 3
    after = admin.update(sneaky)
    assert after["status"]["readyReplicas"] == 2 and after["spec"]["replicas"] == 3


def test_the_scale_subresource_reads_and_writes_replicas(admin):
    admin.create(DEPLOYMENT)
    scale = admin.get("deployments", "web", "default", subresource="scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"]["replicas"] == 2 and scale["status"]["selector"] == "app=web"
    admin.scale("deployments", "web", "default", 6)
    assert admin.get("deployments", "web", "default")["spec"]["replicas"] == 6


def test_generate_name_gives_a_unique_suffix(admin):
    pod = thaw(POD)
    del pod["metadata"]["name"]
    pod["metadata"]["generateName"] = "web-"
    names = {admin.create(pod)["metadata"]["name"] for _ in range(5)}
    assert len(names) == 5 and all(name.startswith("web-") and len(name) == 9 for name in names)


def test_an_invalid_deployment_is_422_naming_the_field(admin):
    broken = thaw(DEPLOYMENT)
    broken["spec"]["template"]["spec"]["containers"][0].pop("image")
    with pytest.raises(engine.Invalid) as caught:
        admin.create(broken)
    error = caught.value
    assert error.code == 422
    fields = [cause["field"] for cause in error.status["details"]["causes"]]
    assert "spec.template.spec.containers[0].image" in fields
    assert error.status["message"].startswith('Deployment.apps "web" is invalid: ')
    with pytest.raises(engine.NotFound):
        admin.get("deployments", "web", "default")


def test_list_filters_by_label_and_field_selectors(admin):
    for name, app in (("a", "web"), ("b", "web"), ("c", "db")):
        pod = thaw(POD)
        pod["metadata"] = {"name": name, "labels": {"app": app}}
        admin.create(pod)
    names = lambda listing: [item["metadata"]["name"] for item in listing["items"]]  # noqa: E731
    assert names(admin.list("pods", "default", label_selector="app=web")) == ["a", "b"]
    assert names(admin.list("pods", "default", label_selector="app in (db),!missing")) == ["c"]
    assert names(admin.list("pods", "default", field_selector="metadata.name=b")) == ["b"]
    assert names(admin.list("pods", "default", field_selector="status.phase=Pending,metadata.name!=a")) == ["b", "c"]


def test_list_pages_with_limit_and_continue_at_one_revision(admin):
    for index in range(7):
        pod = thaw(POD)
        pod["metadata"] = {"name": f"p{index}"}
        admin.create(pod)
    first = admin.list("pods", "default", limit=3)
    assert [i["metadata"]["name"] for i in first["items"]] == ["p0", "p1", "p2"]
    assert first["metadata"]["remainingItemCount"] == 4
    admin.delete("pods", "p5", "default")          # not seen: pages read the first page's revision
    second = admin.list("pods", "default", limit=3, continue_=first["metadata"]["continue"])
    third = admin.list("pods", "default", limit=3, continue_=second["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in second["items"] + third["items"]] == ["p3", "p4", "p5", "p6"]
    assert "continue" not in third["metadata"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_a_continue_token_older_than_compaction_is_410(cluster, admin):
    for index in range(4):
        pod = thaw(POD)
        pod["metadata"] = {"name": f"p{index}"}
        admin.create(pod)
    first = admin.list("pods", "default", limit=2)
    admin.delete("pods", "p3", "default")
    cluster.apiserver.compact(cluster.store.revision)
    with pytest.raises(engine.Gone) as caught:
        admin.list("pods", "default", limit=2, continue_=first["metadata"]["continue"])
    assert caught.value.code == 410


@pytest.mark.parametrize("patch_type, patch", [
    ("application/merge-patch+json", {"metadata": {"labels": {"tier": "front"}}}),
    ("application/strategic-merge-patch+json", {"metadata": {"labels": {"tier": "front"}}}),
    ("application/json-patch+json", [{"op": "add", "path": "/metadata/labels/tier", "value": "front"}]),
], ids=["a JSON merge patch adds a label", "a strategic merge patch adds a label",
        "a JSON patch adds a label"])
def test_patch_types(admin, patch_type, patch):
    admin.create(POD)
    patched = admin.patch("pods", "web", patch, "default", patch_type=patch_type)
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "front"}


def test_a_strategic_merge_patch_changes_one_container_and_keeps_the_others(admin):
    deployment = thaw(DEPLOYMENT)
    deployment["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    admin.create(deployment)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28"}]}}}}
    patched = admin.patch("deployments", "web", patch, "default",
                          patch_type="application/strategic-merge-patch+json")
    images = {c["name"]: c["image"] for c in patched["spec"]["template"]["spec"]["containers"]}
    assert images == {"nginx": "nginx:1.28", "sidecar": "busybox"}
    assert patched["metadata"]["generation"] == 2


def test_deleting_an_object_with_a_finalizer_waits_for_the_finalizer(admin):
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "held", "finalizers": ["example.com/cleanup"]}, "data": {"a": "1"}}
    admin.create(config)
    admin.delete("configmaps", "held", "default")
    held = admin.get("configmaps", "held", "default")
    assert held["metadata"]["deletionTimestamp"]
    adding = thaw(held)
    adding["metadata"]["finalizers"].append("example.com/another")
    with pytest.raises(engine.Invalid):
        admin.update(adding)
    released = thaw(held)
    released["metadata"]["finalizers"] = []
    admin.update(released)
    with pytest.raises(engine.NotFound):
        admin.get("configmaps", "held", "default")


def test_foreground_deletion_adds_the_foreground_finalizer(admin):
    admin.create(DEPLOYMENT)
    admin.delete("deployments", "web", "default", propagation_policy="Foreground")
    deployment = admin.get("deployments", "web", "default")
    assert deployment["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert deployment["metadata"]["deletionTimestamp"]


def test_a_scheduled_pod_is_deleted_gracefully_and_an_unscheduled_one_at_once(cluster, admin):
    admin.create(POD)
    admin.bind("default", "web", "node-1")
    admin.delete("pods", "web", "default")
    terminating = admin.get("pods", "web", "default")
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    admin.delete("pods", "web", "default", grace_period_seconds=0)
    with pytest.raises(engine.NotFound):
        admin.get("pods", "web", "default")
    pending = thaw(POD)
    pending["metadata"]["name"] = "pending"
    admin.create(pending)
    admin.delete("pods", "pending", "default")
    with pytest.raises(engine.NotFound):
        admin.get("pods", "pending", "default")


def test_binding_sets_the_node_and_the_pod_scheduled_condition_once(admin):
    admin.create(POD)
    admin.bind("default", "web", "node-1")
    pod = admin.get("pods", "web", "default")
    assert pod["spec"]["nodeName"] == "node-1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= pod["status"]["conditions"][0].items()
    with pytest.raises(engine.Conflict) as caught:
        admin.bind("default", "web", "control-plane")
    assert 'pod web is already assigned to node "node-1"' in caught.value.status["message"]


def test_a_pod_gets_defaults_qos_class_service_account_and_default_tolerations(admin):
    pod = admin.create(POD)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["serviceAccountName"] == "default"
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert any(v["name"].startswith("kube-api-access-") for v in spec["volumes"])
    assert {t["key"] for t in spec["tolerations"]} == {"node.kubernetes.io/not-ready",
                                                       "node.kubernetes.io/unreachable"}
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_a_pod_in_a_missing_namespace_is_404_and_in_a_terminating_one_403(admin):
    pod = thaw(POD)
    pod["metadata"]["namespace"] = "ghost"
    with pytest.raises(engine.NotFound) as missing:
        admin.create(pod)
    assert missing.value.status["message"] == 'namespaces "ghost" not found'
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "going"}})
    admin.delete("namespaces", "going")
    assert admin.get("namespaces", "going")["status"]["phase"] == "Terminating"
    pod["metadata"]["namespace"] = "going"
    with pytest.raises(engine.Forbidden) as terminating:
        admin.create(pod)
    assert "because it is being terminated" in terminating.value.status["message"]


def test_the_default_namespace_may_not_be_deleted(admin):
    with pytest.raises(engine.Forbidden) as caught:
        admin.delete("namespaces", "default")
    assert caught.value.status["message"] == 'namespaces "default" is forbidden: this namespace may not be deleted'


def test_an_rbac_limited_user_lists_pods_in_its_namespace_and_is_forbidden_elsewhere(cluster, admin):
    for namespace in ("dev", "prod"):
        admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                  "metadata": {"name": "pod-reader", "namespace": "dev"},
                  "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]})
    admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": {"name": "alice-reads-pods", "namespace": "dev"},
                  "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
                  "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}})
    alice = cluster.client("alice", ())
    assert alice.list("pods", "dev")["items"] == []
    with pytest.raises(engine.Forbidden) as caught:
        alice.list("secrets", "prod")
    assert caught.value.code == 403
    assert caught.value.status["message"] == (
        'secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "prod"')
    with pytest.raises(engine.Forbidden):
        alice.create({**POD, "metadata": {"name": "x", "namespace": "dev"}})


def test_a_bad_token_is_401(cluster):
    from engine.client.client import Client
    stranger = Client(cluster.apiserver, "not-a-token")
    with pytest.raises(engine.Unauthorized) as caught:
        stranger.list("pods", "default")
    assert caught.value.code == 401 and caught.value.status["message"] == "Unauthorized"


def test_limit_ranges_default_container_resources_and_bound_them(admin):
    admin.create({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
                  "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"},
                                       "defaultRequest": {"cpu": "250m"}, "max": {"cpu": "1"}}]}})
    pod = admin.create(POD)
    assert pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m"}}
    greedy = thaw(POD)
    greedy["metadata"]["name"] = "greedy"
    greedy["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "2"}}
    with pytest.raises(engine.Forbidden) as caught:
        admin.create(greedy)
    assert caught.value.status["message"] == (
        'pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2')


def test_a_resource_quota_refuses_the_pod_that_would_exceed_it(admin):
    admin.create({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "small"},
                  "spec": {"hard": {"pods": "2"}}})
    for index in range(2):
        admin.create({**POD, "metadata": {"name": f"p{index}"}})
    with pytest.raises(engine.Forbidden) as caught:
        admin.create({**POD, "metadata": {"name": "p2"}})
    assert caught.value.status["message"] == (
        'pods "p2" is forbidden: exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2')


def test_services_get_a_cluster_ip_and_node_ports(admin):
    service = admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                            "spec": {"type": "NodePort", "selector": {"app": "web"},
                                     "ports": [{"port": 80, "targetPort": 8080}]}})
    assert service["spec"]["clusterIP"].startswith("10.")
    assert 30000 <= service["spec"]["ports"][0]["nodePort"] <= 32767
    assert admin.get("services", "kubernetes", "default")["spec"]["clusterIP"] == "10.96.0.1"
    taken = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dup"},
             "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}
    with pytest.raises(engine.Invalid) as caught:
        admin.create(taken)
    assert "provided IP is already allocated" in caught.value.status["message"]


def test_watch_delivers_events_in_order_after_the_watch_delay(cluster, admin):
    seen = []
    start = admin.list("pods", "default")["metadata"]["resourceVersion"]
    admin.watch("pods", seen.append, "default", resource_version=start, delay=0.5)
    admin.create(POD)
    admin.patch("pods", "web", {"metadata": {"labels": {"v": "2"}}}, "default")
    admin.delete("pods", "web", "default")
    assert seen == []
    cluster.run(0.4)
    assert seen == []
    cluster.run(0.2)
    assert [event["type"] for event in seen] == ["ADDED", "MODIFIED", "DELETED"]
    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in seen]
    assert versions == sorted(versions)
    with pytest.raises(TypeError, match="read-only"):
        seen[0]["object"]["metadata"]["name"] = "changed"


def test_a_watch_with_a_label_selector_sees_objects_leave_as_deleted(cluster, admin):
    seen = []
    admin.create(POD)
    admin.watch("pods", seen.append, "default", label_selector="app=web", resource_version="0")
    admin.patch("pods", "web", {"metadata": {"labels": {"app": "other"}}}, "default")
    cluster.run(1)
    assert [event["type"] for event in seen] == ["ADDED", "DELETED"]


def test_a_watch_from_a_compacted_revision_gets_410_expired(cluster, admin):
    old = admin.list("pods", "default")["metadata"]["resourceVersion"]
    for index in range(3):
        admin.create({**POD, "metadata": {"name": f"p{index}"}})
    cluster.apiserver.compact(cluster.store.revision)
    seen = []
    admin.watch("pods", seen.append, "default", resource_version=old)
    cluster.run(1)
    assert len(seen) == 1 and seen[0]["type"] == "ERROR"
    assert seen[0]["object"]["code"] == 410 and seen[0]["object"]["reason"] == "Expired"
    assert seen[0]["object"]["message"].startswith("too old resource version")


def test_bookmarks_reach_watchers_that_allow_them(cluster, admin):
    seen = []
    admin.watch("configmaps", seen.append, "default", resource_version=str(cluster.store.revision),
                allow_bookmarks=True)
    cluster.run(61)
    bookmarks = [event for event in seen if event["type"] == "BOOKMARK"]
    assert bookmarks and int(bookmarks[0]["object"]["metadata"]["resourceVersion"]) >= 1


def test_every_request_is_audited_with_who_what_and_the_result(cluster, admin):
    before = cluster.apiserver.audit.total
    admin.create(POD)
    with pytest.raises(engine.NotFound):
        admin.get("pods", "missing", "default")
    entries = [event.to_dict() for event in cluster.apiserver.audit.since(before)]
    create, failed_get = entries[0], entries[1]
    assert create["verb"] == "create" and create["responseStatus"]["code"] == 201
    assert create["user"]["username"] == "kubernetes-admin"
    assert create["objectRef"]["resource"] == "pods" and create["objectRef"]["namespace"] == "default"
    assert create["objectRef"]["name"] == "web"
    assert create["objectRef"]["resourceVersion"] == admin.get("pods", "web", "default")["metadata"][
        "resourceVersion"]
    assert failed_get["verb"] == "get" and failed_get["responseStatus"]["code"] == 404


def test_a_refused_create_names_its_object_once_the_body_was_read(cluster, admin):
    # LogRequestObject: an invalid create (422) was decoded, so its entry names the object; a forbidden one
    # (403) was refused by authorization before the handler read the body.
    before = cluster.apiserver.audit.total
    with pytest.raises(engine.Invalid):
        admin.create({**POD, "metadata": {"name": "bad"}, "spec": {"containers": []}})
    with pytest.raises(engine.Forbidden):
        cluster.client("jane").create(POD)
    invalid, forbidden = [event.to_dict() for event in cluster.apiserver.audit.since(before)]
    assert (invalid["responseStatus"]["code"], invalid["objectRef"].get("name")) == (422, "bad")
    assert (forbidden["responseStatus"]["code"], forbidden["objectRef"].get("name")) == (403, None)


def test_events_expire_with_their_etcd_lease(cluster, admin):
    admin.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
                  "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                  "reason": "Test", "message": "hello", "type": "Normal"})
    assert admin.get("events", "e1", "default")["reason"] == "Test"
    cluster.run(3700)
    with pytest.raises(engine.NotFound):
        admin.get("events", "e1", "default")


def test_watch_deliveries_are_recorded_per_watcher_for_request_traces(cluster, admin):
    watcher = cluster.client("trace-watcher", ("system:masters",))
    watcher.watch("pods", lambda event: None, resource_version=str(cluster.store.revision))
    created = admin.create(POD)
    cluster.run(1)
    mine = [d for d in cluster.apiserver.deliveries if d.user == "trace-watcher" and d.resource == "pods"]
    assert [(d.type, d.namespace, d.name) for d in mine][0] == ("ADDED", "default", "web")
    assert {d.type for d in mine[1:]} <= {"MODIFIED"}     # the scheduler binds it, its kubelet reports status
    assert mine[0].revision == int(created["metadata"]["resourceVersion"])


def test_a_job_gets_a_generated_selector_on_the_controller_uid(admin):
    job = admin.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
                        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                            {"name": "pi", "image": "perl:5.34.0",
                             "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}]}}}})
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "pi" and labels["controller-uid"] == uid


def test_a_service_update_without_its_cluster_ip_keeps_it(admin):
    created = admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                            "spec": {"type": "NodePort", "ports": [{"port": 80}]}})
    replacement = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"type": "NodePort", "ports": [{"port": 80}], "selector": {"app": "web"}}}
    updated = admin.update(replacement)
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert updated["spec"]["ports"][0]["nodePort"] == created["spec"]["ports"][0]["nodePort"]


def test_the_authorizer_keeps_its_decisions_until_an_rbac_object_changes(cluster, admin):
    rules = cluster.apiserver.authorizer.rules_source
    before = rules.version()
    admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}})   # the store moves on
    watch = admin.watch("clusterrolebindings", lambda event: None, resource_version=str(cluster.store.revision))
    cluster.run(120)                    # a new watch and bookmarks bring the RBAC caches up to the store's revision
    watch.stop()
    assert rules.version() == before
    admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": "viewers"}, "subjects": [{"kind": "Group", "name": "viewers"}],
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}})
    assert rules.version() != before
