"""Validation: what the API server checks before it stores an object, and how it says what is wrong.

``validate(obj, old=None)`` returns the causes of a 422 Invalid ``Status``, each
``{"reason", "message", "field"}`` exactly as the real kube-apiserver builds
them from a ``field.ErrorList``: the reason is the error type
(``FieldValueRequired``, ``FieldValueInvalid``, ``FieldValueNotSupported``,
``FieldValueDuplicate``, ``FieldValueForbidden``, ``FieldValueTooLong``,
``FieldValueNotFound``, ``FieldValueTypeInvalid``), the message is Go's
``ErrorBody()`` (``Required value``, ``Invalid value: "Foo_Bar": a lowercase RFC
1123 subdomain ...``, ``Unsupported value: "Sometimes": supported values:
...``), and the field is Go's path (``spec.template.spec.containers[0].image``,
``spec.containers[0].resources.requests``). An empty list means valid.
``engine.api.errors.invalid(kind, name, causes)`` turns the list into the error.

The checks are ported from ``pkg/apis/*/validation`` and
``k8s.io/apimachinery/pkg/api/validation``, kind by kind, with their quirks
(a Pod template's labels are reported at ``spec.template.labels``; a request
above its limit at ``...resources.requests``; a Node's taints at
``metadata.taints``). With ``old`` given, the update rules apply as well:
immutable metadata, selectors, pod specs, Job templates, cluster IPs, role refs.

What the caller must have done first, as the API server does: defaulting
(``engine.api.defaults.apply_defaults``), filling ``metadata.namespace`` from
the request, generating names, and, for a Job, ``generate_job_selector``.
Deliberate differences from the real server, because the engine has no typed
decoder in front of validation: a value of the wrong JSON type gives a
``FieldValueTypeInvalid`` cause here (the real server answers 400 when it
decodes), and so does a malformed quantity; an object with only
``generateName`` is not asked for a name; ``resourceVersion`` is not required
on update (the API server's store fills it in).

Also here: ``int_or_percent``, Go's ``intstr.GetScaledValueFromIntOrPercent``,
which the Deployment and DaemonSet controllers use for maxSurge/maxUnavailable,
and ``parse_schedule``, the cron parser CronJob validation uses.

The modules, from the bottom up:

- ``fields``: the error list and field paths (``field.Error``, ``field.Path``).
- ``formats``: names, ports, keys, percentages, IPs (``apimachinery/pkg/util/validation``).
- ``meta``: ObjectMeta, labels, annotations, label selectors.
- ``resources``: resource names and quantities, LimitRange, ResourceQuota.
- ``volumes``, ``containers``, ``pods``: the PodSpec, and Pods themselves.
- ``workloads`` (apps), ``batch`` with ``cron``, ``networking``, ``cluster``,
  ``config``, ``storage``, ``rbac``, ``autoscaling``: the kinds, by API area.
- ``decoder``: the JSON types a typed decoder would enforce.
- ``dispatch``: ``validate``, from a kind to its checks.
"""

from engine.api.validation.cron import CronSchedule, parse_schedule
from engine.api.validation.dispatch import validate
from engine.api.validation.workloads import int_or_percent

__all__ = ["validate", "int_or_percent", "parse_schedule", "CronSchedule"]
