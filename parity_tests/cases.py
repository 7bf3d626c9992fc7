"""The parity suite as data: one row per layer configuration. No logic lives here.

Each row runs in every dtype it lists, against the TF twin and (when `keras` is set) against
stock Keras. A row that needs a looser tolerance than the harness default says so in `rtol`,
with its reason in `reason`.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Case:
    layer: str  # class name in reference.layers / tf_layers / keras.layers (or the examples)
    config: dict = dataclasses.field(default_factory=dict)
    input_shape: tuple = (4, 3)
    training: bool | None = False
    dtypes: tuple = ("float32", "float64")
    keras: bool = True  # also compare against stock keras.layers.<layer>
    rtol: dict = dataclasses.field(default_factory=dict)  # dtype -> rtol, only with a reason
    reason: str = ""
    dtype_arg: bool = True  # the layer's constructor takes dtype= (user layers may not)

    @property
    def id(self) -> str:
        config = ",".join(f"{k}={v}" for k, v in self.config.items())
        return f"{self.layer}({config}) x{self.input_shape} training={self.training}"


ALL_FLOATS = ("float16", "float32", "float64")
ACTIVATIONS = [
    "relu",
    "tanh",
    "sigmoid",
    "gelu",
    "softmax",
    "elu",
    "selu",
    "softplus",
    "silu",
    "hard_sigmoid",
    "leaky_relu",
    "log_softmax",
    "mish",
    "softsign",
    "relu6",
]

CASES: list[Case] = [
    # Dense: units, activations, bias, input rank (leading axes flattened in the VJP).
    Case("Dense", dict(units=4), (2, 3)),
    Case("Dense", dict(units=1), (5, 3)),
    Case("Dense", dict(units=7, activation="relu"), (6, 5)),
    Case("Dense", dict(units=5, activation="tanh", use_bias=False), (2, 3, 4)),
    Case("Dense", dict(units=3, activation="gelu"), (2, 2, 3, 4)),
    Case("Dense", dict(units=6, activation="softmax"), (4, 3)),
    Case("Dense", dict(units=4, activation="sigmoid", bias_initializer="ones"), (3, 2)),
    Case("Dense", dict(units=64, activation="relu"), (32, 512)),
    Case("Dense", dict(units=8, trainable=False), (3, 4)),
    Case("Dense", dict(units=16, activation="tanh"), (8, 64), dtypes=ALL_FLOATS),
    # Activation layer over the activation table.
    *[Case("Activation", dict(activation=name), (3, 5)) for name in ACTIVATIONS],
    *[Case("Activation", dict(activation=n), (4, 6), dtypes=("float16",)) for n in ACTIVATIONS],
    # BatchNormalization: both modes, axes, optional affine parts, frozen layers.
    Case("BatchNormalization", dict(), (8, 3), training=True),
    Case("BatchNormalization", dict(), (8, 3), training=False),
    Case("BatchNormalization", dict(), (8, 3), training=None),
    Case("BatchNormalization", dict(axis=1), (4, 3, 5, 5), training=True),
    Case("BatchNormalization", dict(axis=-1), (2, 5, 5, 3), training=True),
    Case("BatchNormalization", dict(axis=1), (4, 3, 2), training=False),
    Case("BatchNormalization", dict(center=False), (16, 4), training=True),
    Case("BatchNormalization", dict(scale=False), (16, 4), training=True),
    Case("BatchNormalization", dict(momentum=0.9, epsilon=1e-5), (64, 6), training=True),
    Case("BatchNormalization", dict(trainable=False), (8, 3), training=True),
    Case("BatchNormalization", dict(axis=1), (8, 4, 3), training=True, dtypes=ALL_FLOATS),
    Case("BatchNormalization", dict(), (8, 4), training=False, dtypes=ALL_FLOATS),
    # The seed tutorial's layer, ported (reference.examples) vs today's TF (tf_layers.examples).
    Case(
        "MyDenseLayer",
        dict(num_outputs=10),
        (10, 5),
        keras=False,
        dtypes=("float32",),
        dtype_arg=False,
    ),  # the tutorial's constructor has no dtype argument
]


def suite() -> list[tuple[Case, str, str]]:
    """Every (case, dtype, oracle) the suite runs; oracle is 'twin' or 'keras'."""
    return [
        (case, dtype, oracle)
        for case in CASES
        for dtype in case.dtypes
        for oracle in (("twin", "keras") if case.keras else ("twin",))
    ]


def suite_id(entry: tuple[Case, str, str]) -> str:
    case, dtype, oracle = entry
    return f"{case.id}-{dtype}-{oracle}"


def config_for(case: Case, dtype: str) -> dict[str, Any]:
    return {**case.config, "dtype": dtype} if case.dtype_arg else dict(case.config)
