"""Grading: what labs use to plug a learner's code into the engine and fail with feedback that teaches.

A lab's test cells use three kinds of tools:

- feedback (``engine.grading.feedback``): ``check`` and ``compare`` raise a
  ``GradingFailure`` (an ``AssertionError``) whose message says what was
  expected, what happened and where to look, shown without a traceback;
- plugs (``engine.grading.authorizer``): ``plug_authorizer(cluster, authorize)`` makes a
  running cluster's API server decide real requests with the learner's function;
- scenarios (``engine.grading.store``, ``engine.grading.rbac``,
  ``engine.grading.selectors``): seeded generators of store operations, RBAC
  policies and requests, and label selectors, with the engine's own answers.

Nothing here prints or writes to stderr (nbgrader scores such a test cell zero).
"""

from engine.grading.feedback import GradingFailure, check, compare, describe_exception, fail
from engine.grading.authorizer import LearnerAuthorizer, plug_authorizer, unplug_authorizer
from engine.grading.store import RacingStore, apply_operations, kept_history, random_operations, reference_watch

__all__ = ["GradingFailure", "LearnerAuthorizer", "RacingStore", "apply_operations", "check", "compare",
           "describe_exception", "fail", "kept_history", "plug_authorizer", "random_operations", "reference_watch",
           "unplug_authorizer"]
