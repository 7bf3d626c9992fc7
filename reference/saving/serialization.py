"""Keras 3's serialized form of objects: `serialize_keras_object`, as keras.src.saving.
serialization_lib writes it into `config.json`.

An object becomes {"module", "class_name", "config", "registered_name"}, plus "build_config"
for a built layer and "compile_config" for a model. A built-in class is named by its public
Keras module ("keras.layers", "keras.initializers", ...: registry.names_of); a class
registered with `register_serializable` keeps its Python module and its registered name; any
other class gets its module and its class name, which only `custom_objects` can resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import registry

_PLAIN = (str, int, float, bool, type(None))


def serialize_keras_object(obj: Any) -> Any:
    """Keras's JSON-ready form of `obj` (a plain value, a container, an array or an object).

    Computes: plain values as they are; lists, tuples and dicts element by element; NumPy
      scalars .item(); arrays {"class_name": "__numpy__"};
      objects {"module", "class_name", "config": serialize(get_config()), "registered_name"}
      with "build_config" (layers) and "compile_config" (models) when they have one.
    Keras: keras.saving.serialize_keras_object(obj).
    Differences: no `shared_object_id` bookkeeping (Keras adds it to objects reached twice;
      its loader does not need it); lambdas are refused (Keras pickles their bytecode).
    """
    if isinstance(obj, np.generic):  # before the plain types: np.float64 is a float
        return obj.item()
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, list | tuple):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}  # fmt: skip
    if isinstance(obj, np.ndarray | np.generic):
        return obj.item()
    if isinstance(obj, np.dtype):
        return obj.name
    if callable(obj) and not hasattr(obj, "get_config"):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"serialize_keras_object: cannot serialize {obj!r} (of type {type(obj).__name__}): "
            "to be serializable, a class must implement `get_config()`."
        )
    cls = type(obj)
    out = {**registry.names_of(cls), "config": serialize_keras_object(obj.get_config())}
    out = {k: out[k] for k in ("module", "class_name", "config", "registered_name")}
    build = getattr(obj, "get_build_config", None)
    if build is not None and (build_config := build()) is not None:
        out["build_config"] = serialize_keras_object(build_config)
    compile_ = getattr(obj, "get_compile_config", None)
    if compile_ is not None and (compile_config := compile_()) is not None:
        out["compile_config"] = serialize_keras_object(compile_config)
    return out


def _serialize_function(fn: Any) -> Any:
    """A function: a built-in activation by name; a registered or named one as Keras's dict."""
    from .. import activations

    name = getattr(fn, "__name__", None)
    if name == "<lambda>":
        raise ValueError(
            "serialize_keras_object: a Python lambda cannot be saved (Keras saves its bytecode, "
            "which only loads with safe_mode=False): use a named function."
        )
    if activations._BUILTINS.get(name) is fn:
        return name
    registered = registry.registered_name(fn)
    return {"module": fn.__module__, "class_name": "function", "config": registered or name,
            "registered_name": registered or name}  # fmt: skip


_LAMBDA_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by default. "
    "If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, and pass your port of it in `custom_objects`."
)


def deserialize_keras_object(config: Any, custom_objects: Mapping | None = None,
                             safe_mode: bool = True, kind: str | None = None,
                             where: str = "deserialize_keras_object") -> Any:  # fmt: skip
    """The object a serialized config describes: the inverse of serialize_keras_object.

    Computes: plain values, lists and plain dicts element by element; "__numpy__" an array;
      {"class_name": "function"} the registered, custom or built-in function it names; any
      other {"class_name", "config", ...} the class registry.lookup finds (custom_objects,
      registered names, built-ins of `kind`), made by cls.from_config(config["config"]) and
      built from "build_config" when it has one.
    Keras: keras.saving.deserialize_keras_object(config, custom_objects=None, safe_mode=True).
    Differences: nothing is imported by a module name read from the config, and a serialized
      lambda is refused even with safe_mode=False (only custom_objects can supply it).
    """
    if isinstance(config, list):
        return [deserialize_keras_object(x, custom_objects, safe_mode, kind, where) for x in config]
    if not isinstance(config, dict):
        return config
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode, kind, where)
                for k, v in config.items()}  # fmt: skip
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=np.dtype(str(inner["dtype"])))
    if class_name in ("__lambda__", "__bytes__", "__typespec__"):
        if safe_mode and class_name == "__lambda__":
            raise ValueError(f"{where}: {_LAMBDA_ERROR}")
        raise ValueError(f"{where}: a serialized {class_name} object cannot be loaded safely.")
    if class_name == "function":
        return _function(config, custom_objects, where)
    if config.get("class_name") in ("Sequential", "Functional") or "input_layers" in inner:
        from .keras_file import deserialize

        return deserialize(config, dict(custom_objects or {}), where)
    cls = registry.lookup(config, custom_objects, where, kind)
    if not hasattr(cls, "from_config"):
        raise TypeError(f"{where}: {cls!r} (for {class_name!r}) has no `from_config()`.")
    obj = cls.from_config(inner)
    build_config = config.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", True):
        obj.build_from_config(build_config)
    return obj


def _function(config: dict, custom_objects: Mapping | None, where: str) -> Any:
    """A function named in {"class_name": "function", "config": name, ...}."""
    from .. import activations

    name, registered = config.get("config"), config.get("registered_name")
    for key in (registered, name):
        if isinstance(key, str) and custom_objects and key in custom_objects:
            return custom_objects[key]
        if isinstance(key, str) and key in registry._CUSTOM:
            return registry._CUSTOM[key]
    if config.get("module") == "keras.activations" and name in activations._BY_NAME:
        return activations._BY_NAME[name]
    raise ValueError(
        f"{where}: could not locate function {name!r} (module {config.get('module')!r}). "
        "Register it with `@reference.saving.register_serializable(package, name)` or pass it "
        f"in `custom_objects={{{name!r}: your_function}}`."
    )
