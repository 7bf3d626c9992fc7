"""Keras 2 (tf_keras) model configs mapped to Keras 3 spellings, by explicit tables.

Keras: keras.src.legacy.saving.saving_utils.model_from_config and json_utils.decode, and
functional.deserialize_node's legacy branch.
Keras 2 spellings mapped: `batch_input_shape` (an InputLayer's `batch_shape`; on Sequential's
first layer, an InputLayer put in front), `axis: [n]` -> `n`, a dtype `Policy` dict -> its
name, arguments Keras 3 has no use for (`_DROPPED`: RNNs' `implementation` and
`time_major=False`, separable convolutions' `kernel_*`, MultiHeadAttention's build shapes and
`softmax_robust_masking=False`; any other value refused), the same inside wrappers and RNNs
(`layer`, `backward_layer`, `cell`, `cells`), `package>name` class names -> registered names,
a Sequential config that is a bare list of layers (Keras <= 2.2.2), nodes
`[[layer, node, tensor, kwargs], ...]` -> `{"args", "kwargs"}` (tensors passed by keyword
included) with tf_keras's numbering of a nested model's calls (from 1) brought to the one
keras_file reads, tf_keras's JSON encodings of tuples and TensorShapes -> lists, and a
training_config's losses and metrics (`compile_args`).
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
_RNN = ("LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell")
_RNN_ARGS = {"implementation": None, "time_major": False}
_SEPARABLE_ARGS = dict.fromkeys(("kernel_initializer", "kernel_regularizer", "kernel_constraint"))
_MHA_ARGS = {"query_shape": None, "key_shape": None, "value_shape": None,
             "softmax_robust_masking": False}  # fmt: skip
# {class: {Keras 2 argument Keras 3 has no use for: the only value accepted (None: any)}}.
# RNNs: `implementation` chose a kernel layout (same math), batch-major is Keras 3's only
# layout. Separable convolutions: tf_keras's config repeats its base class's unused `kernel_*`
# arguments. MultiHeadAttention: the build shapes (Keras 3 builds at the first call) and the
# masking variant that Keras 3 does not have (False: the one it has).
_DROPPED = {
    **dict.fromkeys(_RNN, _RNN_ARGS),
    **dict.fromkeys(("SeparableConv1D", "SeparableConv2D"), _SEPARABLE_ARGS),
    "MultiHeadAttention": _MHA_ARGS,
}
# Wrappers and RNNs hold a serialized layer (or cells) of their own.
_NESTED = ("layer", "backward_layer", "cell")


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
    for key, allowed in _DROPPED.get(class_name, {}).items():
        value = config.pop(key, allowed)
        if allowed is not None and value != allowed:
            raise ValueError(f"{where}: {key}={value!r} is not supported (Keras 3 and the "
                             f"reference have only {key}={allowed!r}).")  # fmt: skip
    for key in _NESTED:
        if isinstance(config.get(key), dict):
            config[key] = convert(config[key], where)
    if isinstance(config.get("cells"), list):  # StackedRNNCells
        config["cells"] = [convert(cell, where) for cell in config["cells"]]
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
    # tf_keras counts the calls of a nested model with a graph of its own (a functional model,
    # a Sequential with an input) from 1 (_should_skip_first_node). The Keras 3 configs that
    # keras_file.functional_from_config reads count them from 0 in nodes' arguments, and from
    # 1 for a functional model only in input_layers/output_layers.
    in_nodes = {x.get("name"): 1 for x in layers if _own_graph(x)}
    in_ends = {x.get("name"): 1 for x in layers if _sequential_with_input(x)}
    layers = [convert(layer, where, in_nodes) for layer in layers]
    for key in ("input_layers", "output_layers"):
        if key in config:
            config[key] = _shifted(config[key], in_ends)
    shapes = [layer.pop("_batch_input_shape", None) for layer in layers]
    if class_name == "Sequential" and shapes and shapes[0] is not None:
        dtype = layers[0]["config"].get("dtype")
        entry = {"batch_shape": shapes[0], "dtype": dtype if isinstance(dtype, str) else None}
        layers.insert(0, {"class_name": "InputLayer", "module": "keras.layers", "config": entry})
    config["layers"] = layers


def _own_graph(entry: Any) -> bool:
    functional = isinstance(entry, dict) and entry.get("class_name") in ("Functional", "Model")
    return functional or _sequential_with_input(entry)


def _sequential_with_input(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("class_name") != "Sequential":
        return False
    config = entry.get("config")
    layers = config.get("layers") if isinstance(config, dict) else config
    if not isinstance(layers, list) or not layers:
        return False
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
    tensors = [_tensor(x[:3], shift) for x in node]
    kwargs = node[-1][3] if node and len(node[-1]) == 4 else {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"{where}: inbound node kwargs {str(kwargs)[:200]} are not a dict.")
    return {"args": [tensors[0] if len(tensors) == 1 else tensors],
            "kwargs": _kwarg_tensors(kwargs, shift)}  # fmt: skip


def _tensor(spec: list, shift: dict) -> dict:
    history = _shifted(list(spec), shift)
    return {"class_name": "__keras_tensor__", "config": {"keras_history": history}}


def _kwarg_tensors(value: Any, shift: dict) -> Any:
    """tf_keras writes a tensor passed by keyword (MultiHeadAttention's `value`, an RNN's
    `initial_state`) as `[layer, node_index, tensor_index]`."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:])
    ):
        return _tensor(value, shift)
    if isinstance(value, list):
        return [_kwarg_tensors(v, shift) for v in value]
    if isinstance(value, dict):
        return {k: _kwarg_tensors(v, shift) for k, v in value.items()}
    return value


# -- training_config: Keras 2 losses and metrics -> what Model.compile takes ------------------

# tf_keras wraps a metric given as a string in MeanMetricWrapper(name=<the string>,
# fn=<the function's name>); compile resolves these strings from the output shapes.
_SPECIAL_METRICS = ("accuracy", "acc", "crossentropy", "ce")


def _loss(spec: Any, where: str) -> Any:
    """A string as is; {"class_name", "config"} as that reference Loss class. Keras 2's
    `reduction="auto"` is Keras 3's "sum_over_batch_size"; its `fn` is implied by the class."""
    from . import registry

    if not isinstance(spec, dict):
        return spec
    entry = {"module": "keras.losses", **spec}
    cls = registry.lookup(entry, None, f"{where}: loss", "keras.losses")
    config = {k: v for k, v in (spec.get("config") or {}).items() if k != "fn"}
    if config.get("reduction") == "auto":
        config["reduction"] = "sum_over_batch_size"
    return cls(**config)


def _metric(spec: Any, where: str) -> Any:
    from . import registry

    if not isinstance(spec, dict):
        return spec
    config = spec.get("config") or {}
    if spec.get("class_name") == "MeanMetricWrapper":
        name = config.get("name")
        return name if name in _SPECIAL_METRICS else config.get("fn")
    cls = registry.lookup({"module": "keras.metrics", **spec}, None, f"{where}: metric",
                          "keras.metrics")  # fmt: skip
    return cls(**config)


def _nested(fn: Any, value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_nested(fn, v, where) for v in value]
    if isinstance(value, dict) and "class_name" not in value:  # {output name: spec}
        return {k: _nested(fn, v, where) for k, v in value.items()}
    return fn(value, where)


def _single(value: Any) -> Any:
    """tf_keras writes one list per output ([[m1, m2]]); a single output's list alone."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def compile_args(training: dict, where: str) -> dict:
    """loss, loss_weights, metrics and weighted_metrics of a tf_keras `training_config`.

    Keras: saving_utils.compile_args_from_training_config (which, in Keras 3.15, fails on a
    string loss: "Could not deserialize 'keras.metrics.mse'").
    """
    try:
        return {
            "loss": _nested(_loss, training.get("loss"), where),
            "loss_weights": training.get("loss_weights"),
            "metrics": _single(_nested(_metric, training.get("metrics"), where)),
            "weighted_metrics": _single(_nested(_metric, training.get("weighted_metrics"), where)),
        }
    except TypeError as e:
        raise ValueError(f"{where}: training_config has a loss or metric the reference cannot "
                         f"build: {e}") from e  # fmt: skip
