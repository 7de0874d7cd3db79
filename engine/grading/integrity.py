"""The installed engine, untampered: what hidden tests check before they trust ``engine``.

A learner's notebook runs in the same Python as the tests that grade it, so it can monkeypatch
the engine (``engine.grading.feedback.check = lambda *a, **k: None``, a method of
``MemoryStore`` replaced, a fake module put into ``sys.modules``) or shadow it with an
``engine.py`` beside the notebook. Before a hidden test relies on the engine, it calls
``ensure_installed()``:

- every loaded ``engine`` module must be the module of the installed file (under
  ``ENGINE_ROOT``), not something put into ``sys.modules`` or found beside the notebook;
- every function, class and method its source defines must still be the one that source
  defines (code objects compared with the installed file compiled afresh), no class may have
  gained a method written in the notebook, and every immutable literal constant
  (``MAX = 400``, ``KEYS = ("a", "b")``) must still hold its value;
- every name it imported from another ``engine`` module (``from engine.grading.feedback import
  fail``) must still be that module's object: patching ``checks.fail`` must not outlive the guard
  even though ``checks`` defines no ``fail`` of its own.

What is wrong is put back in place: a foreign module is replaced by the installed one, a
replaced function or method is rebuilt from the installed source, a constant is reset. The
return value lists what was repaired, for tests that want to say so. A repair that cannot be
made raises ``GradingFailure``: the test then gives no marks, which never rewards tampering.

``fresh_cluster(**kwargs)`` is ``engine.Cluster(**kwargs)`` after ``ensure_installed()``: the
cluster in which a check runs the learner's answer, never one the notebook made.

A module verified once (or remembered by ``snapshot()``, which the grading tool's kernel calls
before any cell runs) is checked again by the identities of its objects only, and compiled
afresh only when one of them changed, so the check costs milliseconds. The grading tool also
runs ``ensure_installed()`` itself before every test cell of every lab.

This is a guard against the monkeypatching a learner can write in a few lines, not a security
boundary (the sandbox of the grading tool is one: a notebook cannot reach the gradebook,
``solutions/`` or the network). It never prints or writes to stderr.
"""

from __future__ import annotations

import dis
import importlib.util
import inspect
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.grading.feedback import fail

ENGINE_ROOT = Path(__file__).resolve().parent.parent
"""The installed ``engine`` package directory (this file lives in ``engine/grading``)."""

_IMMUTABLE = (str, bytes, int, float, bool, type(None), tuple, frozenset)


@dataclass(frozen=True)
class _Source:
    """What an installed module's source defines: code objects by qualname, defs and literal constants."""

    codes: dict[str, list[types.CodeType]]
    functions: list[str]                       # top-level function names
    classes: dict[str, list[str]]              # class name -> its method names
    constants: dict[str, Any]
    imports: dict[str, tuple[str, str]]        # name bound at top level -> (engine module, attribute)


_SOURCES: dict[str, tuple[float, _Source]] = {}
_VERIFIED: dict[str, list] = {}
"""Module name -> fingerprint (identities of its objects) when last verified or snapshotted: unchanged means
untampered, so a check costs a walk over the module, not a compilation of its source."""


def installed_path(name: str) -> Path:
    """The installed file of module ``name`` (``engine.store.memory`` -> ``<root>/store/memory.py``)."""
    parts = name.split(".")[1:]
    base = ENGINE_ROOT.joinpath(*parts)
    package = base / "__init__.py"
    return package if package.exists() else base.with_suffix(".py")


def _walk(code: types.CodeType):
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _walk(const)


def _is_class_body(code: types.CodeType) -> bool:
    return not code.co_flags & inspect.CO_NEWLOCALS


def _constants(module_code: types.CodeType) -> dict[str, Any]:
    """Top-level ``NAME = <literal>`` bindings: a LOAD_CONST straight before a STORE_NAME."""
    found: dict[str, Any] = {}
    previous = None
    for instruction in dis.get_instructions(module_code):
        if instruction.opname == "STORE_NAME" and previous is not None and previous.opname == "LOAD_CONST" \
                and isinstance(previous.argval, _IMMUTABLE) and not isinstance(previous.argval, types.CodeType):
            found[instruction.argval] = previous.argval
        previous = instruction
    for name in [name for name in found if name.startswith("__")]:
        del found[name]
    return found


def _imports(module_code: types.CodeType) -> dict[str, tuple[str, str]]:
    """Top-level ``from engine.x import y [as z]`` bindings: ``z -> ("engine.x", "y")``."""
    found: dict[str, tuple[str, str]] = {}
    module, attribute = None, None
    for instruction in dis.get_instructions(module_code):
        if instruction.opname == "IMPORT_NAME":
            module, attribute = instruction.argval, None
        elif instruction.opname == "IMPORT_FROM":
            attribute = instruction.argval
        elif instruction.opname == "STORE_NAME" and module and attribute:
            if module == "engine" or module.startswith("engine."):
                found[instruction.argval] = (module, attribute)
            attribute = None
        elif instruction.opname not in ("POP_TOP", "LOAD_CONST", "CACHE"):
            module, attribute = None, None
    return found


def _source(path: Path) -> _Source:
    """The installed file compiled afresh (cached by modification time)."""
    stamp = path.stat().st_mtime
    cached = _SOURCES.get(str(path))
    if cached and cached[0] == stamp:
        return cached[1]
    module_code = compile(path.read_text(), str(path), "exec", dont_inherit=True)
    codes: dict[str, list[types.CodeType]] = {}
    for code in _walk(module_code):
        codes.setdefault(code.co_qualname, []).append(code)
    top = [code for code in module_code.co_consts if isinstance(code, types.CodeType)]
    classes = {code.co_qualname: [inner.co_qualname.split(".", 1)[1] for inner in code.co_consts
                                  if isinstance(inner, types.CodeType) and not _is_class_body(inner)
                                  and not inner.co_name.startswith("<")]
               for code in top if _is_class_body(code)}
    functions = [code.co_qualname for code in top if not _is_class_body(code) and not code.co_qualname.startswith("<")]
    source = _Source(codes, functions, classes, _constants(module_code), _imports(module_code))
    _SOURCES[str(path)] = (stamp, source)
    return source


def _functions_of(member: Any) -> list[Any]:
    """The plain functions a class member holds (a property's accessors, a static/class method's function)."""
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    func = getattr(member, "func", None)                     # functools.cached_property
    if func is not None and not inspect.isfunction(member):
        member = func
    return [inspect.unwrap(member)] if callable(member) else [member]


def _same_code(objects: list[Any], expected: list[types.CodeType]) -> bool:
    return all(getattr(obj, "__code__", None) in expected for obj in objects)


def _genuine_module(name: str, module: Any) -> bool:
    if not isinstance(module, types.ModuleType) or getattr(module, "__name__", None) != name:
        return False
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
    path = installed_path(name)
    if not origin or os.path.realpath(origin) != os.path.realpath(path):
        return False
    return path.name != "__init__.py" or [os.path.realpath(p) for p in getattr(module, "__path__", [])] == \
        [os.path.realpath(path.parent)]


def _learner_made(function: Any) -> bool:
    """A function written in the notebook (``__main__``, or compiled from a cell) rather than by a library."""
    code = getattr(function, "__code__", None)
    return getattr(function, "__module__", None) == "__main__" or code is not None and (
        code.co_filename.startswith("<ipython") or "ipykernel_" in code.co_filename)


def _problems(name: str, module: types.ModuleType) -> list[tuple[str, str, str | None]]:
    """``(kind, attribute, member)`` for every definition of ``module`` that its installed source disowns."""
    source = _source(installed_path(name))
    found: list[tuple[str, str, str | None]] = []
    namespace = vars(module)
    for function in source.functions:
        obj = namespace.get(function)
        if obj is None or not _same_code([inspect.unwrap(obj)], source.codes.get(function, [])):
            found.append(("function", function, None))
    for class_name, methods in source.classes.items():
        cls = namespace.get(class_name)
        if not isinstance(cls, type) or cls.__module__ != name or cls.__qualname__ != class_name:
            found.append(("class", class_name, None))
            continue
        for method in dict.fromkeys(methods):
            member = cls.__dict__.get(method)
            expected = source.codes.get(f"{class_name}.{method}", [])
            if member is None or not _same_code(_functions_of(member), expected):
                found.append(("method", class_name, method))
        for attribute, member in list(vars(cls).items()):
            if attribute not in methods and any(_learner_made(f) for f in _functions_of(member)):
                found.append(("added", class_name, attribute))
    for constant, value in source.constants.items():
        if constant in namespace and (type(namespace[constant]) is not type(value) or namespace[constant] != value):
            found.append(("constant", constant, None))
    return found + _import_problems(module, source)


def _import_problems(module: types.ModuleType, source: _Source) -> list[tuple[str, str, str | None]]:
    """Names imported from another engine module that no longer are that module's object."""
    namespace = vars(module)
    return [("imported", bound, None) for bound, (origin, attribute) in source.imports.items()
            if bound in namespace and origin in sys.modules
            and getattr(sys.modules[origin], attribute, namespace[bound]) is not namespace[bound]]


def _load_installed(name: str) -> types.ModuleType:
    """Execute the installed file of ``name`` as a new module object (not registered anywhere)."""
    path = installed_path(name)
    package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(name, path,
                                                  submodule_search_locations=[str(path.parent)] if package else None)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _live(value: Any, namespace: dict, fresh: dict) -> Any:
    """The live module's object for one of the fresh copy's globals (a sentinel default such as ``_MISSING``)."""
    for key, candidate in fresh.items():
        if candidate is value and key in namespace:
            return namespace[key]
    return value


def _rebind(function: types.FunctionType, namespace: dict, owner: type | None, fresh: dict) -> types.FunctionType:
    """``function`` (from a freshly executed copy) living in the live module's namespace, of the live class."""
    closure = function.__closure__
    if owner is not None and closure and "__class__" in function.__code__.co_freevars:
        index = function.__code__.co_freevars.index("__class__")
        closure = (*closure[:index], types.CellType(owner), *closure[index + 1:])
    defaults = tuple(_live(value, namespace, fresh) for value in function.__defaults__ or ()) or None
    made = types.FunctionType(function.__code__, namespace, function.__name__, defaults, closure)
    made.__kwdefaults__ = {key: _live(value, namespace, fresh) for key, value in
                           (function.__kwdefaults__ or {}).items()} or None
    made.__qualname__, made.__doc__, made.__module__ = function.__qualname__, function.__doc__, function.__module__
    made.__annotations__ = dict(function.__annotations__)
    made.__dict__.update(function.__dict__)
    return made


def _rebuilt(member: Any, namespace: dict, owner: type | None, fresh: dict) -> Any:
    if inspect.isfunction(member) and not hasattr(member, "__wrapped__"):
        return _rebind(member, namespace, owner, fresh)
    if isinstance(member, (staticmethod, classmethod)) and inspect.isfunction(member.__func__):
        return type(member)(_rebind(member.__func__, namespace, owner, fresh))
    if isinstance(member, property):
        accessors = [_rebind(f, namespace, owner, fresh) if inspect.isfunction(f) else f
                     for f in (member.fget, member.fset, member.fdel)]
        return property(*accessors, member.__doc__)
    return member


def _original_class(name: str, class_name: str) -> type | None:
    """The installed class another engine module still holds, when the module's own name was rebound."""
    for other, module in list(sys.modules.items()):
        if other.split(".")[0] != "engine" or not isinstance(module, types.ModuleType):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == name and value.__qualname__ == class_name:
                return value
    return None


def _original_function(name: str, function: str) -> Any:
    """The installed function another engine module still holds (``from name import function``), so that a
    repair puts back the very object its importers hold."""
    expected = _source(installed_path(name)).codes.get(function, [])
    for other, module in list(sys.modules.items()):
        if other.split(".")[0] != "engine" or other == name or not isinstance(module, types.ModuleType):
            continue
        for value in list(vars(module).values()):
            if inspect.isfunction(value) and value.__module__ == name and value.__qualname__ == function \
                    and value.__code__ in expected and value.__globals__ is vars(sys.modules[name]):
                return value
    return None


def _repair(name: str, module: types.ModuleType, problems: list[tuple[str, str, str | None]]) -> list[str]:
    fresh = types.ModuleType(name)
    if any(kind != "imported" for kind, _, _ in problems):   # an imported name needs no fresh copy
        try:
            fresh = _load_installed(name)
        except Exception as error:             # re-running the module failed: refuse to trust it at all
            fail(f"the notebook changed the engine module {name} and the grader could not restore it ({error}); "
                 "restart the kernel, leave the engine as installed, and run every cell again")
    namespace = vars(module)
    repaired = []
    for kind, attribute, member in problems:
        if kind == "function":
            namespace[attribute] = _original_function(name, attribute) or \
                _rebuilt(vars(fresh)[attribute], namespace, None, vars(fresh))
        elif kind == "constant":
            namespace[attribute] = vars(fresh)[attribute]
        elif kind == "class":
            namespace[attribute] = _original_class(name, attribute) or vars(fresh)[attribute]
        elif kind == "method":
            cls = namespace[attribute]
            setattr(cls, member, _rebuilt(vars(vars(fresh)[attribute])[member], namespace, cls, vars(fresh)))
        elif kind == "added":
            delattr(namespace[attribute], member)
        elif kind == "imported":
            origin, imported = _source(installed_path(name)).imports[attribute]
            namespace[attribute] = getattr(sys.modules[origin], imported)
        repaired.append(f"{name}.{attribute}" + (f".{member}" if member else ""))
    return repaired


def _fingerprint(name: str, module: Any) -> list:
    """The module and every object of its namespace and of its classes' (held, so that no id is ever reused)."""
    namespace = vars(module)
    held: list = [module]
    for key, value in list(namespace.items()):
        held += [key, value]
        if isinstance(value, type) and value.__module__ == name:
            for member in list(vars(value).items()):
                held += member
    return held


def _unchanged(name: str, module: Any) -> bool:
    before = _VERIFIED.get(name)
    if before is None:
        return False
    now = _fingerprint(name, module)
    return len(now) == len(before) and all(a is b for a, b in zip(now, before))


def snapshot() -> None:
    """Remember every loaded ``engine`` module as it is now, as untampered (call before any notebook code runs:
    the grading tool's kernel launcher does). Only the first call counts: a later one could bless a patch."""
    if _VERIFIED:
        return
    for name, module in _engine_modules(()):
        if module is not None and _genuine_module(name, module):
            _VERIFIED[name] = _fingerprint(name, module)


def tampered(*modules: str) -> list[str]:
    """What ``ensure_installed`` would repair, without repairing it."""
    found = []
    for name, module in _engine_modules(modules):
        if not _genuine_module(name, module):
            found.append(name)
        else:
            found += [f"{name}.{attr}" + (f".{member}" if member else "") for _, attr, member in _problems(name, module)]
    return found


def _engine_modules(extra: tuple[str, ...]) -> list[tuple[str, Any]]:
    names = sorted({name for name in sys.modules if name == "engine" or name.startswith("engine.")} | set(extra))
    return [(name, sys.modules.get(name)) for name in names if installed_path(name).exists()]


def ensure_installed(*modules: str) -> list[str]:
    """Make every loaded ``engine`` module (and ``modules``, loaded if need be) the installed, untouched one.

    Returns what was repaired (``engine.grading.feedback.check``, ``engine.store.memory`` for a
    replaced module ...), empty when nothing was tampered with.
    """
    repaired: list[str] = []
    for name, module in _engine_modules(modules):
        if module is not None and _unchanged(name, module):
            continue                       # nothing of it changed since it was verified
        if module is None or not _genuine_module(name, module):
            parent, _, last = name.rpartition(".")
            held = getattr(sys.modules.get(parent), last, None) if parent else None
            if module is not None:
                repaired.append(name)            # a foreign object in sys.modules, not merely unloaded
            module = held if _genuine_module(name, held) else _load_installed(name)
            sys.modules[name] = module
            if parent and isinstance(sys.modules.get(parent), types.ModuleType):
                setattr(sys.modules[parent], last, module)
        for _ in range(2):                 # a class put back may still carry patched methods: look again
            problems = _problems(name, module)
            if not problems:
                break
            repaired += _repair(name, module, problems)
        else:
            if _problems(name, module):
                fail(f"the notebook changed the engine module {name} in a way the grader cannot undo; restart "
                     "the kernel, leave the engine as installed, and run every cell again")
        _VERIFIED[name] = _fingerprint(name, module)
    if repaired:
        # A module looked at before the one it imports from was repaired took the patched object: look again.
        for name, module in _engine_modules(modules):
            problems = _import_problems(module, _source(installed_path(name)))
            if problems:
                repaired += [entry for entry in _repair(name, module, problems) if entry not in repaired]
                _VERIFIED[name] = _fingerprint(name, module)
    for finder in list(sys.meta_path):
        if type(finder).__module__ == "__main__" or getattr(type(finder), "__module__", "").startswith("<"):
            sys.meta_path.remove(finder)
            repaired.append(f"sys.meta_path: {type(finder).__name__}")
    return repaired


def guard() -> list[str]:
    """``ensure_installed()`` run from a copy of this module executed afresh from its installed file.

    The grading tool runs this file anew before every test cell and calls ``guard`` of that copy, so
    replacing ``ensure_installed`` (or anything else here) in the loaded module cannot switch the
    check off. The loaded module's cache of verified modules is used once that module itself is
    found untouched (compiled afresh and compared).
    """
    global _VERIFIED, _SOURCES
    live = sys.modules.get(__name__)
    if live is not None and vars(live).get("guard") is not guard and _genuine_module(__name__, live) \
            and not _problems(__name__, live):
        _VERIFIED, _SOURCES = live._VERIFIED, live._SOURCES
    return ensure_installed()


def fresh_cluster(**kwargs: Any) -> Any:
    """A new ``engine.Cluster(**kwargs)`` built from the installed engine (``ensure_installed`` first)."""
    ensure_installed("engine.cluster")
    return sys.modules["engine.cluster"].Cluster(**kwargs)


__all__ = ["ENGINE_ROOT", "ensure_installed", "fresh_cluster", "guard", "installed_path", "snapshot", "tampered"]
