"""get_config()/from_config() of every serializable class, against stock Keras.

One row per class of every kind (layers, initializers, regularizers, constraints, losses,
metrics, optimizers, learning-rate schedules), built with non-default arguments in both
libraries: the configs have the same keys and values (the name aside where Keras makes one
up), `from_config(get_config())` gives the same config again, the reference reads Keras's
config, and serialize_keras_object writes the module and class names Keras writes. A test
checks that the table covers every class in reference.saving.registry.
"""

from __future__ import annotations

import importlib
import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras  # noqa: E402
import pytest  # noqa: E402

from reference import activations  # noqa: E402
from reference.saving import registry, serialize_keras_object  # noqa: E402


class Sub:
    """A constructor argument that is itself an object: built in each library in turn."""

    def __init__(self, module: str, class_name: str, /, **kwargs):
        self.module, self.class_name, self.kwargs = module, class_name, kwargs

    def build(self, lib: str):
        return _make(lib, self.module, self.class_name, self.kwargs)


def _make(lib: str, module: str, name: str, kwargs: dict):
    if lib == "keras":
        cls = getattr(importlib.import_module(module), name)
    else:
        cls = registry.builtin(module, name, module)
    return cls(**{k: _built(lib, v) for k, v in kwargs.items()})


def _built(lib: str, value):
    if isinstance(value, list):
        return [_built(lib, v) for v in value]
    return value.build(lib) if isinstance(value, Sub) else value


LAY, INI, REG, CON = "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints"
LOS, MET, OPT = "keras.losses", "keras.metrics", "keras.optimizers"
SCH = "keras.optimizers.schedules"
SIMPLE_RNN = dict(
    units=3,
    activation="relu",
    use_bias=False,
    dropout=0.1,
    recurrent_dropout=0.2,
    seed=3,
    kernel_initializer="ones",
)
CONV = dict(
    filters=3,
    kernel_size=2,
    strides=2,
    padding="same",
    activation="relu",
    use_bias=False,
    kernel_initializer="he_normal",
    kernel_regularizer="l2",
)
SEPARABLE = dict(
    filters=3,
    kernel_size=2,
    strides=2,
    padding="same",
    activation="relu",
    depthwise_initializer="he_normal",
    pointwise_regularizer="l2",
)
POOL = dict(pool_size=3, strides=1, padding="same", data_format="channels_first")
RNN = dict(
    units=3,
    activation="relu",
    recurrent_activation="tanh",
    use_bias=False,
    dropout=0.1,
    recurrent_dropout=0.2,
    seed=3,
    kernel_initializer="ones",
)
ROWS = [
    (LAY, "Activation", dict(activation="gelu")),
    (LAY, "Add", dict(name="add_cfg")),
    (LAY, "AdditiveAttention", dict(use_scale=False, dropout=0.1)),
    (LAY, "AlphaDropout", dict(rate=0.3, noise_shape=(1, 2), seed=4)),
    (LAY, "Attention", dict(use_scale=True, score_mode="concat", dropout=0.2, seed=1)),
    (LAY, "Average", dict(name="avg_cfg")),
    (LAY, "AveragePooling1D", POOL),
    (LAY, "AveragePooling2D", POOL),
    (LAY, "AveragePooling3D", POOL),
    (LAY, "BatchNormalization", dict(axis=1, momentum=0.9, epsilon=1e-4, center=False,
                                   gamma_initializer="zeros", beta_regularizer="l1")),
    (LAY, "Bidirectional", dict(layer=Sub(LAY, "LSTM", units=2, name="inner_lstm"),
                                merge_mode="sum")),
    (LAY, "Concatenate", dict(axis=1)),
    (LAY, "Conv1D", dict(CONV, dilation_rate=1, groups=1)),
    (LAY, "Conv2D", dict(CONV, data_format="channels_first")),
    (LAY, "Conv3D", CONV),
    (LAY, "Conv1DTranspose", dict(CONV, output_padding=1)),
    (LAY, "Conv2DTranspose", CONV),
    (LAY, "Conv3DTranspose", CONV),
    (LAY, "Cropping1D", dict(cropping=(2, 1))),
    (LAY, "Cropping2D", dict(cropping=((1, 2), (0, 1)), data_format="channels_first")),
    (LAY, "Cropping3D", dict(cropping=1)),
    (LAY, "Dense", dict(units=5, activation="tanh", use_bias=False, kernel_constraint="non_neg",
                      bias_initializer="ones", activity_regularizer="l1")),
    (LAY, "DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, padding="same")),
    (LAY, "DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, depthwise_regularizer="l2")),
    (LAY, "Dot", dict(axes=(1, 2), normalize=True)),
    (LAY, "Dropout", dict(rate=0.4, noise_shape=(None, 1), seed=2)),
    (LAY, "ELU", dict(alpha=0.5)),
    (LAY, "EinsumDense", dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="d",
                            activation="relu")),
    (LAY, "Embedding", dict(input_dim=7, output_dim=3, mask_zero=True,
                          embeddings_initializer="ones", embeddings_regularizer="l2")),
    (LAY, "Flatten", dict(data_format="channels_first")),
    (LAY, "GRU", dict(RNN, reset_after=False, return_sequences=True, go_backwards=True)),
    (LAY, "GRUCell", dict(RNN, reset_after=False)),
    (LAY, "GaussianDropout", dict(rate=0.3, seed=5)),
    (LAY, "GaussianNoise", dict(stddev=0.3, seed=5)),
    (LAY, "GlobalAveragePooling1D", dict(data_format="channels_first", keepdims=True)),
    (LAY, "GlobalAveragePooling2D", dict(keepdims=True)),
    (LAY, "GlobalAveragePooling3D", dict(data_format="channels_first")),
    (LAY, "GlobalMaxPooling1D", dict(keepdims=True)),
    (LAY, "GlobalMaxPooling2D", dict(data_format="channels_first")),
    (LAY, "GlobalMaxPooling3D", dict(keepdims=True)),
    (LAY, "GroupNormalization", dict(groups=2, axis=1, epsilon=1e-4, center=False)),
    (LAY, "LSTM", dict(RNN, unit_forget_bias=False, return_state=True, stateful=False)),
    (LAY, "LSTMCell", dict(RNN, unit_forget_bias=False)),
    (LAY, "LayerNormalization", dict(axis=(1, 2), epsilon=1e-5, rms_scaling=True)),
    (LAY, "LeakyReLU", dict(negative_slope=0.1)),
    (LAY, "Masking", dict(mask_value=-1.0)),
    (LAY, "MaxPooling1D", POOL),
    (LAY, "MaxPooling2D", dict(POOL, data_format="channels_last")),
    (LAY, "MaxPooling3D", POOL),
    (LAY, "Maximum", dict(name="max_cfg")),
    (LAY, "Minimum", dict(name="min_cfg")),
    (LAY, "MultiHeadAttention", dict(num_heads=2, key_dim=3, value_dim=4, dropout=0.1,
                                   use_bias=False, output_shape=(5,), attention_axes=(1,))),
    (LAY, "Multiply", dict(name="mul_cfg")),
    (LAY, "PReLU", dict(alpha_initializer="ones", shared_axes=[1, 2])),
    (LAY, "Permute", dict(dims=(2, 1))),
    (LAY, "RMSNormalization", dict(axis=1, epsilon=1e-4)),
    (LAY, "RNN", dict(cell=Sub(LAY, "SimpleRNNCell", units=2, name="inner_cell"),
                      return_sequences=True, unroll=False, go_backwards=True)),
    (LAY, "ReLU", dict(max_value=6.0, negative_slope=0.1, threshold=0.5)),
    (LAY, "RepeatVector", dict(n=3)),
    (LAY, "Reshape", dict(target_shape=(2, -1))),
    (LAY, "SeparableConv1D", dict(SEPARABLE, depth_multiplier=2)),
    (LAY, "SeparableConv2D", dict(SEPARABLE, pointwise_initializer="ones")),
    (LAY, "SimpleRNN", dict(SIMPLE_RNN, return_sequences=True)),
    (LAY, "SimpleRNNCell", dict(units=3, activation="relu", dropout=0.1, seed=2)),
    (LAY, "Softmax", dict(axis=1)),
    (LAY, "SpatialDropout1D", dict(rate=0.2, seed=1)),
    (LAY, "SpatialDropout2D", dict(rate=0.2, data_format="channels_first")),
    (LAY, "SpatialDropout3D", dict(rate=0.2)),
    (LAY, "StackedRNNCells", dict(cells=[Sub(LAY, "LSTMCell", units=2, name="cell_a"),
                                         Sub(LAY, "GRUCell", units=3, name="cell_b")])),
    (LAY, "Subtract", dict(name="sub_cfg")),
    (LAY, "TimeDistributed", dict(layer=Sub(LAY, "Dense", units=2, name="inner_dense"))),
    (LAY, "UnitNormalization", dict(axis=(1, 2))),
    (LAY, "UpSampling1D", dict(size=3)),
    (LAY, "UpSampling2D", dict(size=(2, 3), interpolation="bilinear")),
    (LAY, "UpSampling3D", dict(size=2, data_format="channels_first")),
    (LAY, "ZeroPadding1D", dict(padding=(1, 2))),
    (LAY, "ZeroPadding2D", dict(padding=((1, 2), (3, 4)))),
    (LAY, "ZeroPadding3D", dict(padding=2, data_format="channels_first")),
    (INI, "Constant", dict(value=0.5)),
    (INI, "GlorotNormal", dict(seed=3)),
    (INI, "GlorotUniform", dict(seed=3)),
    (INI, "HeNormal", dict(seed=3)),
    (INI, "HeUniform", dict(seed=3)),
    (INI, "Identity", dict(gain=2.0)),
    (INI, "LecunNormal", dict(seed=3)),
    (INI, "LecunUniform", dict(seed=3)),
    (INI, "Ones", dict()),
    (INI, "Orthogonal", dict(gain=0.5, seed=2)),
    (INI, "RandomNormal", dict(mean=1.0, stddev=0.5, seed=3)),
    (INI, "RandomUniform", dict(minval=-1.0, maxval=2.0, seed=3)),
    (INI, "TruncatedNormal", dict(mean=0.5, stddev=2.0, seed=3)),
    (INI, "VarianceScaling", dict(scale=2.0, mode="fan_avg", distribution="uniform", seed=1)),
    (INI, "Zeros", dict()),
    (REG, "L1", dict(l1=0.5)),
    (REG, "L1L2", dict(l1=0.1, l2=0.2)),
    (REG, "L2", dict(l2=0.3)),
    (REG, "OrthogonalRegularizer", dict(factor=0.1, mode="columns")),
    (CON, "MaxNorm", dict(max_value=3.0, axis=1)),
    (CON, "MinMaxNorm", dict(min_value=0.5, max_value=2.0, rate=0.5, axis=1)),
    (CON, "NonNeg", dict()),
    (CON, "UnitNorm", dict(axis=1)),
    (LOS, "BinaryCrossentropy", dict(from_logits=True, label_smoothing=0.1, axis=1,
                                    reduction="sum")),
    (LOS, "BinaryFocalCrossentropy", dict(apply_class_balancing=True, alpha=0.3, gamma=1.5)),
    (LOS, "CategoricalCrossentropy", dict(from_logits=True, label_smoothing=0.2, axis=0)),
    (LOS, "CategoricalHinge", dict(reduction="sum")),
    (LOS, "CosineSimilarity", dict(axis=0, name="cos")),
    (LOS, "Hinge", dict(reduction=None)),
    (LOS, "Huber", dict(delta=2.0)),
    (LOS, "KLDivergence", dict(name="kl")),
    (LOS, "LogCosh", dict(reduction="mean")),
    (LOS, "MeanAbsoluteError", dict(name="m")),
    (LOS, "MeanAbsolutePercentageError", dict(reduction="sum")),
    (LOS, "MeanSquaredError", dict(name="mse2", reduction="sum_over_batch_size")),
    (LOS, "MeanSquaredLogarithmicError", dict(name="msle")),
    (LOS, "Poisson", dict(name="p")),
    (LOS, "SparseCategoricalCrossentropy", dict(from_logits=True, ignore_class=0)),
    (LOS, "SquaredHinge", dict(name="sh")),
    (MET, "AUC", dict(num_thresholds=50, curve="PR", summation_method="minoring",
                    multi_label=True, num_labels=3, from_logits=True)),
    (MET, "Accuracy", dict(name="acc")),
    (MET, "BinaryAccuracy", dict(threshold=0.7)),
    (MET, "CategoricalAccuracy", dict(name="ca")),
    (MET, "F1Score", dict(average="macro", threshold=0.4)),
    (MET, "FBetaScore", dict(average="weighted", beta=2.0)),
    (MET, "Mean", dict(name="avg")),
    (MET, "MeanAbsoluteError", dict(name="m")),
    (MET, "MeanSquaredError", dict(name="m")),
    (MET, "Precision", dict(thresholds=[0.3, 0.6], top_k=None, class_id=1)),
    (MET, "Recall", dict(thresholds=0.4, class_id=2)),
    (MET, "RootMeanSquaredError", dict(name="r")),
    (MET, "SparseCategoricalAccuracy", dict(name="s")),
    (MET, "Sum", dict(name="total")),
    (MET, "TopKCategoricalAccuracy", dict(k=3)),
    (OPT, "Adadelta", dict(learning_rate=0.5, rho=0.9, epsilon=1e-5, clipnorm=1.0)),
    (OPT, "Adagrad", dict(learning_rate=0.5, initial_accumulator_value=0.2, weight_decay=0.1)),
    (OPT, "Adam", dict(learning_rate=0.5, beta_1=0.8, amsgrad=True, use_ema=True)),
    (OPT, "AdamW", dict(learning_rate=0.5, weight_decay=0.1, beta_2=0.9, clipvalue=2.0)),
    (OPT, "Adamax", dict(learning_rate=0.5, beta_1=0.7, global_clipnorm=3.0)),
    (OPT, "Ftrl", dict(learning_rate=0.5, l1_regularization_strength=0.1, beta=0.2)),
    (OPT, "Lion", dict(learning_rate=0.5, beta_1=0.8, name="lion_cfg")),
    (OPT, "Nadam", dict(learning_rate=0.5, epsilon=1e-4, ema_momentum=0.9, use_ema=True)),
    (OPT, "RMSprop", dict(learning_rate=0.5, rho=0.8, momentum=0.1, centered=True)),
    (OPT, "SGD", dict(learning_rate=Sub(SCH, "ExponentialDecay", initial_learning_rate=0.1,
                                      decay_steps=10, decay_rate=0.5), momentum=0.9,
                    nesterov=True)),
    (SCH, "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10, alpha=0.1,
                            warmup_target=0.2, warmup_steps=3)),
    (SCH, "ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                                 staircase=True)),
    (SCH, "InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                                 staircase=True)),
    (SCH, "PiecewiseConstantDecay", dict(boundaries=[10, 20], values=[0.1, 0.05, 0.01])),
    (SCH, "PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.01,
                                power=2.0, cycle=True)),
]  # fmt: skip
# Base classes and helpers that Keras serializes only through a subclass or never by name.
ABSTRACT = {"Layer", "Initializer", "RandomInitializer", "Regularizer", "Constraint", "Loss",
            "LossFunctionWrapper", "Metric", "MeanMetricWrapper", "Optimizer",
            "LearningRateSchedule", "InputLayer", "Sequential", "Functional", "Model"}  # fmt: skip


def _pair(module, name, kwargs):
    return _make("reference", module, name, kwargs), _make("keras", module, name, kwargs)


def _plain(config):
    """A config as JSON would hold it (tuples as lists), for comparing values."""
    if isinstance(config, dict):
        return {k: _plain(v) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [_plain(v) for v in config]
    return config


def _config(obj):
    # Sub-objects are named in the table: an automatic name depends on how many objects of
    # that class each library made before (test order).
    config = _plain(obj.get_config())
    if "name" in config and "name" not in ROW_KWARGS.get(id(obj), {}):
        config.pop("name")  # an automatic name (its counter is each library's own)
    return config


ROW_KWARGS: dict[int, dict] = {}
IDS = [f"{m.split('.')[-1]}.{n}" for m, n, _ in ROWS]
# LayerNormalization(rms_scaling=True) is deprecated in Keras (both libraries warn).
pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")


def test_every_serializable_class_has_a_row():
    covered = {(m, n) for m, n, _ in ROWS}
    missing = [(m, cls.__name__) for cls, m in registry.builtins().items()
               if (m, cls.__name__) not in covered and cls.__name__ not in ABSTRACT]  # fmt: skip
    assert missing == []


@pytest.mark.parametrize("module, name, kwargs", ROWS, ids=IDS)
def test_get_config_equals_keras(module, name, kwargs):
    ours, theirs = _pair(module, name, kwargs)
    ROW_KWARGS[id(ours)] = ROW_KWARGS[id(theirs)] = kwargs
    assert _config(ours) == _config(theirs)
    # and in Keras's key order, nested configs too: config.json is written in this order
    assert json.dumps(_config(ours), default=str) == json.dumps(_config(theirs), default=str)


@pytest.mark.parametrize("module, name, kwargs", ROWS, ids=IDS)
def test_from_config_round_trips_ours_and_keras(module, name, kwargs):
    ours, theirs = _pair(module, name, kwargs)
    ROW_KWARGS[id(ours)] = ROW_KWARGS[id(theirs)] = kwargs
    want = _config(theirs)
    for config in (ours.get_config(), theirs.get_config()):
        again = type(ours).from_config(config)
        ROW_KWARGS[id(again)] = kwargs
        assert _config(again) == want


@pytest.mark.parametrize("module, name, kwargs", ROWS, ids=IDS)
def test_serialized_names_equal_keras(module, name, kwargs):
    ours, theirs = _pair(module, name, kwargs)
    keys = ("module", "class_name", "registered_name")
    got = serialize_keras_object(ours)
    want = keras.saving.serialize_keras_object(theirs)
    assert {k: got[k] for k in keys} == {k: want[k] for k in keys}


@pytest.mark.parametrize("name", sorted(activations._BY_NAME))
def test_activations_serialize_as_keras(name):
    ours, theirs = activations.get(name), keras.activations.get(name)
    assert activations.serialize(ours) == keras.activations.serialize(theirs)
    assert activations.deserialize(keras.activations.serialize(theirs)) is ours
