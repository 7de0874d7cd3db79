"""The default scheduler plugins, one module per plugin (pkg/scheduler/framework/plugins).

Each module has a ``NAME`` and a factory ``new(args, handle)``; ``engine.scheduler.registry``
maps the names to the factories. ``handle`` gives a plugin the scheduler's snapshot of
nodes (``handle.snapshot``), its client (binders only) and the loop.
"""
