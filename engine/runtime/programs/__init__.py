"""The simulated programs containers run, and the context a program runs in.

A container's image names a program factory; runc calls it once per start and
hands the program a ``ProcessContext``: the virtual clock, stdout / stderr
writers that end up in the CRI log file, the container's filesystem (a dict of
path -> text), its environment and argv, and its CPU and memory accounting
(charged to the container's cgroup, which throttles and OOM-kills). A program
is a plain object with ``start(ctx)``; it may override ``on_signal`` (the
default dies of the signal, as an untrapped SIGTERM does), ``handle_http``
(web servers) and ``exec`` (what ``kubectl exec`` and exec probes run).

Catalogue: ``shell`` (busybox sh), ``webserver`` (nginx, httpd, ...),
``batch`` (perl / python one-liners such as the pi Job), ``misc`` (redis, a
crasher, a memory hog, a CPU burner); ``catalogue.register_all`` publishes the
images of the Kubernetes docs' examples into a Registry.
"""

from engine.runtime.programs.base import ExecResult, ProcessContext, Program

__all__ = ["ExecResult", "ProcessContext", "Program"]
