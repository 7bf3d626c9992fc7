"""The parity suite as data: one row per layer configuration. No logic lives here.

Each row runs in every dtype it lists, against the TF twin and (when `keras` is set) against
stock Keras; rows with oracles=TRIANGLE also compare the TF twin with stock Keras (the rows
that were test_tf_twins.py's). No row tunes a tolerance: the harness's
verdict (harness.py) is the same for all; a row that departs from the defaults says why in
`reason`.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Case:
    layer: str  # class name in reference.layers / tf_layers / keras.layers (or the examples)
    config: dict = dataclasses.field(default_factory=dict)
    input_shape: tuple = (4, 3)
    training: bool | None | str = "both"  # "both": False and True when the call takes it
    dtypes: tuple = ("float32", "float64")
    keras: bool = True  # also compare against stock keras.layers.<layer>
    reason: str = ""  # why a row departs from the defaults
    dtype_arg: bool = True  # the layer's constructor takes dtype= (user layers may not)
    oracles: tuple | None = None  # None: ("twin", "keras"), or ("twin",) without `keras`
    x_mean: float = 0.0  # inputs are normal(x_mean, x_std)
    x_std: float = 1.0
    mask_shape: tuple | None = None  # a random boolean mask of this shape is passed as `mask=`

    @property
    def id(self) -> str:
        config = ",".join(f"{k}={v}" for k, v in self.config.items())
        extra = f" mask{self.mask_shape}" if self.mask_shape else ""
        extra += (
            f" x~N({self.x_mean:g},{self.x_std:g})" if (self.x_mean, self.x_std) != (0, 1) else ""
        )
        return f"{self.layer}({config}) x{self.input_shape}{extra} training={self.training}"


ALL_FLOATS = ("float16", "float32", "float64")
# The three oracles: reference == twin, reference == stock Keras, twin == stock Keras.
TRIANGLE = ("twin", "keras", "twin-keras")
# Every activation the twins implement but threshold (which needs positional arguments).
TWIN_ACTIVATIONS = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink",
]  # fmt: skip
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
    # --- issue 9 (normalization, dropout, embedding, reshaping, merging, activations) ---
    Case("LayerNormalization", dict(), (4, 6)),
    Case("LayerNormalization", dict(axis=[1, 2]), (2, 3, 4, 2)),
    Case("LayerNormalization", dict(axis=1, center=False), (3, 5, 2)),
    Case("LayerNormalization", dict(scale=False, epsilon=1e-5), (3, 7)),
    Case("LayerNormalization", dict(rms_scaling=True), (4, 6)),
    Case(
        "LayerNormalization",
        dict(),
        (4, 16),
        x_mean=1e4,
        reason="mean 1e4, std 1: the centred moments must not cancel",
    ),
    Case(
        "BatchNormalization",
        dict(),
        (32, 4),
        training=True,
        x_mean=1e4,
        reason="mean 1e4, std 1: the centred moments must not cancel",
    ),
    Case("RMSNormalization", dict(), (4, 6)),
    Case("RMSNormalization", dict(axis=[-2, -1], epsilon=1e-3), (2, 3, 4)),
    Case("GroupNormalization", dict(groups=2), (3, 4, 6)),
    Case("GroupNormalization", dict(groups=3, axis=1), (2, 6, 2, 2)),
    Case("GroupNormalization", dict(groups=-1, center=False), (2, 5, 3)),
    Case("UnitNormalization", dict(), (4, 5)),
    Case("UnitNormalization", dict(axis=[1, 2]), (2, 3, 4)),
    Case("ReLU", dict(), (4, 5)),
    Case("ReLU", dict(max_value=1.0, negative_slope=0.1, threshold=0.5), (4, 5)),
    Case("ReLU", dict(max_value=6.0), (4, 5)),
    Case("LeakyReLU", dict(), (4, 5)),
    Case("LeakyReLU", dict(negative_slope=0.05), (3, 2, 4)),
    Case("PReLU", dict(), (4, 5)),
    Case("PReLU", dict(shared_axes=[1, 2]), (2, 3, 4, 5)),
    Case("ELU", dict(), (4, 5)),
    Case("ELU", dict(alpha=0.5), (4, 5)),
    Case("Softmax", dict(), (4, 5)),
    Case("Softmax", dict(axis=1), (2, 4, 3)),
    Case("Softmax", dict(axis=[1, 2]), (2, 4, 3)),
    Case("Softmax", dict(), (6, 5), mask_shape=(6, 5)),
    Case("Softmax", dict(), (3, 4, 5), mask_shape=(3, 1, 5)),
    Case("Flatten", dict(), (2, 3, 4)),
    Case("Flatten", dict(data_format="channels_first"), (2, 3, 4, 2)),
    Case("Reshape", dict(target_shape=(4, -1)), (2, 3, 4)),
    Case("Permute", dict(dims=(2, 3, 1)), (2, 3, 4, 5)),
    Case("RepeatVector", dict(n=3), (2, 4)),
    # The noise layers at training=False (the identity). Their training=True rows live in
    # test_core_layers_keras: the harness's sensitivity rerun of the oracle would draw new
    # noise there, which widens its bound until any draw passes.
    *[
        Case(name, {**config, "seed": 11}, shape, training=False)
        for name, config, shape in (
            ("Dropout", dict(rate=0.5), (4, 5)),
            ("SpatialDropout1D", dict(rate=0.5), (2, 3, 4)),
            ("SpatialDropout2D", dict(rate=0.5), (2, 3, 3, 4)),
            ("SpatialDropout3D", dict(rate=0.5), (2, 2, 2, 2, 3)),
            ("GaussianNoise", dict(stddev=0.5), (4, 5)),
            ("GaussianDropout", dict(rate=0.5), (4, 5)),
            ("AlphaDropout", dict(rate=0.5), (4, 5)),
        )
    ],  # fmt: skip
    Case("BatchNormalization", dict(), (6, 5, 3), training=True, mask_shape=(6, 5)),
    Case(
        "BatchNormalization",
        dict(axis=1),
        (4, 3, 5),
        training=True,
        mask_shape=(4, 3),
        reason="the mask broadcasts on the last axis whatever `axis` is",
    ),  # fmt: skip
    Case("BatchNormalization", dict(synchronized=True), (16, 4), training=True),
    Case(
        "BatchNormalization",
        dict(synchronized=True),
        (16, 4),
        training=True,
        x_mean=30.0,
        reason="E[x^2] - E[x]^2 cancels at mean 30: Keras's formula, reproduced",
    ),  # fmt: skip
    Case("Masking", dict(), (3, 4, 2)),
    # --- end of issue 9 rows ---
    # --- Convolutions (issue 8). Stock Keras on the TF CPU backend cannot run channels_first
    # 1D/2D convolutions (no NCHW kernel) and, for grouped channels_first ones, returns an XLA
    # tensor that broadcasts the (1, filters, 1, 1) bias along the last axis: those rows compare
    # with the TF twin only.
    Case("Conv1D", dict(filters=4, kernel_size=3), (2, 9, 3)),
    Case("Conv1D", dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 2)),
    Case("Conv1D", dict(filters=2, kernel_size=2, strides=3, padding="same"), (1, 11, 3)),
    Case("Conv1D", dict(filters=4, kernel_size=3, groups=2, activation="relu"), (3, 8, 4)),
    Case("Conv2D", dict(filters=4, kernel_size=3, padding="same"), (2, 7, 5, 3)),
    Case("Conv2D", dict(filters=4, kernel_size=2, strides=2, padding="same"), (2, 8, 7, 3)),
    Case("Conv2D", dict(filters=3, kernel_size=4, strides=2, padding="same"), (1, 9, 9, 2)),
    Case("Conv2D", dict(filters=5, kernel_size=1), (1, 5, 4, 6)),
    Case("Conv2D", dict(filters=2, kernel_size=2, strides=3), (2, 8, 7, 3)),  # stride > kernel
    Case(
        "Conv2D",
        dict(filters=3, kernel_size=(3, 2), dilation_rate=(2, 3), padding="same"),
        (2, 9, 9, 2),
    ),
    Case("Conv2D", dict(filters=6, kernel_size=3, groups=3, activation="tanh"), (2, 6, 7, 6)),
    Case("Conv2D", dict(filters=4, kernel_size=3, use_bias=False, strides=(1, 2)), (2, 7, 9, 2)),
    Case(
        "Conv2D", dict(filters=8, kernel_size=3, padding="same", activation="relu"), (4, 16, 16, 8)
    ),
    Case(
        "Conv2D",
        dict(filters=4, kernel_size=3, padding="same", data_format="channels_first"),
        (2, 3, 7, 6),
        keras=False,
        reason="stock Keras: no NCHW Conv2D on the TF CPU backend",
    ),
    Case(
        "Conv2D",
        dict(filters=4, kernel_size=3, groups=2, data_format="channels_first"),
        (2, 4, 7, 6),
        keras=False,
        reason="stock Keras: grouped NCHW adds the bias on the wrong axis",
    ),
    Case(
        "Conv1D",
        dict(filters=3, kernel_size=2, padding="causal", data_format="channels_first"),
        (2, 2, 7),
        keras=False,
        reason="stock Keras: no NCW Conv1D on the TF CPU backend",
    ),
    Case("Conv3D", dict(filters=2, kernel_size=2, padding="same", strides=2), (1, 5, 4, 3, 2)),
    Case(
        "Conv3D", dict(filters=3, kernel_size=(1, 2, 3), dilation_rate=(1, 2, 1)), (2, 3, 6, 5, 2)
    ),
    Case("Conv3D", dict(filters=4, kernel_size=2, groups=2), (1, 4, 3, 4, 4)),
    Case("Conv3D", dict(filters=3, kernel_size=2, data_format="channels_first"), (1, 2, 4, 4, 3)),
    # Pooling (issue 8). TF has no float64 MaxPool3D/AvgPool3D kernel, so stock Keras cannot run
    # the 3D rows (the twin pools separably in float64); test_conv_keras.py checks those
    # against stock Keras in float32.
    Case("MaxPooling1D", dict(pool_size=3, strides=1), (2, 8, 3)),
    Case("MaxPooling1D", dict(pool_size=2, padding="same"), (2, 7, 2)),
    Case("MaxPooling2D", dict(), (2, 6, 4, 3)),
    Case("MaxPooling2D", dict(padding="same"), (2, 5, 5, 3)),
    Case("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (1, 7, 8, 2)),
    Case("MaxPooling2D", dict(pool_size=(2, 3), strides=(3, 1)), (2, 7, 6, 2)),
    Case("MaxPooling2D", dict(data_format="channels_first"), (2, 3, 6, 4)),
    Case(
        "AveragePooling1D",
        dict(pool_size=3, padding="same", data_format="channels_first"),
        (2, 3, 7),
    ),  # fmt: skip
    Case("AveragePooling2D", dict(pool_size=2), (2, 6, 4, 3)),
    Case("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 2)),
    Case("AveragePooling2D", dict(pool_size=(3, 2), strides=1, padding="same"), (1, 5, 4, 2)),
    *[
        Case(layer, config, shape, keras=False, reason="no float64 3D pooling kernel in TF")
        for layer in ("MaxPooling3D", "AveragePooling3D")
        for config, shape in (
            (dict(pool_size=2, padding="same"), (1, 3, 5, 4, 2)),
            (
                dict(
                    pool_size=(2, 3, 2),
                    strides=(1, 2, 2),
                    padding="same",
                    data_format="channels_first",
                ),
                (2, 2, 3, 5, 4),
            ),
        )
    ],  # fmt: skip
    *[
        Case(f"Global{kind}Pooling{r}D", config, shape)
        for kind in ("Average", "Max")
        for r, shape in ((1, (2, 5, 3)), (2, (2, 3, 4, 5)), (3, (2, 3, 2, 3, 2)))
        for config in (dict(), dict(keepdims=True, data_format="channels_first"))
    ],  # fmt: skip
    # Transposed, depthwise, separable convolutions (issue 8). TF has no dilated transposed
    # convolution on CPU (neither has stock Keras): no such row.
    Case(
        "Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 3, 2)
    ),
    Case("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 4, 3, 2)),
    Case(
        "Conv2DTranspose",
        dict(filters=2, kernel_size=4, strides=2, padding="same", output_padding=1),
        (1, 3, 3, 2),
    ),
    Case("Conv2DTranspose", dict(filters=2, kernel_size=2, strides=3), (1, 3, 4, 2)),
    Case(
        "Conv2DTranspose",
        dict(filters=3, kernel_size=(3, 2), strides=(2, 1), data_format="channels_first"),
        (2, 2, 4, 3),
        keras=False,
        reason="stock Keras: no NCHW transposed convolution on the TF CPU backend",
    ),
    Case("Conv1DTranspose", dict(filters=2, kernel_size=2, strides=3, output_padding=1), (2, 4, 3)),
    Case(
        "Conv1DTranspose",
        dict(filters=3, kernel_size=3, padding="same", activation="tanh"),
        (2, 5, 2),
    ),
    Case("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=(1, 2, 2)), (1, 2, 3, 2, 2)),
    Case("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 5, 4, 3)),
    Case("DepthwiseConv2D", dict(kernel_size=2, dilation_rate=2), (1, 6, 5, 2)),
    Case("DepthwiseConv2D", dict(kernel_size=3, strides=2, use_bias=False), (2, 7, 7, 2)),
    Case(
        "DepthwiseConv2D",
        dict(kernel_size=3, data_format="channels_first"),
        (2, 3, 5, 6),
        keras=False,
        reason="stock Keras: no NCHW depthwise convolution on the TF CPU backend",
    ),
    Case("DepthwiseConv1D", dict(kernel_size=3, strides=2), (2, 8, 3)),
    Case(
        "DepthwiseConv1D",
        dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2),
        (2, 7, 3),
    ),
    Case(
        "SeparableConv2D",
        dict(filters=4, kernel_size=3, depth_multiplier=2, activation="relu"),
        (2, 6, 5, 3),
    ),
    Case(
        "SeparableConv2D", dict(filters=2, kernel_size=2, strides=2, padding="same"), (1, 5, 5, 3)
    ),
    Case(
        "SeparableConv1D",
        dict(filters=3, kernel_size=3, dilation_rate=2, padding="same"),
        (2, 9, 2),
    ),
    Case("SeparableConv1D", dict(filters=3, kernel_size=2, strides=3, padding="same"), (2, 8, 2)),
    # UpSampling, ZeroPadding, Cropping (issue 8). Bilinear UpSampling2D is checked in
    # test_conv_keras.py: TF's ResizeBilinear computes in float32 whatever the dtype, so float64
    # TF is no float64 truth for it (2e-7 apart).
    Case("UpSampling1D", dict(size=3), (2, 4, 3)),
    Case("UpSampling2D", dict(), (2, 3, 4, 2)),
    Case("UpSampling2D", dict(size=(1, 3), data_format="channels_first"), (1, 2, 3, 4)),
    Case("UpSampling3D", dict(size=(1, 2, 3), data_format="channels_first"), (1, 2, 2, 3, 2)),
    Case("UpSampling3D", dict(), (1, 2, 2, 2, 3)),
    Case("ZeroPadding1D", dict(padding=(1, 2)), (2, 4, 3)),
    Case("ZeroPadding2D", dict(padding=((1, 2), (0, 3))), (2, 3, 4, 2)),
    Case("ZeroPadding2D", dict(padding=2, data_format="channels_first"), (1, 2, 3, 3)),
    Case("ZeroPadding3D", dict(padding=(1, 0, 2)), (1, 2, 2, 3, 2)),
    Case("Cropping1D", dict(cropping=(1, 2)), (2, 5, 3)),
    Case("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 4, 5, 2)),
    Case("Cropping2D", dict(cropping=1, data_format="channels_first"), (1, 2, 4, 3)),
    Case("Cropping3D", dict(cropping=1, data_format="channels_first"), (1, 2, 3, 4, 5)),
    # --- end of convolutions (issue 8)
    # --- Folded from test_tf_twins.py (inputs normal(1.5, 2): a mean far from 0 exercises
    # centering). Rows the reference cannot run (masks) compare the twin with stock Keras only.
    *[
        Case(name, config, shape, training=training, x_mean=1.5, x_std=2.0, oracles=TRIANGLE)
        for name, config, shape, training in (
            ("Dense", dict(units=7, activation="tanh"), (2, 3, 5), "both"),
            ("Dense", dict(units=4, activation="gelu"), (2, 3, 4, 6), "both"),
            ("Dense", dict(units=7, activation="softmax"), (6, 5), "both"),
            ("Dense", dict(units=7, activation="relu", use_bias=False), (3, 2, 5), "both"),
            ("Dense", dict(units=4, activation="softmax"), (2, 3, 2, 5), "both"),
            ("Dense", dict(units=1, activation="tanh", use_bias=False), (2, 2, 2, 3), "both"),
            ("Dense", dict(units=4, activation="swish"), (3, 16), "both"),
            ("Dense", dict(units=4, activation="hard_sigmoid"), (5, 3), "both"),
            ("BatchNormalization", dict(), (8, 3), None),
            ("BatchNormalization", dict(), (4, 3, 5, 2), "both"),
            ("BatchNormalization", dict(axis=1), (4, 3, 5, 2), "both"),
            ("BatchNormalization", dict(axis=1), (8, 3), True),
            ("BatchNormalization", dict(axis=0), (8, 3), True),
            ("BatchNormalization", dict(axis=-2), (4, 6, 3), True),
            ("BatchNormalization", dict(axis=2), (4, 6, 3), True),
            ("BatchNormalization", dict(center=False), (4, 3, 5, 2), True),
            ("BatchNormalization", dict(scale=False), (4, 3, 5, 2), True),
            ("BatchNormalization", dict(center=False, scale=False), (8, 3), "both"),
            ("BatchNormalization", dict(momentum=0.9, epsilon=1e-2), (4, 3, 5, 2), True),
            ("BatchNormalization", dict(axis=1, momentum=0.9), (4, 3, 5, 2), True),
            ("BatchNormalization", dict(axis=1, trainable=False), (4, 3, 5, 2), "both"),
            ("Activation", dict(activation=None), (4, 6), "both"),
            ("Activation", dict(activation="softmax"), (2, 3, 4, 5), "both"),
            ("Activation", dict(activation="gelu"), (2, 3, 4, 5), "both"),
            *[("Activation", dict(activation=n), (4, 6), "both") for n in TWIN_ACTIVATIONS],
        )
    ],
    # synchronized=True takes E[x^2] - E[x]^2 even outside a strategy (TF's default replica
    # context); a large mean makes that formula's cancellation visible, so the row can fail.
    Case(
        "BatchNormalization",
        dict(synchronized=True),
        (8, 3),
        training=True,
        x_mean=1000.0,
        x_std=2.0,
        oracles=TRIANGLE,
    ),
    Case(
        "BatchNormalization",
        dict(),
        (8, 3),
        training=True,
        x_mean=1000.0,
        x_std=2.0,
        oracles=TRIANGLE,
    ),
    *[
        Case(
            "BatchNormalization",
            config,
            shape,
            training=training,
            x_mean=1.5,
            x_std=2.0,
            mask_shape=mask,
            oracles=("twin-keras",),
            reason="the reference has no masks",
        )
        for config, shape, training, mask in (
            (dict(), (4, 6, 3), True, (4, 6)),
            (dict(), (4, 6, 3), False, (4, 6)),
            # Keras broadcasts the mask along the last axis whatever `axis` is.
            (dict(axis=1), (4, 3, 6), True, (4, 3)),
        )
    ],
    # Half precision (BatchNormalization computes in float32 for half inputs, casts back).
    *[
        Case(
            name,
            config,
            shape,
            training=training,
            x_mean=1.5,
            x_std=2.0,
            dtypes=("float16",),
            oracles=TRIANGLE,
        )
        for name, config, shape, training in (
            ("Dense", dict(units=4, activation="relu"), (5, 3), "both"),
            ("Dense", dict(units=7, activation="softmax"), (2, 3, 5), "both"),
            ("BatchNormalization", dict(), (8, 3), True),
            ("BatchNormalization", dict(axis=1), (4, 3, 5, 2), True),
            ("BatchNormalization", dict(), (8, 3), False),
        )
    ],
    # --- end of the rows folded from test_tf_twins.py
    # The seed tutorial's layer, ported (reference.examples) vs today's TF (tf_layers.examples).
    Case(
        "MyDenseLayer",
        dict(num_outputs=10),
        (10, 5),
        keras=False,
        dtypes=("float32",),
        dtype_arg=False,
    ),  # the tutorial's constructor has no dtype argument
    # --- the seed layer and TF's activation-gradient kernels (issue 5)
    # reference.examples.CustomDense vs its TF original (tf_layers.examples); no dtype argument:
    # the harness sets floatx and the dtype policy. Its third oracle, stock keras.layers.Dense,
    # is parity_tests/test_seed_layer_keras.py (keras.layers has no CustomDense to look up).
    *[
        Case("CustomDense", dict(units=4, activation=a), (6, 5), keras=False, dtype_arg=False)
        for a in (None, "relu", "tanh", "selu", "softmax")
    ],  # fmt: skip
    # Activations whose gradient is TF's own kernel, at tiny (x ~ 1e-8) and large (x ~ 30)
    # scales. The float64-truth verdict accepts a float32 gradient closer to the truth than TF's,
    # so it cannot tell TF's kernel formula from the traced one (selu at -1e-8: 1.0507 g vs
    # 1.7581 g); test_activations_keras.py compares with Keras's gradients in the same dtype at
    # those points, +-inf, NaN, subnormals and the kinks.
    *[
        Case(
            "Activation",
            dict(activation=a),
            (4, 6),
            dtypes=ALL_FLOATS,
            x_std=std,
            reason="tiny and large input scales",
        )
        for a in ("selu", "elu", "sigmoid", "tanh", "softplus", "softsign", "silu", "relu6")
        for std in (1e-8, 30.0)
    ],  # fmt: skip
    # --- end of issue 5
    # --- Recurrent layers (issue 10). training=None: one call mode (dropout in training has its
    # own tests). Lengths 1, 5, 50 (and 200 in float64); relu and hard_sigmoid take the
    # hand-written BPTT too (derivatives from the outputs).
    *[
        Case(layer, dict(units=3), (2, 1, 4), training=None)
        for layer in ("SimpleRNN", "GRU", "LSTM")
    ],  # fmt: skip
    *[
        Case(layer, dict(units=4, **extra), (2, 5, 3), training=None)
        for layer in ("SimpleRNN", "GRU", "LSTM")
        for extra in (
            dict(return_sequences=True, return_state=True, go_backwards=True),
            dict(return_state=True, use_bias=False),
            dict(return_sequences=True, activation="relu"),
        )
    ],  # fmt: skip
    Case("SimpleRNN", dict(units=6, return_sequences=True), (3, 50, 4), training=None),
    Case("SimpleRNN", dict(units=4, go_backwards=True), (1, 5, 3), training=None),
    Case("GRU", dict(units=4, reset_after=False, return_sequences=True), (2, 5, 3), training=None),
    Case(
        "GRU",
        dict(units=4, reset_after=False, return_state=True, go_backwards=True),
        (1, 5, 3),
        training=None,
    ),
    Case("GRU", dict(units=4, reset_after=False, use_bias=False), (2, 5, 3), training=None),
    Case("GRU", dict(units=8, return_sequences=True), (3, 50, 4), training=None),
    Case("GRU", dict(units=4, reset_after=False), (3, 50, 4), training=None),
    Case("GRU", dict(units=4, recurrent_activation="hard_sigmoid"), (2, 5, 3), training=None),
    Case("LSTM", dict(units=4, unit_forget_bias=False), (1, 5, 3), training=None),
    Case(
        "LSTM",
        dict(units=4, recurrent_activation="hard_sigmoid", return_sequences=True),
        (2, 5, 3),
        training=None,
    ),
    Case("LSTM", dict(units=8, return_sequences=True), (3, 50, 4), training=None),
    Case("LSTM", dict(units=8, return_state=True, go_backwards=True), (3, 50, 4), training=None),
    *[
        Case(
            layer,
            dict(units=4, return_sequences=True),
            (2, 200, 3),
            training=None,
            dtypes=("float64",),
            reason="length 200: the tight tier over a long sequence",
        )
        for layer in ("SimpleRNN", "GRU", "LSTM")
    ],  # fmt: skip
    # Masks (random (B, T) booleans): the states carry through masked steps (hand-written BPTT).
    *[
        Case(layer, dict(units=4, **extra), (3, 6, 2), training=None, mask_shape=(3, 6))
        for layer in ("SimpleRNN", "GRU", "LSTM")
        for extra in (dict(return_sequences=True, go_backwards=True), dict(return_state=True))
    ],  # fmt: skip
    # dropout configured, inference: Keras draws the masks at every call and applies none
    # (training with dropout: test_rnn_dropout_stateful_keras.py); zero_output_for_mask.
    *[
        Case(
            layer,
            dict(units=4, dropout=0.3, recurrent_dropout=0.2, return_sequences=True),
            (2, 5, 3),
            training=None,
        )
        for layer in ("SimpleRNN", "GRU", "LSTM")
    ],  # fmt: skip
    *[
        Case(
            layer,
            dict(units=4, zero_output_for_mask=True, return_sequences=True),
            (3, 6, 2),
            training=None,
            mask_shape=(3, 6),
        )
        for layer in ("SimpleRNN", "GRU", "LSTM")
    ],  # fmt: skip
    # --- end of recurrent layers (issue 10)
    # --- EinsumDense (issue 10, attention half): Keras's three equation forms, bias_axes, a
    # letter summed in the input alone. MultiHeadAttention, Attention and AdditiveAttention take
    # several inputs: their rows are parity_tests/test_attention_keras.py.
    Case("EinsumDense", dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), (3, 5)),
    Case(
        "EinsumDense",
        dict(equation="abc,cde->abde", output_shape=(3, 2, 6), bias_axes="de", activation="tanh"),
        (2, 3, 4),
    ),
    Case(
        "EinsumDense",
        dict(equation="...b,bc->...c", output_shape=4, bias_axes="c", activation="relu"),
        (2, 3, 5),
    ),
    Case("EinsumDense", dict(equation="abc,cd->abd", output_shape=(None, 4)), (2, 3, 5)),
    Case("EinsumDense", dict(equation="ab...,bc->ac...", output_shape=4, bias_axes="c"), (2, 5, 3)),
    Case(
        "EinsumDense",
        dict(equation="abcd,cde->abe", output_shape=(None, 6), bias_axes="e"),
        (1, 3, 2, 4),
    ),  # fmt: skip
    Case("EinsumDense", dict(equation="abc,cd->ad", output_shape=4, bias_axes="d"), (2, 3, 5)),
    # --- end of EinsumDense
]


def suite() -> list[tuple[Case, str, str]]:
    """Every (case, dtype, oracle) the suite runs: oracle 'twin' (reference vs TF twin),
    'keras' (reference vs stock Keras) or 'twin-keras' (TF twin vs stock Keras)."""
    return [
        (case, dtype, oracle)
        for case in CASES
        for dtype in case.dtypes
        for oracle in oracles_of(case)
    ]


def oracles_of(case: Case) -> tuple:
    if case.oracles is not None:
        return case.oracles
    return ("twin", "keras") if case.keras else ("twin",)


def suite_id(entry: tuple[Case, str, str]) -> str:
    case, dtype, oracle = entry
    return f"{case.id}-{dtype}-{oracle}"


def config_for(case: Case, dtype: str) -> dict[str, Any]:
    return {**case.config, "dtype": dtype} if case.dtype_arg else dict(case.config)
