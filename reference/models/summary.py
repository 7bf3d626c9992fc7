"""model.summary(): Keras's table of layers, output shapes and parameter counts (plain text)."""

from __future__ import annotations

import numpy as np


def _count(weights) -> int:
    return int(sum(int(np.prod(v.shape)) for v in weights))


def _output_shape(layer) -> str:
    nodes = layer.__dict__.get("_inbound_nodes") or []
    if not nodes:
        return "?"
    outs = [getattr(o, "shape", None) for o in _flat(nodes[-1].outputs)]
    return str(outs[0]) if len(outs) == 1 else str(outs)


def _flat(x) -> list:
    return [y for e in x for y in _flat(e)] if isinstance(x, list | tuple) else [x]


def print_summary(model, line_length=None, print_fn=None) -> None:
    """Keras: keras.Model.summary. Columns: Layer (type), Output Shape, Param #; then the
    totals (all, trainable, non-trainable). No box-drawing or colours."""
    print_fn = print_fn or print
    width = line_length or 80
    cols = [int(width * 0.45), int(width * 0.33)]
    rows = [("Layer (type)", "Output Shape", "Param #")]
    for layer in model.layers:
        params = _count(layer.weights) if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", _output_shape(layer), f"{params:,}"))
    lines = [f'Model: "{model.name}"', "=" * width]
    for i, (a, b, c) in enumerate(rows):
        lines.append(f"{a:<{cols[0]}}{b:<{cols[1]}}{c:>{width - cols[0] - cols[1]}}")
        lines.append("=" * width if i == 0 else "-" * width)
    total, trainable = _count(model.weights), _count(model.trainable_weights)
    lines[-1] = "=" * width
    lines += [
        f" Total params: {total:,}",
        f" Trainable params: {trainable:,}",
        f" Non-trainable params: {total - trainable:,}",
    ]
    for line in lines:
        print_fn(line)
