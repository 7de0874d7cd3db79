"""The object model: kinds, errors, selectors, quantities, defaulting, validation, frozen objects."""

from engine.api.frozen import freeze, thaw
from engine.api.kinds import REGISTRY, Kind

__all__ = ["REGISTRY", "Kind", "freeze", "thaw"]
