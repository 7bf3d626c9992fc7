"""Keras 2 (tf_keras) model configs mapped to Keras 3 spellings, by explicit tables.

Keras: keras.src.legacy.saving.saving_utils.model_from_config and json_utils.decode, and
functional.deserialize_node's legacy branch.
Keras 2 spellings mapped: `batch_input_shape` (an InputLayer's `batch_shape`; on Sequential's
first layer, an InputLayer put in front), `axis: [n]` -> `n`, a dtype `Policy` dict -> its
name, the RNN arguments `implementation` (dropped: a kernel layout, same math) and
`time_major` (False dropped, True refused), `package>name` class names -> registered names,
a Sequential config that is a bare list of layers (Keras <= 2.2.2),
nodes `[[layer, node, tensor, kwargs], ...]` -> `{"args", "kwargs"}` with tf_keras's numbering
of a nested Sequential's calls (from 1) brought to Keras 3's (from 0), and tf_keras's JSON
encodings of tuples and TensorShapes -> lists.
Differences: Keras 3.15 itself fails on tf_keras's LSTM/GRU configs ("Unrecognized keyword
arguments passed to LSTM: {'time_major': False}").
"""

from __future__ import annotations

import json
from typing import Any


def decode_json(text: str, where: str) -> Any:
    """JSON with tf_keras's encodings of tuples and TensorShapes (json_utils) as lists."""

    def hook(obj: dict) -> Any:
        if obj.get("class_name") in ("__tuple__", "TensorShape") and "items" in obj:
            return obj["items"]
        return obj

    try:
        return json.loads(text, object_hook=hook)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{where} is not valid JSON: {e}") from e


# -- Keras 2 config spellings -> Keras 3 (keras.src.legacy.saving.saving_utils) ----------------

_MODELS = ("Sequential", "Functional", "Model")
# Keras 2 RNN arguments that Keras 3 has no use for: `implementation` chose a kernel layout
# (same math), `time_major=False` is the only layout Keras 3 has.
_DROPPED = {"implementation": None, "time_major": False}


def convert(entry: Any, where: str, shift: dict | None = None) -> dict:
    """A Keras 3 serialized entry for a Keras 2 one (a copy; the input is not changed).
    `shift`: {layer name: amount to subtract from node indices that point at it}."""
    if isinstance(entry, dict) and entry.get("class_name") == "Sequential":
        if isinstance(entry.get("config"), list):  # Keras <= 2.2.2: the list of layers alone
            entry = {**entry, "config": {"layers": entry["config"]}}
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{where}: expected a serialized layer, got {str(entry)[:200]}")
    class_name, config = entry.get("class_name"), dict(entry["config"])
    if not isinstance(class_name, str):
        raise ValueError(f"{where}: a layer entry has no class_name: {str(entry)[:200]}")
    where = f"{where}/{config.get('name', class_name)}"
    out = {k: v for k, v in entry.items() if k not in ("class_name", "config", "inbound_nodes")}
    if ">" in class_name:  # tf_keras writes a registered class's `package>name` as class_name
        out.update(class_name=class_name.split(">", 1)[1], registered_name=class_name, module=None)
    else:
        out.update(class_name=class_name, module="keras.layers")
    shape = config.pop("batch_input_shape", None)
    if shape is not None and class_name == "InputLayer":
        config["batch_shape"] = shape
    elif shape is not None:
        out["_batch_input_shape"] = shape  # Sequential's first layer: becomes an InputLayer
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]
    dtype = config.get("dtype")
    if isinstance(dtype, dict):  # Keras 2's Policy("mixed_float16") -> its name
        config["dtype"] = (dtype.get("config") or {}).get("name")
    for key, allowed in _DROPPED.items():
        if key in config and class_name in ("LSTM", "GRU", "SimpleRNN"):
            value = config.pop(key)
            if allowed is not None and value != allowed:
                raise ValueError(
                    f"{where}: {key}={value!r} is not supported (Keras 3 and the reference run "
                    f"batch-major RNNs only)."
                )
    if class_name in _MODELS:
        _convert_model(class_name, config, where)
    if "inbound_nodes" in entry:
        out["inbound_nodes"] = [_node(n, where, shift or {}) for n in entry["inbound_nodes"]]
    out["config"] = config
    return out


def _convert_model(class_name: str, config: dict, where: str) -> None:
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ValueError(f"{where}: a model config without a list of layers.")
    # tf_keras counts the calls of a nested Sequential that has an input from 1 (its node 0 is
    # its own graph, _should_skip_first_node); the reference's Sequential, as Keras 3's, from 0.
    shift = {x.get("name"): 1 for x in layers if _sequential_with_input(x)}
    layers = [convert(layer, where, shift) for layer in layers]
    for key in ("input_layers", "output_layers"):
        if key in config:
            config[key] = _shifted(config[key], shift)
    for layer in layers:
        shape = layer.pop("_batch_input_shape", None)
        if class_name == "Sequential" and layer is layers[0] and shape is not None:
            dtype = layer["config"].get("dtype")
            entry = {"batch_shape": shape, "dtype": dtype if isinstance(dtype, str) else None}
            layers.insert(0, {"class_name": "InputLayer", "module": "keras.layers",
                              "config": entry})  # fmt: skip
    config["layers"] = layers


def _sequential_with_input(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("class_name") != "Sequential":
        return False
    layers = (entry.get("config") or {}).get("layers") or [{}]
    first = layers[0] if isinstance(layers[0], dict) else {}
    return first.get("class_name") == "InputLayer" or "batch_input_shape" in (
        first.get("config") or {}
    )


def _shifted(spec: Any, shift: dict) -> Any:
    """[layer, node_index, tensor_index] specs (nested in lists) with node indices shifted."""
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        node = spec[1] - shift.get(spec[0], 0) if isinstance(spec[1], int) else spec[1]
        return [spec[0], node, spec[2]]
    if isinstance(spec, list):
        return [_shifted(x, shift) for x in spec]
    return spec


def _node(node: Any, where: str, shift: dict) -> Any:
    """A Keras 2 node `[[layer, node_index, tensor_index, kwargs], ...]` as Keras 3's
    `{"args": [tensor or [tensors]], "kwargs": ...}` (functional.deserialize_node)."""
    if isinstance(node, dict):
        return node
    if isinstance(node, list) and len(node) in (3, 4) and isinstance(node[0], str):
        node = [node]  # one tensor written flat (tf_keras does it for TF-op layers)
    if not isinstance(node, list) or not all(
        isinstance(x, list) and len(x) in (3, 4) and isinstance(x[0], str) for x in node
    ):
        raise ValueError(f"{where}: inbound node {str(node)[:200]} is not a Keras 2 node.")
    history = [_shifted(list(x[:3]), shift) for x in node]
    tensors = [{"class_name": "__keras_tensor__", "config": {"keras_history": h}} for h in history]
    kwargs = node[-1][3] if node and len(node[-1]) == 4 else {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"{where}: inbound node kwargs {str(kwargs)[:200]} are not a dict.")
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}
