"""Batch: Job and CronJob.

Mirrors ``pkg/apis/batch/validation``: the Job spec's counts and modes, a pod
template that restarts OnFailure or Never, the generated selector and the
labels it expects in the template (the caller must have run
``generate_job_selector`` first, as the API server does), the fields that
never change on update (with the suspended-Job exception for scheduling
directives), and a CronJob's schedule, policies and name length.

The schedule itself is parsed by ``engine.api.validation.cron``.
"""

from __future__ import annotations

import json

from engine.api.selectors import SelectorError, from_label_selector
from engine.api.validation.cron import parse_schedule
from engine.api.validation.fields import Errors, GoValue, child, get_int, get_object, get_spec, get_string
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.meta import go_label_selector, normal_selector, validate_label_selector, validate_metadata
from engine.api.validation.pods import validate_pod_template

LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def _validate_job_spec(errs: Errors, spec: dict, path: str) -> None:
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                 "backoffLimitPerIndex", "maxFailedIndexes"):
        value = get_int(errs, spec, name, child(path, name))
        if value is not None:
            errs.nonnegative(child(path, name), value)
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.not_supported(child(path, "completionMode"), mode, ("NonIndexed", "Indexed"))
    if mode == "Indexed" and spec.get("completions") is None:
        errs.required(child(path, "completions"), "when completion mode is Indexed")
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None:
            if replacement != "Failed":
                errs.not_supported(child(path, "podReplacementPolicy"), replacement, ("Failed",))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            errs.not_supported(child(path, "podReplacementPolicy"), replacement, ("Failed", "TerminatingOrFailed"))
    tpath = child(path, "template")
    validate_pod_template(errs, spec.get("template"), tpath)
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    restart = (template.get("spec") or {}).get("restartPolicy") if isinstance(template.get("spec"), dict) else None
    rpath = child(child(tpath, "spec"), "restartPolicy")
    if restart in ("Always", "", None):
        errs.required(rpath, 'valid values: "OnFailure", "Never"')
    elif restart not in ("OnFailure", "Never"):
        errs.not_supported(rpath, restart, ("OnFailure", "Never"))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.invalid(rpath, restart, 'only "Never" is supported when podFailurePolicy is specified')


def validate_job(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    template_meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    if old is None and spec.get("manualSelector") is not True and spec.get("selector") is not None:
        uid, name = meta.get("uid") or "", meta.get("name") or ""
        if not uid:
            errs.required("metadata.uid")
        labels = template_meta.get("labels") or {}
        expected = {LEGACY_CONTROLLER_UID_LABEL: uid, LEGACY_JOB_NAME_LABEL: name,
                    CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: name}
        for label, value in expected.items():
            if label not in labels:
                errs.required(f"spec.template.metadata.labels[{label}]", f"must be '{value}'")
            elif labels[label] != value:
                errs.invalid(f"spec.template.metadata.labels[{label}]", labels, f"must be '{value}'")
        try:
            if not from_label_selector(spec["selector"]).matches(expected):
                errs.invalid("spec.selector", go_label_selector(spec["selector"]), "`selector` not auto-generated")
        except SelectorError:
            pass
    _validate_job_spec(errs, spec, "spec")
    selector = spec.get("selector")
    if selector is None:
        errs.required("spec.selector")
    else:
        validate_label_selector(errs, selector, "spec.selector")
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
        labels = template_meta.get("labels")
        if not sel.matches(labels if isinstance(labels, dict) else {}):
            errs.invalid("spec.template.metadata.labels", labels if labels is not None else
                         GoValue("map[string]string(nil)"), "`selector` does not match template `labels`")
    except SelectorError:
        pass
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        if spec.get("completions") != old_spec.get("completions"):
            errs.invalid("spec.completions", spec.get("completions"), "field is immutable")
        if normal_selector(spec.get("selector")) != normal_selector(old_spec.get("selector")):
            errs.invalid("spec.selector", go_label_selector(spec.get("selector")), "field is immutable")
        new_template, old_template = json.loads(json.dumps(template)), json.loads(json.dumps(old_spec.get("template") or {}))
        if old_spec.get("suspend") is True and not (old.get("status") or {}).get("startTime"):
            for t in (new_template, old_template):  # scheduling directives of a suspended, never-started Job
                t.setdefault("metadata", {}).pop("labels", None)
                t["metadata"].pop("annotations", None)
                for k in ("nodeSelector", "tolerations", "schedulingGates", "affinity"):
                    (t.get("spec") or {}).pop(k, None)
        if new_template != old_template:
            errs.invalid("spec.template", GoValue("core.PodTemplateSpec{...}"), "field is immutable")
        for name in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
            if spec.get(name) != old_spec.get(name):
                errs.invalid(f"spec.{name}", spec.get(name), "field is immutable")


def validate_cron_job(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    schedule = get_string(errs, spec, "schedule", "spec.schedule")
    if not schedule:
        errs.required("spec.schedule")
    else:
        try:
            parse_schedule(schedule)
        except ValueError as err:
            errs.invalid("spec.schedule", schedule, str(err))
        old_schedule = ((old or {}).get("spec") or {}).get("schedule") or ""
        if "TZ" in schedule and "TZ" not in old_schedule:
            errs.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    deadline = get_int(errs, spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds")
    if deadline is not None:
        errs.nonnegative("spec.startingDeadlineSeconds", deadline)
    tz = spec.get("timeZone")
    if tz is not None and (not isinstance(tz, str) or not tz):
        errs.invalid("spec.timeZone", tz, "timeZone must be nil or non-empty string")
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        errs.required("spec.concurrencyPolicy")
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace"))
    job_template = get_object(errs, spec, "jobTemplate", "spec.jobTemplate") or {}
    job_spec = get_object(errs, job_template, "spec", "spec.jobTemplate.spec") or {}
    _validate_job_spec(errs, job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        errs.invalid("spec.jobTemplate.spec.selector", go_label_selector(job_spec["selector"]),
                     "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        errs.not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
    for name in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = get_int(errs, spec, name, f"spec.{name}")
        if value is not None:
            errs.nonnegative(f"spec.{name}", value)
    name = (obj.get("metadata") or {}).get("name") or ""
    if old is None and len(name) > 52:
        errs.invalid("metadata.name", name, "must be no more than 52 characters")
