"""kube-controller-manager: one process running many controllers, one of them active at a time.

The manager starts its controllers with one shared informer factory, as the
real binary does, so all controllers share one watch per kind. Which
controllers exist is the ``CONTROLLERS`` table (``--controllers``); later work
adds its controllers there.
"""

from __future__ import annotations

import importlib

from engine.components import ComponentContext

CONTROLLERS: list[str] = [
    "engine.controllers.serviceaccount:ServiceAccountsController",
]


class ControllerManager:
    name = "kube-controller-manager"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.controllers = []
        for target in context.options.get("controllers", CONTROLLERS):
            module_name, _, class_name = target.partition(":")
            controller_class = getattr(importlib.import_module(module_name), class_name)
            self.controllers.append(controller_class(context))

    def start(self) -> None:
        for controller in self.controllers:
            controller.start()
        self.context.informers.start()

    def stop(self) -> None:
        for controller in self.controllers:
            controller.stop()
        self.context.informers.stop()
