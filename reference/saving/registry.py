"""Classes a config may name, looked up by name in explicit tables: nothing is ever imported by
a module path read from a file.

Keras: keras.saving.register_keras_serializable and serialization_lib's class lookup.
Differences: only layers and models are looked up here (initializers, activations,
regularizers and constraints keep their own `get`, which the layers' from_config call).
"""

from __future__ import annotations

_CUSTOM: dict[str, type] = {}


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a class as `package>name` (name defaults to the class name).

    Keras: keras.saving.register_keras_serializable(package="Custom", name=None). A class that
    Keras saved with that registered name loads into the class registered here.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            "register_serializable: `package` must be a string without '>'. Received: "
            f"package={package!r}"
        )

    def decorator(cls: type) -> type:
        key = f"{package}>{name or cls.__name__}"
        if key in _CUSTOM and _CUSTOM[key] is not cls:
            raise ValueError(f"register_serializable: {key!r} has already been registered.")
        _CUSTOM[key] = cls
        return cls

    return decorator


def _builtins() -> dict[str, type]:
    from .. import layers
    from ..layer import Layer
    from ..models import Functional, InputLayer, Model, Sequential

    table = {
        name: getattr(layers, name)
        for name in getattr(layers, "__all__", dir(layers))
        if isinstance(getattr(layers, name, None), type)
        and issubclass(getattr(layers, name), Layer)
    }
    table.update(InputLayer=InputLayer, Sequential=Sequential, Functional=Functional, Model=Model)
    return table


def lookup(entry: dict, custom_objects: dict | None, where: str) -> type:
    """The class for a serialized entry: custom_objects, then registered names, then the
    reference's own classes (for Keras built-ins only)."""
    class_name = entry.get("class_name")
    registered = entry.get("registered_name")
    custom_objects = custom_objects or {}
    for key in (registered, class_name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    if isinstance(registered, str) and registered in _CUSTOM:
        return _CUSTOM[registered]
    module = entry.get("module") or ""
    builtin = _builtins().get(class_name) if isinstance(class_name, str) else None
    if builtin is not None and (module == "keras" or str(module).startswith("keras.")):
        return builtin
    raise ValueError(
        f"{where}: could not locate class {class_name!r} (registered name {registered!r}, "
        f"module {module!r}). The reference does not implement it, or it is a custom class: "
        "decorate your port with `@reference.saving.register_serializable(package, name)` "
        "using the registered name Keras saved, or pass it in `custom_objects={"
        f"{class_name!r}: YourClass}}`."
    )
