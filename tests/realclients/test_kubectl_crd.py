"""The real kubectl and a CustomResourceDefinition: discovery picks up the new kind, tables and errors are real.

The module's own cluster (the fixtures are module-scoped) is served on
127.0.0.1; kubectl applies the Kubernetes docs' CronTab CRD, waits for it to be
``Established``, then finds ``crontabs`` and ``ct`` through discovery, prints
them with the CRD's printer columns, and shows the schema's 422.
"""

from __future__ import annotations

import json

import yaml

from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}},
                           "additionalPrinterColumns": [
                               {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                               {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                               {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}],
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {
                                   "cronSpec": {"type": "string"}, "image": {"type": "string"},
                                   "replicas": {"type": "integer", "minimum": 1, "maximum": 10}}},
                               "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}

CRONTAB = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "my-new-cron-object"},
           "spec": {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", "replicas": 2}}


def _established(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(CRD))
    kubectl("wait", "--for=condition=Established", "crd/crontabs.stable.example.com", "--timeout=30s")


def test_a_crd_becomes_a_resource_kubectl_discovers_and_lists(kubectl: Kubectl) -> None:
    _established(kubectl)
    rows = {line.split()[0]: line.split() for line in kubectl("api-resources").stdout.splitlines()[1:]}
    assert rows["crontabs"] == ["crontabs", "ct", "stable.example.com/v1", "true", "CronTab"]
    assert kubectl("apply", "-f", "-", stdin=yaml.safe_dump(CRONTAB)).stdout.strip() == \
        "crontab.stable.example.com/my-new-cron-object created"
    table = kubectl("get", "ct").stdout.splitlines()
    assert table[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert table[1].split()[:6] == ["my-new-cron-object", "*", "*", "*", "*", "*/5"]
    assert table[1].split()[6] == "2"
    stored = json.loads(kubectl("get", "crontab", "my-new-cron-object", "-o", "json").stdout)
    assert stored["spec"]["image"] == "my-awesome-cron-image" and stored["metadata"]["generation"] == 1


def test_the_schema_refuses_a_bad_object_with_the_field_named(kubectl: Kubectl) -> None:
    _established(kubectl)
    bad = {**CRONTAB, "metadata": {"name": "too-many"}, "spec": {"cronSpec": "* * * * *", "replicas": 15}}
    result = kubectl("apply", "-f", "-", stdin=yaml.safe_dump(bad), check=False)
    assert result.returncode != 0
    assert 'The CronTab "too-many" is invalid: spec.replicas: Invalid value: 15: ' \
           'spec.replicas in body should be less than or equal to 10' in result.stderr


def test_deleting_the_crd_removes_the_resource_from_discovery(kubectl: Kubectl) -> None:
    _established(kubectl)
    kubectl("delete", "crd", "crontabs.stable.example.com")
    kubectl("wait", "--for=delete", "crd/crontabs.stable.example.com", "--timeout=30s", check=False)
    result = kubectl("get", "crontabs", check=False)
    assert result.returncode != 0 and "Error from server (NotFound)" in result.stderr
    assert "crontabs" not in kubectl("api-resources").stdout
