"""One registry of the classes a config may name, for every kind of object: layers, models,
initializers, activations, regularizers, constraints, losses, metrics, optimizers, schedules.

Built-in classes are listed from the reference's own packages, under the public Keras module
that names them in a file ("keras.layers", "keras.initializers", ...); users' classes are
added with `register_serializable(package, name)` under "package>name". A config is resolved
by looking names up in these explicit tables (and in `custom_objects`): nothing is ever
imported by a module path read from a file.

Keras: keras.saving.register_keras_serializable, get_registered_name/get_registered_object
(saving/object_registration.py) and serialization_lib's class lookup.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

_CUSTOM: dict[str, Any] = {}  # "package>name" -> class or function
_NAMES: dict[Any, str] = {}  # class or function -> "package>name"


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a class or function as `package>name` (name defaults to its
    __name__), so that configs naming it load and configs of it record that name.

    Keras: keras.saving.register_keras_serializable(package="Custom", name=None). A class that
    Keras saved with that registered name loads into the class registered here.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            "register_serializable: `package` must be a string without '>'. Received: "
            f"package={package!r}"
        )

    def decorator(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"register_serializable: cannot register {obj.__name__} as {key!r}: the class "
                "does not implement `get_config()`."
            )
        if key in _CUSTOM and _CUSTOM[key] is not obj:
            raise ValueError(f"register_serializable: {key!r} has already been registered.")
        _CUSTOM[key], _NAMES[obj] = obj, key
        return obj

    return decorator


def registered_name(obj: Any) -> str | None:
    """The "package>name" `obj` was registered under, or None. Keras: get_registered_name
    (which falls back to the bare name; names_of does that for classes)."""
    return _NAMES.get(obj)


def registered_object(name: Any) -> Any:
    """The class or function registered as `name` ("package>name"), or None.
    Keras: keras.saving.get_registered_object."""
    return _CUSTOM.get(name) if isinstance(name, str) else None


@functools.cache
def builtins() -> dict[type, str]:
    """{class: the Keras module that names it} for every built-in class of the reference."""
    from .. import constraints, initializers, layers, losses, metrics, optimizers, regularizers
    from ..layer import Layer
    from ..models import Functional, InputLayer, Model, Sequential
    from ..optimizers import schedules

    kinds = [
        (layers, Layer, "keras.layers"),
        (initializers, initializers.Initializer, "keras.initializers"),
        (regularizers, regularizers.Regularizer, "keras.regularizers"),
        (constraints, constraints.Constraint, "keras.constraints"),
        (losses, losses.Loss, "keras.losses"),
        (metrics, metrics.Metric, "keras.metrics"),
        (optimizers, optimizers.Optimizer, "keras.optimizers"),
        (schedules, schedules.LearningRateSchedule, "keras.optimizers.schedules"),
    ]
    table: dict[type, str] = {}
    for package, base, module in kinds:
        for attr in getattr(package, "__all__", None) or dir(package):
            cls = getattr(package, attr, None)
            public = inspect.isclass(cls) and cls.__name__ == attr and not attr.startswith("_")
            if public and issubclass(cls, base) and cls.__module__.startswith("reference."):
                table.setdefault(cls, module)
    table.update({InputLayer: "keras.layers", Sequential: "keras", Model: "keras",
                  Functional: "keras.src.models.functional"})  # fmt: skip
    return table


@functools.cache
def _by_name() -> dict[tuple[str, str], type]:
    return {(module, cls.__name__): cls for cls, module in builtins().items()}


@functools.cache
def _by_class_name() -> dict[str, list[tuple[str, type]]]:
    """{class name: [(module, class), ...]} in _by_name's order (a lookup per config entry)."""
    out: dict[str, list[tuple[str, type]]] = {}
    for (module, name), cls in _by_name().items():
        out.setdefault(name, []).append((module, cls))
    return out


def names_of(cls: type) -> dict[str, Any]:
    """The "module", "class_name" and "registered_name" that a config records for `cls`.

    Keras: serialization_lib.serialize_with_public_class, else the object's own module with
    get_registered_name (the class name when it was never registered).
    """
    if cls in _NAMES:
        return {"module": cls.__module__, "class_name": cls.__name__,
                "registered_name": _NAMES[cls]}  # fmt: skip
    module = builtins().get(cls)
    if module is not None:
        registered = "Functional" if cls.__name__ == "Functional" else None  # as Keras writes it
        return {"module": module, "class_name": cls.__name__, "registered_name": registered}
    return {"module": cls.__module__, "class_name": cls.__name__, "registered_name": cls.__name__}


def builtin(module: Any, class_name: Any, kind: str | None = None) -> type | None:
    """The built-in class a Keras module and class name denote (None when there is none).

    `module` may be any public or private Keras module ("keras.layers", "keras.src.layers.core.
    dense"): files written by other Keras versions name classes either way. `kind` ("keras.
    layers", ...) narrows the search to one kind.
    """
    if not isinstance(class_name, str):
        return None
    module = module if isinstance(module, str) else ""
    if module and module != "keras" and not module.startswith("keras."):
        return None  # a user's module: only registered names and custom_objects resolve it
    found = [(mod, cls) for mod, cls in _by_class_name().get(class_name, ())
             if kind is None or mod == kind]  # fmt: skip
    exact = [cls for mod, cls in found if mod == module]  # "keras.losses" vs "keras.metrics"
    return exact[0] if exact else found[0][1] if found else None


def lookup(entry: dict, custom_objects: Mapping | None, where: str, kind: str | None = None) -> Any:
    """The class (or function) for a serialized entry {"module", "class_name", "config",
    "registered_name"}: custom_objects first, then registered names, then built-ins.

    Keras: serialization_lib._retrieve_class_or_fn.
    """
    class_name = entry.get("class_name")
    registered = entry.get("registered_name")
    custom_objects = custom_objects or {}
    for key in (registered, class_name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    for key in (registered, class_name):
        if isinstance(key, str) and ">" in key and key in _CUSTOM:
            return _CUSTOM[key]
    module = entry.get("module")
    found = builtin(module, class_name, kind)
    if found is not None:
        return found
    raise ValueError(
        f"{where}: could not locate class {class_name!r} (registered name {registered!r}, "
        f"module {module!r}). The reference does not implement it, or it is a custom class: "
        "decorate your port with `@reference.saving.register_serializable(package, name)` "
        "using the registered name Keras saved, or pass it in `custom_objects={"
        f"{class_name!r}: YourClass}}`."
    )
