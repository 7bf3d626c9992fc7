"""`.keras` archives (Keras 3's `model.save`) loaded into reference models: no TensorFlow.

An archive is a zip with `config.json` (the model's serialized config), `metadata.json` and
`model.weights.h5` (the `.weights.h5` layout, optimizer included when compiled). The config is
rebuilt with the reference's classes, looked up by name in explicit tables (registry.py), then
the weights are loaded by structure.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Any

from .. import nest
from . import _h5, legacy_h5, registry
from . import archive as archive_lib
from .weights import atomic_write, load_open_file, write_open_file

# Members are read into memory: a declared size over these limits, or a compression ratio
# that only a zip bomb has, is refused before anything is decompressed.
CONFIG_LIMIT = 64 * 2**20
WEIGHTS_LIMIT = 16 * 2**30
MAX_RATIO = 200

_LAMBDA_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by default. "
    "If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, and pass your port of it in `custom_objects`."
)


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, filepath: str) -> bytes:
    info = _member_info(archive, name, limit, filepath)
    with archive.open(info) as member:
        data = member.read(limit + 1)  # never more than the limit, whatever the header says
    if len(data) > limit:
        raise ValueError(f"load_model: {filepath}: member {name!r} exceeds {limit} bytes.")
    return data


def _member_info(archive: zipfile.ZipFile, name: str, limit: int, filepath: str) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(
            f"load_model: {filepath} has no member {name!r} (members: {archive.namelist()}); "
            "it is not a Keras 3 `.keras` archive, or it is truncated."
        ) from None
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limit or ratio > MAX_RATIO:
        raise ValueError(
            f"load_model: {filepath}: member {name!r} declares {info.file_size} bytes "
            f"(compressed {info.compress_size}); the limit is {limit} bytes and a ratio of "
            f"{MAX_RATIO} (a zip bomb or an oversized member is refused)."
        )
    return info


def _has_lambda(config: Any) -> bool:
    if isinstance(config, dict):
        if config.get("class_name") in ("__lambda__", "Lambda"):
            return True
        return any(_has_lambda(v) for v in config.values())
    if isinstance(config, list):
        return any(_has_lambda(v) for v in config)
    return False


def _input(config: dict) -> Any:
    from ..models import Input

    shape = config.get("batch_shape") or [None, *config["input_shape"]]
    return Input(batch_shape=tuple(shape), dtype=config.get("dtype"), name=config.get("name"))


def deserialize(entry: dict, custom_objects: dict | None, where: str) -> Any:
    """A layer or model from its serialized entry ({"class_name", "config", ...})."""
    from ..models import Functional, InputLayer, Sequential

    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{where}: expected a serialized object, got {str(entry)[:200]}")
    cls = registry.lookup(entry, custom_objects, where)
    config = dict(entry["config"])
    name = config.get("name", entry.get("class_name"))
    where = f"{where}/{name}"
    if cls is Sequential or (isinstance(cls, type) and issubclass(cls, Sequential)):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for sub in config.get("layers", []):
            if sub.get("class_name") == "InputLayer":
                model.add(_input(sub["config"]))
            else:
                model.add(deserialize(sub, custom_objects, where), rebuild=False)
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        elif model._input_layer is not None:
            model._maybe_build()
        return model
    if cls is Functional or "input_layers" in config:
        return functional_from_config(config, custom_objects, where)
    if cls is InputLayer:
        return _input(config)._keras_history[0]
    return cls.from_config(config)


def functional_from_config(config: dict, custom_objects: dict | None, where: str) -> Any:
    """Keras's functional_from_config: create the layers, then replay their calls (nodes) once
    every tensor a node reads exists. In "input_layers"/"output_layers" a nested functional
    model's nodes count from 1 (Keras's get_config counts a first node of its own), in the
    nodes' arguments from 0."""
    from ..models import Functional, Model

    layers, pending, outputs = {}, [], {}
    for entry in config["layers"]:
        name = entry.get("name") or entry["config"]["name"]
        if entry.get("class_name") == "InputLayer":
            outputs[(name, 0)] = [_input(entry["config"])]
            continue
        layers[name] = deserialize(entry, custom_objects, where)
        pending.extend((name, i, node) for i, node in enumerate(entry.get("inbound_nodes", [])))

    def tensor(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            layer, node, index = value["config"]["keras_history"]
            return outputs[(layer, node)][index]
        if isinstance(value, dict):
            return {k: tensor(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tensor(v) for v in value]
        return value

    while pending:
        progress = False
        for item in list(pending):
            name, index, node = item
            try:
                args, kwargs = tensor(node.get("args", [])), tensor(node.get("kwargs", {}))
                if kwargs.get("mask", 0) is None:  # Keras records mask=None on model calls
                    del kwargs["mask"]
            except KeyError:
                continue  # an input of this node is not computed yet
            outputs[(name, index)] = nest.flatten(layers[name](*args, **kwargs))
            pending.remove(item)
            progress = True
        if not progress:
            raise ValueError(f"{where}: the config's graph cannot be rebuilt: {pending[0][:2]}.")

    def ends(spec: list) -> Any:
        if spec and isinstance(spec[0], str):
            first = 1 if isinstance(layers.get(spec[0]), Functional) else 0
            return outputs[(spec[0], spec[1] - first)][spec[2]]
        return [ends(s) for s in spec]

    return Model(ends(config["input_layers"]), ends(config["output_layers"]),
                 name=config.get("name"), trainable=config.get("trainable", True))  # fmt: skip


def _compile(model: Any, compile_config: dict, where: str) -> None:
    from .. import optimizers

    opt = compile_config.get("optimizer")
    if isinstance(opt, dict):
        cls = registry.lookup(opt, None, f"{where}: optimizer", kind="keras.optimizers")
        if not (isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)):
            raise ValueError(f"{where}: {opt.get('class_name')!r} is not an optimizer.")
        opt = cls.from_config(opt["config"])
    model.compile(optimizer=opt, loss=compile_config.get("loss"),
                  loss_weights=compile_config.get("loss_weights"),
                  metrics=compile_config.get("metrics"),
                  weighted_metrics=compile_config.get("weighted_metrics"))  # fmt: skip
    model.optimizer.build(model.trainable_variables)  # as Keras's compile_from_config


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:  # fmt: skip
    """A reference model from a Keras 3 `.keras` archive, with its weights (and optimizer state
    when it was saved compiled).

    Keras: keras.models.load_model(filepath, custom_objects=None, compile=True, safe_mode=True).
    Differences: Sequential and functional models of the layers the reference implements (and
    registered or custom_objects classes); a `Lambda` layer or Python lambda is refused even
    with safe_mode=False unless custom_objects supplies the class. A Keras 2 `.h5`/`.hdf5`
    file is read by legacy_h5.load_model.
    """
    filepath = os.fspath(filepath)
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_model(filepath, custom_objects, compile, safe_mode)
    if not str(filepath).endswith(".keras"):
        raise ValueError(f"load_model: the filename must end in `.keras`. Received: {filepath}")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no such file: {filepath}")
    try:
        archive = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"load_model: {filepath} is not a readable zip archive: {e}") from e
    label = f"{filepath}:model.weights.h5"
    with archive:
        try:
            raw = _read_member(archive, "config.json", CONFIG_LIMIT, filepath)
            info = _member_info(archive, "model.weights.h5", WEIGHTS_LIMIT, filepath)
            if info.compress_type == zipfile.ZIP_STORED:  # as Keras writes it: read in place
                weights = archive_lib.StoredMember(filepath, info, label)  # for HDF5's structure
                image = archive_lib.MemberImage(filepath, weights.span, info.CRC, label)
            else:
                weights = io.BytesIO(_read_member(archive, info.filename, WEIGHTS_LIMIT, filepath))
                image = None  # zipfile checked the CRC while decompressing
        except (zipfile.BadZipFile, OSError, EOFError) as e:  # a damaged member (bad CRC, ...)
            raise ValueError(f"load_model: {filepath}: damaged archive member: {e}") from e
    with weights:
        try:
            model = _model_from(raw, filepath, custom_objects, compile, safe_mode, weights, label,
                                image)  # fmt: skip
        except ValueError as e:
            if image is not None:
                image.verify()  # a damaged member is the better explanation of the failure
            raise e from e.__cause__
    return model


def _model_from(raw, filepath, custom_objects, compile, safe_mode, weights, label, image) -> Any:  # noqa: ANN001
    """The model of config.json `raw`, built without running initializers, then loaded (the
    values from `image`, the member's bytes read in the background, where it is given)."""
    from ..layer import initializers_skipped

    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"load_model: {filepath}: config.json is not valid JSON: {e}") from e
    if safe_mode and _has_lambda(config):
        raise ValueError(f"load_model: {filepath}: {_LAMBDA_ERROR}")
    try:
        with initializers_skipped():  # every value is read from the file below
            model = deserialize(config, custom_objects, f"{filepath}:config.json")
            compile_config = config.get("compile_config") if compile else None
            if isinstance(compile_config, dict) and compile_config:
                _compile(model, compile_config, f"{filepath}:config.json")
    except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as e:
        raise ValueError(f"load_model: {filepath}: config.json is not a model config the "
                         f"reference can rebuild: {type(e).__name__}: {e}") from e  # fmt: skip
    h5py = _h5.h5py()
    try:
        f = h5py.File(weights, "r")
    except OSError as e:
        raise ValueError(f"load_model: {label} is not HDF5: {e}") from e
    with f:
        load_open_file(model, f, label, image=image)
    return model


KERAS_VERSION = "3.15.1"  # the Keras whose format this writes (metadata.json)


def save_model(
    model: Any, filepath: Any, overwrite: bool = True, zipped: bool | None = None
) -> None:
    """Write `model` as a Keras 3 `.keras` archive: metadata.json, config.json (the model
    serialized as Keras 3.15 does: module, class_name, config, registered_name, build_config,
    compile_config) and model.weights.h5 (its weights and, when compiled, its optimizer's).

    Keras: keras.saving.save_model(model, filepath, overwrite=True, zipped=None).
    The archive is written to a temporary file in the same folder and renamed over `filepath`,
    so an interrupted save never leaves a half-written file there.
    Differences: zipped=False (an unzipped folder) is refused; `overwrite=False` raises
    FileExistsError instead of asking on the console.
    """
    filepath = os.fspath(filepath)
    if not str(filepath).endswith(".keras"):
        raise ValueError(
            f"save_model: the filename must end in `.keras`. Received: filepath={filepath}"
        )
    if zipped is False:
        raise ValueError("save_model: only zipped `.keras` archives are written (zipped=False).")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_model: {filepath} exists and overwrite=False.")
    from .serialization import serialize_keras_object

    config = json.dumps(serialize_keras_object(model))
    saved = datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")
    metadata = json.dumps({"keras_version": KERAS_VERSION, "date_saved": saved})
    h5py = _h5.h5py()
    with atomic_write(filepath) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr("metadata.json", metadata)
        archive.writestr("config.json", config)
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            write_open_file(model, f)
        archive.writestr("model.weights.h5", buffer.getbuffer())
