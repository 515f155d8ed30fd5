"""Names for classes, so that experiment files and saved models can refer to them.

One :class:`Registry` per family: :data:`ACTIVATIONS`, :data:`LAYERS`,
:data:`LOSSES`, :data:`OPTIMIZERS` and :data:`NETWORKS`. A class registered under
a name can be created from a spec (``"relu"`` or ``{"type": "dense", "neurons":
8}``) and an instance of it can be named, which is all that saving, loading
and the config reader need. A user's own class registers the same way as a
built-in one and is then saved and loaded like it::

    from lincoln.registry import ACTIVATIONS

    @ACTIVATIONS.register("swish")
    class Swish(Operation): ...
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = ["Registry", "ACTIVATIONS", "LAYERS", "LOSSES", "OPTIMIZERS", "NETWORKS"]

T = TypeVar("T", bound=type)


class Registry(MutableMapping[str, type]):
    """Classes of one family by name (a mapping of name to class).

    Args:
        kind: what the family is called in messages, e.g. ``"activation"``.
        attr: the registry's name in this module, for messages.
        case_insensitive: accept names in any case (activation names).
    """

    def __init__(
        self, kind: str, attr: str, what: str = "", case_insensitive: bool = False
    ) -> None:
        self.kind = kind
        self.attr = attr
        self.what = what or kind
        self._fold = case_insensitive
        self._classes: dict[str, type] = {}

    def register(self, name: str, cls: T | None = None) -> Any:
        """Register ``cls`` under ``name``; used bare or as a class decorator.

        Registering another class under a taken name replaces it (so a module
        that is reloaded, or a user's improved class, takes over the name).
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(
                f"{self.kind} registry: a name must be a non-empty string, "
                f"received {name!r}"
            )

        def add(klass: T) -> T:
            self._classes[name.lower() if self._fold else name] = klass
            return klass

        return add if cls is None else add(cls)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __getitem__(self, name: str) -> type:
        return self._classes[self._key(name)]

    def __setitem__(self, name: str, cls: type) -> None:
        self.register(name, cls)

    def __delitem__(self, name: str) -> None:
        del self._classes[self._key(name)]

    def _key(self, name: str) -> str:
        return name.lower() if self._fold else name

    def lookup(self, name: Any) -> type:
        """The class registered as ``name``.

        Raises:
            ConfigError: unknown name, listing the known ones.
        """
        if not isinstance(name, str) or self._key(name) not in self._classes:
            raise ConfigError(
                f"unknown {self.what} {name!r}; choose one of: {', '.join(self)}"
            )
        return self._classes[self._key(name)]

    def create(self, spec: Any, base: type | None = None) -> Any:
        """An instance from a name, a ``{"type": name, **kwargs}`` dict, a class,
        or an instance (returned as it is).

        Args:
            spec: what to create.
            base: instances (and classes) of this type are taken as they are.

        Raises:
            ConfigError: unknown name, or arguments the class does not take.
        """
        if base is not None and isinstance(spec, base):
            return spec
        if isinstance(spec, type) and (base is None or issubclass(spec, base)):
            return spec()
        kwargs: dict[str, Any] = {}
        if isinstance(spec, dict):
            kwargs = dict(spec)
            name = kwargs.pop("type", None)
        else:
            name = spec
        cls = self.lookup(name)
        try:
            return cls(**kwargs)
        except TypeError as exc:  # an unexpected or missing keyword
            given = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "none"
            raise ConfigError(
                f"{self.kind} {name!r}: {exc} (arguments received: {given})"
            ) from None

    def name_of(self, obj: Any) -> str:
        """The name ``obj``'s class is registered under.

        Raises:
            ConfigError: the class is not registered (saying how to register it).
        """
        for name, cls in self._classes.items():
            if type(obj) is cls:
                return name
        cls_name = type(obj).__name__
        raise ConfigError(
            f"{self.kind} {cls_name} is not registered; register it with "
            f"lincoln.registry.{self.attr}.register('name', {cls_name}) "
            f"to save and load it (known: {', '.join(self)})"
        )

    def spec_of(self, obj: Any) -> str | dict[str, Any]:
        """``obj`` as a spec :meth:`create` turns back into an equal object: its
        name, or a dict with its ``get_config()`` when that is not empty."""
        name = self.name_of(obj)
        config = obj.get_config()
        return {"type": name, **config} if config else name

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self)})"


ACTIVATIONS = Registry("activation", "ACTIVATIONS", case_insensitive=True)
LAYERS = Registry("layer", "LAYERS", what="layer type")
LOSSES = Registry("loss", "LOSSES")
OPTIMIZERS = Registry("optimizer", "OPTIMIZERS")
NETWORKS = Registry("network", "NETWORKS", what="network type")
