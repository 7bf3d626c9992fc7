"""Name lookup shared by `reference.constraints` and `reference.regularizers`.

Keras 3.15.1 keeps one `get`/`serialize`/`deserialize` trio per kind of object; they differ only
in the kind word, the module string and the built-in classes. `Lookup` holds those and
implements the trio once; serializing and registered names go through the one object registry
(reference.saving.registry and serialization). It imports neither NumPy nor Keras.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .naming import to_snake_case


class Lookup:
    """The built-in names of one kind of object, and Keras's get/serialize/deserialize for them.

    Computes: objects = {class name and its snake_case form: class} for every class in classes.
    Keras: `keras.<kind>s.get`, `serialize` and `deserialize`.
    """

    def __init__(
        self,
        kind: str,
        module: str,
        base: type,
        classes: tuple[type, ...],
    ) -> None:
        self.kind = kind
        self.module = module
        self.base = base
        self.classes = classes
        self.objects: dict[str, type] = {cls.__name__: cls for cls in classes}
        self.objects.update({to_snake_case(cls.__name__): cls for cls in classes})

    def unknown(self, identifier: Any) -> ValueError:
        """The ValueError for an identifier that names no object of this kind.

        Computes: a message naming the identifier and listing sorted(objects).
        Keras: `keras.<kind>s.get` raising "Could not interpret <kind> identifier".
        """
        return ValueError(
            f"Could not interpret {self.kind} identifier: {identifier}. Expected None, a "
            f"{self.base.__name__} (class or instance), a callable, a config dict or one of: "
            f"{', '.join(sorted(self.objects))}."
        )

    def serialize(self, obj: Any) -> dict[str, Any] | str | None:
        """An object as Keras's serialized dict.

        Computes: {"module": module, "class_name": ..., "config": get_config(),
          "registered_name": None} (reference.saving.serialize_keras_object); None and strings
          pass through.
        Keras: `keras.<kind>s.serialize(obj)`.
        Differences: a class defined in __main__ gets module None (only custom_objects can
          resolve it).
        """
        if obj is None or isinstance(obj, str):
            return obj
        if not hasattr(obj, "get_config"):
            raise TypeError(
                f"Cannot serialize object {obj} of type {type(obj)}. To be "
                "serializable, a class must implement the `get_config()` method."
            )
        from .saving.serialization import serialize_keras_object

        out = serialize_keras_object(obj)
        if out["module"] == "__main__":
            out["module"] = None
        return out

    def deserialize(
        self, config: dict[str, Any] | str | None, custom_objects: Mapping[str, Any] | None = None
    ) -> Any:
        """An object from a name or a `{"class_name": ..., "config": ...}` dict.

        Computes: cls.from_config(config["config"] or {}), cls looked up by class_name (or
          registered_name) in custom_objects, then in objects.
        Keras: `keras.<kind>s.deserialize(config, custom_objects=None)`.
        """
        custom_objects = dict(custom_objects or {})
        if config is None:
            return None
        if isinstance(config, str):
            if config in custom_objects:
                return custom_objects[config]
            if config not in self.objects:
                raise self.unknown(config)
            return self.objects[config].from_config({})
        if not isinstance(config, dict):
            return config
        if "class_name" not in config:
            raise ValueError(f"Unknown `config` as a `dict`, config={config}")
        class_name = config["class_name"]
        inner_config = config.get("config") or {}
        for key in (class_name, config.get("registered_name")):
            if key is not None and key in custom_objects:
                obj = custom_objects[key]
                return obj.from_config(inner_config) if hasattr(obj, "from_config") else obj
        from .saving import registry

        registered = registry.registered_object(config.get("registered_name"))
        if registered is not None:
            return registered.from_config(inner_config)
        if config.get("module", "_") is None:
            # Serialized from a class defined in __main__: only custom_objects can say what it is.
            raise TypeError(
                f"Cannot deserialize object of type `{class_name}`. If `{class_name}` is a custom "
                "class, pass it in `custom_objects`."
            )
        if class_name not in self.objects:
            raise self.unknown(config)
        return self.objects[class_name].from_config(inner_config)

    def get(self, identifier: Any) -> Callable[[Any], Any] | None:
        """An object from None, a name, a config dict, a class, an instance or a callable.

        Computes: None -> None; str -> objects[str](); dict -> deserialize; class -> class();
          callable -> itself.
        Keras: `keras.<kind>s.get(identifier)`.
        """
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            obj = self.deserialize(identifier)
        elif isinstance(identifier, str):
            obj = self.objects.get(identifier)
        else:
            obj = identifier
        if not callable(obj):
            raise self.unknown(identifier)
        return obj() if inspect.isclass(obj) else obj
