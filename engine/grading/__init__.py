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

Two guards make hidden tests trustworthy; every lab's hidden tests use both:

- ``engine.grading.integrity``: a learner's notebook shares the Python that grades it, so it could
  monkeypatch the engine or shadow it. Begin every hidden-test block with

      ### BEGIN HIDDEN TESTS
      from engine.grading.integrity import ensure_installed
      ensure_installed()     # the engine as installed, whatever the notebook patched
      from engine.grading.scheduler import check_filter      # import the checks after it
      check_filter(filter_nodes, seed=40)

  and build the cluster a check runs the learner's code in with ``fresh_cluster(**kwargs)``
  (never a cluster the notebook made). ``make grade`` (``grading/``) also runs the guard itself
  before every test cell, from a fresh copy of the module, and rebinds the names your read-only
  cells import from the engine (``check``, ``fail``); the call in the hidden tests keeps a lab
  safe when it is graded by plain nbgrader too.
- ``engine.grading.delegation.OwnWork``: the engine holds the reference of every piece a lab asks
  for; an answer that is it, imports it or calls into it gets no marks. In a lab's check function:

      own = OwnWork("filter_nodes", [NodeResourcesFit, reference_filter], see=SEE_SCHEDULER)
      compare(own.wrap(filter_nodes), reference_filter, cases, ...)
      own.check(filter_nodes)           # GradingFailure saying the answer delegates

  Pass classes to cover all their methods; wrap the grader's own calls made inside the learner's
  call in ``with own.paused():``. ``engine.grading.store`` and ``engine.grading.rbac`` are examples.

Nothing here prints or writes to stderr (nbgrader scores such a test cell zero).
"""

from engine.grading.feedback import GradingFailure, check, compare, describe_exception, fail
from engine.grading.authorizer import LearnerAuthorizer, plug_authorizer, unplug_authorizer
from engine.grading.store import RacingStore, apply_operations, kept_history, random_operations, reference_watch

__all__ = ["GradingFailure", "LearnerAuthorizer", "RacingStore", "apply_operations", "check", "compare",
           "describe_exception", "fail", "kept_history", "plug_authorizer", "random_operations", "reference_watch",
           "unplug_authorizer"]
