"""JSON merge patch, JSON patch and strategic merge patch, checked against the real server's results."""

from __future__ import annotations

import copy

import pytest

from engine.api import errors
from engine.api.frozen import freeze
from engine.apiserver.patch import apply_patch, json_merge_patch, json_patch, strategic_merge_patch


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "frontend"},
                     "finalizers": ["example.com/a", "example.com/b"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.25",
                         "ports": [{"containerPort": 80, "protocol": "TCP"}],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                },
            },
        },
    }


def template_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def names(items: list) -> list:
    return [item["name"] for item in items]


# -- strategic merge patch ---------------------------------------------------

SMP_CASES = [
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}},
        lambda o: [(c["name"], c["image"]) for c in template_spec(o)["containers"]],
        [("nginx", "nginx:1.26"), ("sidecar", "busybox:1.36")],
        id="changing one container's image keeps the other containers and the changed container's other fields",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}},
        lambda o: template_spec(o)["containers"][0]["ports"],
        [{"containerPort": 80, "protocol": "TCP"}],
        id="fields of a merged container that the patch does not mention are kept",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
        lambda o: names(template_spec(o)["containers"]),
        ["nginx"],
        id="an element with $patch delete removes the container with that name",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis:7"}]}}}},
        lambda o: names(template_spec(o)["containers"]),
        ["redis", "nginx", "sidecar"],
        id="a new container is put first, as the kubectl patch docs show for patch-demo-ctr-2",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"},
                                                       {"name": "only", "image": "pause:3.9"}]}}}},
        lambda o: template_spec(o)["containers"],
        [{"name": "only", "image": "pause:3.9"}],
        id="an element with $patch replace makes the rest of the patch list the whole list",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": []}}}},
        lambda o: names(template_spec(o)["containers"]),
        ["nginx", "sidecar"],
        id="an empty list in a merging field changes nothing",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}},
        lambda o: template_spec(o)["tolerations"],
        [{"key": "b", "operator": "Exists"}],
        id="tolerations have no patch strategy so the list is replaced",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}]}]}}}},
        lambda o: template_spec(o)["containers"][0]["env"],
        [{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
        id="env merges by name inside a merged container",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]}}}},
        lambda o: template_spec(o)["containers"][0]["ports"],
        [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
        id="container ports merge by containerPort",
    ),
    pytest.param(
        {"metadata": {"labels": {"tier": None, "track": "stable"}}},
        lambda o: o["metadata"]["labels"],
        {"app": "web", "track": "stable"},
        id="null deletes a label and other labels merge",
    ),
    pytest.param(
        {"metadata": {"finalizers": ["example.com/c", "example.com/a"]}},
        lambda o: o["metadata"]["finalizers"],
        ["example.com/c", "example.com/a", "example.com/b"],
        id="finalizers merge as a set of strings without duplicates",
    ),
    pytest.param(
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}},
        lambda o: o["metadata"]["finalizers"],
        ["example.com/b"],
        id="$deleteFromPrimitiveList removes values from a merged list of strings",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
                                        "containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}},
        lambda o: [(c["name"], c["image"]) for c in template_spec(o)["containers"]],
        [("sidecar", "busybox:1.36"), ("nginx", "nginx:1.26")],
        id="$setElementOrder reorders the merged list",
    ),
    pytest.param(
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        lambda o: o["spec"]["strategy"],
        {"type": "Recreate"},
        id="$retainKeys clears the keys it does not name, so rollingUpdate goes with RollingUpdate",
    ),
    pytest.param(
        {"spec": {"template": {"metadata": {"$patch": "replace", "labels": {"app": "api"}}}}},
        lambda o: o["spec"]["template"]["metadata"],
        {"labels": {"app": "api"}},
        id="a map with $patch replace replaces the whole map",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"affinity": {"nodeAffinity": {"x": None, "y": 1}}}}}},
        lambda o: template_spec(o)["affinity"],
        {"nodeAffinity": {"y": 1}},
        id="a new map from the patch is stored without its nulls",
    ),
]


@pytest.mark.parametrize("patch, read, expected", SMP_CASES)
def test_strategic_merge_patch(patch: dict, read, expected) -> None:
    assert read(strategic_merge_patch(deployment(), patch, "Deployment")) == expected


@pytest.mark.parametrize("kind, obj, patch, read, expected", [
    pytest.param("CronJob",
                 {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                     {"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}}}},
                 {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                     {"name": "a", "image": "z"}]}}}}}},
                 lambda o: o["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"],
                 [{"name": "a", "image": "z"}, {"name": "b", "image": "y"}],
                 id="a CronJob's jobTemplate pod template resolves to the PodSpec tags"),
    pytest.param("Pod",
                 {"spec": {"containers": [{"name": "a", "image": "x"}]},
                  "status": {"conditions": [{"type": "Ready", "status": "False"},
                                            {"type": "PodScheduled", "status": "True"}]}},
                 {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                 lambda o: o["status"]["conditions"],
                 [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                 id="pod conditions merge by type, which is how the kubelet patches status"),
    pytest.param("svc",
                 {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}},
                 {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}},
                 lambda o: o["spec"]["ports"],
                 [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}],
                 id="service ports merge by port and the kind may be a short name"),
    pytest.param("RoleBinding",
                 {"subjects": [{"kind": "User", "name": "alice"}]},
                 {"subjects": [{"kind": "User", "name": "bob"}]},
                 lambda o: o["subjects"],
                 [{"kind": "User", "name": "bob"}],
                 id="RoleBinding subjects have no patch strategy so they are replaced"),
    pytest.param("StatefulSet",
                 {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]}},
                 {"metadata": {"ownerReferences": [{"uid": "2", "name": "b2"}]}},
                 lambda o: o["metadata"]["ownerReferences"],
                 [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b2"}],
                 id="ownerReferences merge by uid on every kind"),
])
def test_strategic_merge_patch_other_kinds(kind: str, obj: dict, patch: dict, read, expected) -> None:
    assert read(strategic_merge_patch(obj, patch, kind)) == expected


@pytest.mark.parametrize("patch, error, code, message", [
    pytest.param({"spec": {"template": {"spec": {"containers": [{"image": "nginx"}]}}}},
                 errors.ApiError, 500, "map: map[image:nginx] does not contain declared merge key: name",
                 id="a merged list element without its merge key is the real server's reason-less 500"),
    pytest.param({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
                 errors.BadRequest, 400, "invalid patch format of retainKeys",
                 id="a key missing from $retainKeys is a bad request"),
    pytest.param({"metadata": {"$deleteFromPrimitiveList": ["a"]}},
                 errors.BadRequest, 400, "invalid patch format of primitive list",
                 id="$deleteFromPrimitiveList without a field name is a bad request"),
    pytest.param({"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}}},
                 errors.ApiError, 500, "merging lists cannot yet be specified in the patch",
                 id="$patch merge inside a list is refused as the real server refuses it"),
])
def test_strategic_merge_patch_errors(patch: dict, error: type, code: int, message: str) -> None:
    with pytest.raises(error) as caught:
        strategic_merge_patch(deployment(), patch, "Deployment")
    assert (caught.value.code, caught.value.message) == (code, message)


def test_strategic_merge_patch_of_an_unknown_kind_is_unsupported_media_type() -> None:
    with pytest.raises(errors.ApiError) as caught:
        strategic_merge_patch({}, {}, "Widget")
    assert caught.value.status["code"] == 415
    assert caught.value.status["reason"] == "UnsupportedMediaType"
    assert caught.value.message == ("the body of the request was in an unknown format - accepted media types "
                                    "include: application/json-patch+json, application/merge-patch+json")


# -- JSON merge patch --------------------------------------------------------

@pytest.mark.parametrize("patch, read, expected", [
    pytest.param({"metadata": {"labels": {"tier": None}}}, lambda o: o["metadata"]["labels"], {"app": "web"},
                 id="null deletes a label"),
    pytest.param({"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "y"}]}}}},
                 lambda o: template_spec(o)["containers"], [{"name": "x", "image": "y"}],
                 id="a merge patch replaces lists whole, containers included"),
    pytest.param({"spec": {"replicas": 5, "paused": True}}, lambda o: (o["spec"]["replicas"], o["spec"]["paused"]),
                 (5, True), id="scalars are replaced and new keys are added"),
    pytest.param({"spec": {"strategy": {"rollingUpdate": {"maxSurge": None}}}},
                 lambda o: o["spec"]["strategy"], {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
                 id="null deletes deep inside nested maps"),
    pytest.param({"status": {"x": {"y": None, "z": 1}}}, lambda o: o["status"], {"x": {"z": 1}},
                 id="a new map is added without its nulls"),
])
def test_json_merge_patch(patch: dict, read, expected) -> None:
    assert read(json_merge_patch(deployment(), patch)) == expected


def test_json_merge_patch_refuses_a_patch_that_is_not_an_object() -> None:
    with pytest.raises(errors.BadRequest, match="^Invalid JSON Patch$"):
        json_merge_patch(deployment(), [1, 2])


# -- JSON patch ----------------------------------------------------------------

@pytest.mark.parametrize("operations, read, expected", [
    pytest.param([{"op": "replace", "path": "/spec/replicas", "value": 3}], lambda o: o["spec"]["replicas"], 3,
                 id="replace changes a value"),
    pytest.param([{"op": "add", "path": "/metadata/labels/example.com~1team", "value": "a"}],
                 lambda o: o["metadata"]["labels"]["example.com/team"], "a",
                 id="~1 in a pointer stands for a slash in a label key"),
    pytest.param([{"op": "add", "path": "/metadata/annotations", "value": {"a~b": "1"}},
                  {"op": "replace", "path": "/metadata/annotations/a~0b", "value": "2"}],
                 lambda o: o["metadata"]["annotations"], {"a~b": "2"},
                 id="~0 in a pointer stands for a tilde"),
    pytest.param([{"op": "add", "path": "/metadata/finalizers/-", "value": "example.com/c"}],
                 lambda o: o["metadata"]["finalizers"], ["example.com/a", "example.com/b", "example.com/c"],
                 id="- appends to a list"),
    pytest.param([{"op": "add", "path": "/spec/template/spec/containers/0",
                   "value": {"name": "init", "image": "x"}}],
                 lambda o: names(template_spec(o)["containers"]), ["init", "nginx", "sidecar"],
                 id="add at an index inserts before that element"),
    pytest.param([{"op": "remove", "path": "/spec/template/spec/containers/1"}],
                 lambda o: names(template_spec(o)["containers"]), ["nginx"],
                 id="remove deletes a list element"),
    pytest.param([{"op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/layer"}],
                 lambda o: o["metadata"]["labels"], {"app": "web", "layer": "frontend"},
                 id="move renames a key"),
    pytest.param([{"op": "copy", "from": "/metadata/labels", "path": "/spec/selector"}],
                 lambda o: o["spec"]["selector"], {"app": "web", "tier": "frontend"},
                 id="copy duplicates a subtree"),
    pytest.param([{"op": "test", "path": "/spec/replicas", "value": 2},
                  {"op": "replace", "path": "/spec/replicas", "value": 4}],
                 lambda o: o["spec"]["replicas"], 4,
                 id="a passing test lets the next operations apply"),
])
def test_json_patch(operations: list, read, expected) -> None:
    assert read(json_patch(deployment(), operations)) == expected


@pytest.mark.parametrize("operations, cause", [
    pytest.param([{"op": "test", "path": "/metadata/labels/app", "value": "api"}],
                 "testing value /metadata/labels/app failed: test failed",
                 id="a failed test op is a 422 that says which value failed"),
    pytest.param([{"op": "test", "path": "/spec/replicas", "value": True}],
                 "testing value /spec/replicas failed: test failed",
                 id="true is not equal to a number in a test op"),
    pytest.param([{"op": "remove", "path": "/spec/template/spec/affinity"}],
                 "error in remove for path: '/spec/template/spec/affinity': "
                 "Unable to remove nonexistent key: affinity: missing value",
                 id="removing a missing key does not apply"),
    pytest.param([{"op": "add", "path": "/spec/nothing/here", "value": 1}],
                 'add operation does not apply: doc is missing path: "/spec/nothing/here": missing value',
                 id="adding under a missing parent does not apply"),
    pytest.param([{"op": "replace", "path": "/spec/paused", "value": True}],
                 "replace operation does not apply: doc is missing key: /spec/paused: missing value",
                 id="replacing a missing key does not apply"),
    pytest.param([{"op": "add", "path": "/metadata/finalizers/5", "value": "x"}],
                 "error in add for path: '/metadata/finalizers/5': Unable to access invalid index: 5: "
                 "invalid index referenced",
                 id="adding past the end of a list does not apply"),
    pytest.param([{"op": "increment", "path": "/spec/replicas"}], "Unexpected kind: increment",
                 id="an unknown op does not apply"),
])
def test_json_patch_that_does_not_apply(operations: list, cause: str) -> None:
    original = deployment()
    with pytest.raises(errors.Invalid) as caught:
        json_patch(original, operations)
    assert caught.value.code == 422
    assert caught.value.message == "the server rejected our request due to an error in our request"
    assert caught.value.causes == [{"message": cause}]
    assert original == deployment()


def test_json_patch_is_all_or_nothing() -> None:
    original = deployment()
    with pytest.raises(errors.Invalid):
        json_patch(original, [{"op": "replace", "path": "/spec/replicas", "value": 9},
                              {"op": "test", "path": "/spec/replicas", "value": 2}])
    assert original["spec"]["replicas"] == 2


def test_json_patch_body_must_be_a_list() -> None:
    with pytest.raises(errors.BadRequest):
        json_patch(deployment(), {"op": "add"})


# -- dispatch and purity ---------------------------------------------------------

@pytest.mark.parametrize("patch_type, patch, expected_images", [
    pytest.param("application/strategic-merge-patch+json",
                 {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "n2"}]}}}},
                 ["n2", "busybox:1.36"], id="the strategic content type merges containers by name"),
    pytest.param("strategic", {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "n2"}]}}}},
                 ["n2", "busybox:1.36"], id="the short name strategic is what kubectl patch --type takes"),
    pytest.param("application/merge-patch+json; charset=utf-8",
                 {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "n2"}]}}}},
                 ["n2"], id="the merge content type with parameters replaces the container list"),
    pytest.param("json", [{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "b2"}],
                 ["nginx:1.25", "b2"], id="the short name json applies a JSON patch"),
])
def test_apply_patch_dispatches_on_content_type(patch_type: str, patch, expected_images: list) -> None:
    result = apply_patch(deployment(), patch, patch_type, "Deployment")
    assert [c["image"] for c in template_spec(result)["containers"]] == expected_images


def test_apply_patch_refuses_an_unknown_content_type_with_415() -> None:
    with pytest.raises(errors.ApiError) as caught:
        apply_patch(deployment(), {}, "application/yaml", "Deployment")
    assert caught.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, "
                   "application/strategic-merge-patch+json",
        "reason": "UnsupportedMediaType", "code": 415,
    }


@pytest.mark.parametrize("patch_type, patch", [
    pytest.param("strategic", {"metadata": {"labels": {"app": None}},
                               "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "x"}]}}}},
                 id="a strategic merge patch leaves frozen inputs untouched"),
    pytest.param("merge", {"metadata": {"labels": {"app": None}}}, id="a merge patch leaves frozen inputs untouched"),
    pytest.param("json", [{"op": "remove", "path": "/metadata/labels/app"}],
                 id="a JSON patch leaves frozen inputs untouched"),
])
def test_patches_never_change_their_inputs(patch_type: str, patch) -> None:
    target, patch_copy = freeze(deployment()), copy.deepcopy(patch)
    result = apply_patch(target, freeze(patch), patch_type, "Deployment")
    assert target == deployment() and patch == patch_copy
    result["metadata"]["labels"]["new"] = "ok"   # the result is plain and mutable
