"""Keras 2 (tf_keras) HDF5 files, read into reference models without TensorFlow.

Two layouts, both keyed by layer *name* (not by structure as `.weights.h5`):
- `model.save("m.h5")`: root attributes `model_config` (JSON) and, when compiled,
  `training_config` (JSON); groups `model_weights/<layer name>` with attribute `weight_names`
  (paths of datasets under that group, in `trainable_weights + non_trainable_weights` order) and
  `optimizer_weights` (attribute `weight_names`: `iteration:0`, then `<Opt>/<slot>/<var>:0`).
- `model.save_weights("w.h5")`: the `model_weights` group alone, at the root (attribute
  `layer_names`). A list attribute over HDF5's 64 KiB header limit is split into `name0`,
  `name1`, ... (Keras's load_attributes_from_hdf5_group).

Keras: keras.src.legacy.saving.legacy_h5_format (load_model_from_hdf5,
load_weights_from_hdf5_group[_by_name]) and saving_utils.model_from_config.
Differences: a layer's values are matched by name when the file lists its variables' names
in another order (Keras loads by position, so a reordered weight_names loads crossed values);
every Keras 2 spelling is mapped by an explicit table (legacy_config), and a
time-major RNN, a TF-op layer or a Python function in a config are refused; a weight file's
values are all checked before any variable is assigned (Keras assigns layer by layer); an
unlisted dataset in a layer's group is refused; a tf_keras optimizer state is restored (Keras 3
warns that the variable counts differ and starts a fresh optimizer), and a compiled file with a
string loss loads (Keras 3.15 raises "Could not deserialize 'keras.metrics.mse'").
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from . import _h5, legacy_config

SUFFIXES = (".h5", ".hdf5")
ATTR_LIMIT = 64 * 2**20  # a model_config larger than this is refused before it is read


def is_legacy_path(filepath: Any) -> bool:
    """A `.h5`/`.hdf5` name that is not a Keras 3 `.weights.h5` file."""
    name = str(os.fspath(filepath))
    return name.endswith(SUFFIXES) and not name.endswith(".weights.h5")


def _open(filepath: Any, who: str) -> Any:
    filepath = os.fspath(filepath)
    h5py = _h5.h5py()
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"{who}: no such file: {filepath}")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ValueError(f"{who}: {filepath} is not a readable HDF5 file: {e}") from e
    return f


def _attr(obj: Any, name: str, where: str) -> Any:
    """An attribute's value, its stored size checked first (a huge attribute is not read)."""
    try:
        size = obj.attrs.get_id(name).get_storage_size()
    except RuntimeError:  # HDF5 reports an empty attribute (weight_names of `[]`) this way
        size = 0
    if size > ATTR_LIMIT:
        raise ValueError(f"{where}: attribute {name!r} holds {size} bytes (limit {ATTR_LIMIT}).")
    return obj.attrs[name]


def _text(value: Any, where: str) -> str:
    if hasattr(value, "decode"):
        value = value.decode("utf-8")  # a UnicodeDecodeError is a ValueError
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string attribute, found {type(value).__name__}.")
    return value


def _json_attr(f: Any, name: str, label: str) -> Any:
    return legacy_config.decode_json(_text(_attr(f, name, label), label), f"{label}: {name}")


def _names(group: Any, name: str, where: str) -> list[str]:
    """A list-of-strings attribute, including Keras's chunked `name0`, `name1`, ... form."""
    keys = [name] if name in group.attrs else []
    while name not in group.attrs and f"{name}{len(keys)}" in group.attrs:
        keys.append(f"{name}{len(keys)}")
    out: list[str] = []
    for key in keys:
        value = _attr(group, key, where)
        items = [value] if isinstance(value, str | bytes) else list(getattr(value, "flat", value))
        out.extend(_text(item, f"{where} attribute {key!r}") for item in items)
    return out


# -- weights: planned (read and checked) first, assigned only when everything is right ---------


def _layer_weights(layer: Any) -> list:
    """Keras's _legacy_weights: trainable then non-trainable (the order Keras 2 saved)."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _saved(group: Any, name: str, where: str) -> list[tuple[str, Any]]:
    """(dataset path, dataset) for the weights listed under `group[name]`, in saved order."""
    h5py = _h5.h5py()
    sub = group.get(name)
    if not isinstance(sub, h5py.Group):
        raise ValueError(f"{where}: layer {name!r} is listed in layer_names but has no group.")
    listed = _names(sub, "weight_names", f"{where}/{name}")
    twice = sorted({w for w in listed if listed.count(w) > 1})
    if twice:
        raise ValueError(f"{where}/{name}: weight_names lists {twice} more than once.")
    out = []
    for weight in listed:
        ds = sub.get(weight) if not weight.startswith("/") else None
        if not isinstance(ds, h5py.Dataset):
            raise ValueError(
                f"{where}/{name}: variable {weight!r} is listed in weight_names but is missing "
                "from the file (or is not a dataset)."
            )
        out.append((ds.name, ds))
    extra = []
    sub.visititems(lambda n, o: extra.append(n) if isinstance(o, h5py.Dataset) else None)
    unlisted = sorted(set(extra) - set(listed))
    if unlisted:
        raise ValueError(
            f"{where}/{name}: datasets {unlisted} are not listed in weight_names (a file with "
            "variables no layer reads is refused)."
        )
    return out


def _by_names(variables: list, saved: list) -> list:
    """`saved` in the order of `variables` when the file's names (`.../kernel:0`) are a
    permutation of the variables' distinct names; else as listed (Keras matches by position)."""
    base = [path.rsplit("/", 1)[-1].split(":")[0] for path, _ in saved]
    names = [v.name for v in variables]
    if base == names or len(set(names)) != len(names) or sorted(base) != sorted(names):
        return saved
    return [saved[base.index(n)] for n in names]


def _plan_layer(layer: Any, saved: list, label: str, name: str, skip: bool) -> list:
    """(variable, value) pairs for one layer; ValueError naming file, layer and variable."""
    variables = _layer_weights(layer) if layer is not None else []
    if len(saved) != len(variables):
        message = (
            f"{label}: weight count mismatch for layer {layer.name!r} ({name!r} in the file): "
            f"the layer has {len(variables)} variables {[v.path for v in variables]}, the file "
            f"has {len(saved)} {[p for p, _ in saved]}."
        )
        if skip:
            warnings.warn(f"Skipping loading: {message}", stacklevel=4)
            return []
        raise ValueError(message)
    plan = []
    for v, (path, ds) in zip(variables, _by_names(variables, saved), strict=True):
        where = f"{label}: {path} (layer {layer.name!r}, variable {v.path!r})"
        if ds.shape is not None and tuple(ds.shape) != tuple(v.shape) and skip:
            warnings.warn(
                f"Skipping loading: {where}: shape mismatch: the file has {tuple(ds.shape)}, "
                f"the variable {tuple(v.shape)}.",
                stacklevel=4,
            )
            continue
        try:
            plan.append((v, _h5.read_dataset(ds, where, v.shape, v.dtype)))
        except OSError as e:  # h5py's error for unreadable (corrupted) data
            raise ValueError(f"{where}: unreadable data: {e}") from e
    return plan


def _plan_weights(group: Any, model: Any, label: str, by_name: bool, skip: bool) -> list:
    """Keras's load_weights_from_hdf5_group (topological) or ..._by_name, as a plan."""
    from .weights import own_variables

    names = _names(group, "layer_names", label)
    saved = {name: _saved(group, name, label) for name in names}
    plan: list = []
    if by_name:
        index: dict[str, list] = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        for name in names:
            for layer in index.get(name, []):
                plan += _plan_layer(layer, saved[name], label, name, skip)
    else:
        layers = [layer for layer in model.layers if _layer_weights(layer)]
        names = [name for name in names if saved[name]]
        if len(names) != len(layers):
            raise ValueError(
                f"{label}: layer count mismatch: the model {model.name!r} has {len(layers)} "
                f"layers with weights {[x.name for x in layers]}, the file has {len(names)} "
                f"{names}."
            )
        for layer, name in zip(layers, names, strict=True):
            plan += _plan_layer(layer, saved[name], label, name, skip)
    if "top_level_model_weights" in group:
        top = _saved(group, "top_level_model_weights", label)
        own = own_variables(model)
        if len(top) != len(own) and not (skip and by_name):
            raise ValueError(
                f"{label}: weight count mismatch for the top-level weights of {model.name!r}: "
                f"the model has {len(own)}, the file has {len(top)}."
            )
        if len(top) == len(own):
            for v, (path, ds) in zip(own, top, strict=True):
                where = f"{label}: {path} (variable {v.path!r})"
                plan.append((v, _h5.read_dataset(ds, where, v.shape, v.dtype)))
    return plan


def _damaged(label: str, e: Exception) -> ValueError:
    return ValueError(f"{label} is damaged; nothing was loaded: {type(e).__name__}: {e}")


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False,
                 by_name: bool = False) -> None:  # fmt: skip
    """Load a Keras 2 `.h5` weights file (or the weights of a whole-model `.h5` file).

    Keras: model.load_weights(filepath, skip_mismatch=False, by_name=False) for `.h5`.
    Topological: the layers that have weights, in order, take the file's layers that have
    weights, in order (names are ignored). by_name=True: each layer of the file loads into the
    model's layers of that name; others are left as they are. skip_mismatch=True skips a
    variable whose shape differs (and, by name, a layer whose count differs), with a warning.
    All or nothing: everything is read and checked before any variable is assigned.
    """
    label = f"load_weights: {os.fspath(filepath)}"
    if not hasattr(model, "layers"):
        raise ValueError(
            f"{label}: a Keras 2 `.h5` weights file loads into a model (Sequential or "
            f"functional), not into the layer {getattr(model, 'name', model)!r}."
        )
    with _open(filepath, "load_weights") as f:
        try:
            _h5.check_links(f, label)
            group = f
            if "layer_names" not in f.attrs and "model_weights" in f:
                group = f["model_weights"]
            plan = _plan_weights(group, model, label, by_name, skip_mismatch)
        except (OSError, KeyError, RuntimeError, TypeError) as e:
            raise _damaged(label, e) from e
    for variable, value in plan:
        variable.assign(value)


def _optimizer(training_config: dict, label: str) -> Any:
    """The reference optimizer for tf_keras's `optimizer_config` (an explicit class table)."""
    from .. import optimizers

    spec = training_config.get("optimizer_config")
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError(f"{label}: training_config has no optimizer_config.")
    name = str(spec.get("class_name"))
    name = name.split(">", 1)[1] if name.startswith("Custom>") else name  # tf_keras registers
    cls = {c: getattr(optimizers, c) for c in optimizers.__all__}.get(name)
    if not (isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)):
        raise ValueError(f"{label}: unknown optimizer {spec.get('class_name')!r}.")
    config = {k: v for k, v in spec["config"].items()
              if k not in ("is_legacy_optimizer", "jit_compile")}  # fmt: skip
    if isinstance(config.get("learning_rate"), dict):
        schedule = config["learning_rate"]
        sched = getattr(optimizers.schedules, str(schedule.get("class_name")), None)
        if not isinstance(sched, type):
            raise ValueError(f"{label}: unknown learning-rate schedule {schedule!r}.")
        config["learning_rate"] = sched(**schedule["config"])
    return cls(**config)


def _plan_optimizer(f: Any, model: Any, label: str) -> list:
    """tf_keras's optimizer_weights (`iteration`, then the slots in the reference's order) as a
    plan; an unknown layout or a different count keeps a fresh optimizer, with a warning."""
    if "optimizer_weights" not in f:
        return []
    group = f["optimizer_weights"]
    names = _names(group, "weight_names", f"{label}: optimizer_weights")
    opt = model.optimizer
    targets = [opt._iterations] + [v for v in opt.variables[1:] if v is not opt._learning_rate]
    if not names or names[0] != "iteration:0" or len(names) != len(targets):
        warnings.warn(
            f"{label}: the saved optimizer state ({len(names)} variables {names[:3]}...) does "
            f"not match {type(opt).__name__}'s {len(targets)} variables; the optimizer starts "
            "fresh.",
            stacklevel=3,
        )
        return []
    plan = []
    for v, name in zip(targets, names, strict=True):
        ds = group.get(name)
        if not isinstance(ds, _h5.h5py().Dataset):
            raise ValueError(f"{label}: optimizer_weights/{name} is missing or not a dataset.")
        where = f"{label}: optimizer_weights/{name} (variable {v.path!r})"
        plan.append((v, _h5.read_dataset(ds, where, v.shape, v.dtype)))
    return plan


def _compile(f: Any, model: Any, label: str) -> list:
    """Compile `model` from the file's training_config; the plan of its optimizer state."""
    training = _json_attr(f, "training_config", label)
    if not isinstance(training, dict):
        raise ValueError(f"{label}: training_config is not a JSON object.")
    try:
        args = legacy_config.compile_args(training, f"{label}: training_config")
        model.compile(optimizer=_optimizer(training, label), **args)
        model.optimizer.build(model.trainable_variables)
    except (KeyError, TypeError, IndexError, AttributeError) as e:
        raise ValueError(
            f"{label}: training_config is not one the reference can compile: "
            f"{type(e).__name__}: {e}"
        ) from e
    return _plan_optimizer(f, model, label)


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:  # fmt: skip
    """A reference model from a Keras 2 whole-model `.h5` file (tf_keras's `model.save`).

    Keras: keras.models.load_model(path.h5) (legacy_h5_format.load_model_from_hdf5).
    The config is mapped to Keras 3 spellings (legacy_config), rebuilt with reference classes
    looked up by name, then the weights load by topological order, all or nothing. When the
    file has a training_config (and compile=True), the model is compiled with its optimizer,
    loss and metrics, and tf_keras's optimizer state is restored.
    """
    from .keras_file import _LAMBDA_ERROR, _has_lambda, deserialize

    label = f"load_model: {os.fspath(filepath)}"
    with _open(filepath, "load_model") as f:
        try:
            _h5.check_links(f, label)
            if "model_config" not in f.attrs:
                raise ValueError(
                    f"{label} has no model_config: it holds weights only. Build the model and "
                    "call `model.load_weights(path)`."
                )
            config = _json_attr(f, "model_config", label)
            if safe_mode and _has_lambda(config):
                raise ValueError(f"{label}: {_LAMBDA_ERROR}")
            try:
                config = legacy_config.convert(config, label)
                model = deserialize(config, custom_objects, f"{label}:config")
            except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as e:
                raise ValueError(
                    f"{label}: model_config is not a model config the reference can rebuild: "
                    f"{type(e).__name__}: {e}"
                ) from e
            if "model_weights" not in f:
                raise ValueError(f"{label} has no model_weights group.")
            plan = _plan_weights(f["model_weights"], model, label, False, False)
            if compile and "training_config" in f.attrs:
                plan += _compile(f, model, label)
        except (OSError, KeyError, RuntimeError) as e:
            raise _damaged(label, e) from e
    for variable, value in plan:
        variable.assign(value)
    return model
