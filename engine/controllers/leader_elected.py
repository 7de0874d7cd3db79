"""The shell both controller managers share: build controllers, stand for election, run them only while leading.

kube-controller-manager and cloud-controller-manager are built the same way upstream (both on
``k8s.io/controller-manager``): one shared informer factory, so every controller shares one watch per kind;
leader election on a Lease named after the binary, so that of several replicas only the leader's controllers act
(a manager that loses the lease stops them; the real binary exits and is restarted); and, with
``--use-service-account-credentials`` (kubeadm's setting), each controller class that names a
``service_account`` writes as that ServiceAccount of ``kube-system`` (``engine.controllers.client_builder``), so its
RBAC role applies while its informers stay the manager's shared ones.

A subclass names its ``name`` and ``lease_name`` and says which controllers to build (``controller_targets``).
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.api.meta import new_uid
from engine.client.leaderelection import LeaderElector, LeaseLock
from engine.components import ComponentContext
from engine.controllers.client_builder import ServiceAccountClient

LEASE_NAMESPACE = "kube-system"


class LeaderElectedManager:
    name: str
    lease_name: str

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.controllers: list[Any] = []
        self.credentials: list[ServiceAccountClient] = []
        for target in self.controller_targets():
            module_name, _, class_name = target.partition(":")
            controller_class = getattr(importlib.import_module(module_name), class_name)
            self.controllers.append(controller_class(self._context_for(controller_class)))
        # client-go's identity for a controller manager: its host name and a fresh uuid.
        identity = f"{context.node_name or 'control-plane'}_{new_uid(context.loop.random)}"
        self.elector = LeaderElector(LeaseLock(context.client, LEASE_NAMESPACE, self.lease_name, identity),
                                     on_started_leading=self._start_controllers,
                                     on_stopped_leading=self._stop_controllers, name=self.lease_name)
        self.leading = False

    def controller_targets(self) -> list[str]:
        """``module:Class`` of each controller to build, in start order (the ``--controllers`` list)."""
        raise NotImplementedError

    def _context_for(self, controller_class: type) -> ComponentContext:
        """The controller's context: its own ServiceAccount's client if it names one, the shared informers."""
        account = getattr(controller_class, "service_account", None)
        context = self.context
        if account is None:
            return context
        credentials = ServiceAccountClient(context.client, context.loop, account)
        self.credentials.append(credentials)
        return ComponentContext(name=context.name, client=credentials.client, loop=context.loop,
                                node_name=context.node_name, options=context.options,
                                _informers=context.informers)

    @property
    def running(self) -> bool:
        """Standing for election or leading (False once stopped)."""
        return self.elector.running

    def start(self) -> None:
        self.elector.run()

    def stop(self) -> None:
        self.elector.cancel()
        self._stop_controllers()
        for credentials in self.credentials:
            credentials.stop()

    def _start_controllers(self) -> None:
        if self.leading:
            return
        self.leading = True
        for controller in self.controllers:
            controller.start()
        self.context.informers.start()

    def _stop_controllers(self) -> None:
        if not self.leading:
            return
        self.leading = False
        for controller in self.controllers:
            controller.stop()
        self.context.informers.stop()
