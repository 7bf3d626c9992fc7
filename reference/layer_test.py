"""The Layer lifecycle as Keras 3 defines it (docs/keras-facts.md#fact-lifecycle), NumPy only."""

import inspect

import numpy as np
import pytest

import reference
from reference import layers


class Block(reference.Layer):
    """Own weights created out of order, sub-layers in attributes, a list and a dict."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn = layers.BatchNormalization(name="bn")
        self.blocks = [layers.Dense(2, name="d0"), layers.Dense(2, name="d1")]
        self.by_key = {"b": layers.Dense(2, name="db"), "a": layers.Dense(2, name="da")}

    def build(self, input_shape):
        self.own_nt = self.add_weight(shape=(1,), name="own_nt", trainable=False)
        self.scale = self.add_weight(shape=(2,), name="scale")
        self.own_t = self.add_weight(shape=(1,), name="own_t")

    def call(self, x, training=None):
        x = self.bn(x * self.scale, training=training)
        for layer in [*self.blocks, *self.by_key.values()]:
            x = layer(x)
        return x


def names(weights):
    return [w.path for w in weights]


def test_weights_order_is_keras_3s():
    blk = Block(name="blk")
    blk(np.ones((3, 2)))
    assert names(blk.weights) == [
        "blk/scale", "blk/own_t", "blk/own_nt",
        "blk/bn/gamma", "blk/bn/beta", "blk/bn/moving_mean", "blk/bn/moving_variance",
        "blk/d0/kernel", "blk/d0/bias", "blk/d1/kernel", "blk/d1/bias",
        "blk/db/kernel", "blk/db/bias", "blk/da/kernel", "blk/da/bias",
    ]  # fmt: skip
    assert "blk/own_nt" not in names(blk.trainable_weights)
    assert names(blk.non_trainable_weights) == [
        "blk/own_nt", "blk/bn/moving_mean", "blk/bn/moving_variance"]  # fmt: skip
    assert [w.name for w in blk.weights[:3]] == ["scale", "own_t", "own_nt"]


def test_freezing_reaches_children_and_leaves_non_trainable_state_alone():
    blk = Block(name="frozen")
    blk(np.ones((3, 2)))
    order = names(blk.weights)
    blk.trainable = False
    assert blk.trainable_weights == [] and not blk.blocks[0].trainable
    assert names(blk.non_trainable_weights) == order
    blk.trainable = True
    assert names(blk.non_trainable_weights) == [
        "frozen/own_nt", "frozen/bn/moving_mean", "frozen/bn/moving_variance"]  # fmt: skip


def test_a_variable_created_in_a_frozen_layer_is_not_trainable():
    d = layers.Dense(2, trainable=False)
    d(np.ones((1, 3)))
    assert d.trainable_weights == [] and not d.kernel.trainable


def test_build_runs_once_from_the_concrete_first_shape():
    seen = []

    class Probe(reference.Layer):
        def build(self, input_shape):
            seen.append(input_shape)

        def call(self, x):
            return x

    p = Probe()
    p(np.ones((2, 3)))
    p(np.ones((5, 3)))
    assert seen == [(2, 3)] and p.built


def test_list_input_builds_from_a_list_of_shapes():
    seen = []

    class Pair(reference.Layer):
        def build(self, input_shape):
            seen.append(input_shape)

        def call(self, xs):
            return xs[0] + xs[1]

    Pair()([np.ones((2, 3)), np.ones((2, 3))])
    assert seen == [[(2, 3), (2, 3)]]


def test_manual_build_marks_built_and_locks_state():
    d = layers.Dense(3)
    d.build((None, 4))
    assert d.built and d.kernel.shape == (4, 3)
    with pytest.raises(ValueError, match="already built"):
        d.add_weight(shape=(1,), name="late")
    with pytest.raises(ValueError, match="already built"):
        d.extra = layers.Dense(1)
    assert [w.name for w in d.weights] == ["kernel", "bias"]


def test_a_failed_build_changes_nothing_and_is_retried():
    class Flaky(reference.Layer):
        fail = True

        def build(self, input_shape):
            self.a = self.add_weight(shape=(1,), name="a")
            if Flaky.fail:
                raise RuntimeError("boom")
            self.b = self.add_weight(shape=(1,), name="b")

        def call(self, x):
            return x * self.a * self.b

    f = Flaky()
    with pytest.raises(RuntimeError, match="boom"):
        f(np.ones((1, 1)))
    assert not f.built and f.weights == [] and not hasattr(f, "a")
    Flaky.fail = False
    f(np.ones((1, 1)))
    assert [w.name for w in f.weights] == ["a", "b"]


def test_the_seed_tutorial_layer_runs_with_keras_2_add_weight():
    from reference.examples import MyDenseLayer

    layer = MyDenseLayer(10)
    y = layer(np.zeros([10, 5], dtype="float32"))
    assert y.shape == (10, 10)
    (kernel,) = layer.trainable_variables
    assert kernel.name == "kernel" and kernel.shape == (5, 10) and kernel.dtype == "float32"
    limit = np.sqrt(6 / (5 + 10))  # glorot_uniform, the add_weight default for floats
    assert np.all(np.abs(kernel.numpy()) <= limit) and np.std(kernel.numpy()) > limit / 4


ADD_WEIGHT_OK = [
    ("keras 3 keywords", (), dict(shape=(2, 3), initializer="ones", name="w"), (2, 3), "w"),
    ("keras 3 positional", ((2,), "zeros", "float64"), dict(name="w"), (2,), "w"),
    ("keras 2 name first", ("kernel",), dict(shape=[3, 4], initializer="ones"), (3, 4), "kernel"),
    ("keras 2 all positional", ("k", (2,), "float32", "ones"), {}, (2,), "k"),
    ("shape defaults to scalar", (), dict(name="s"), (), "s"),
]


@pytest.mark.parametrize("args, kwargs, shape, name", [c[1:] for c in ADD_WEIGHT_OK],
                         ids=[c[0] for c in ADD_WEIGHT_OK])  # fmt: skip
def test_add_weight_forms(args, kwargs, shape, name):
    layer = reference.Layer(name="holder")
    v = layer.add_weight(*args, **kwargs)
    assert v.shape == shape and v.name == name and v.path == f"holder/{name}"
    assert layer.weights == [v]


def test_add_weight_defaults_glorot_for_floats_zeros_for_ints():
    layer = reference.Layer()
    f = layer.add_weight(shape=(50, 50), name="f")
    i = layer.add_weight(shape=(2,), dtype="int32", name="i")
    assert f.dtype == "float32" and 0 < np.max(np.abs(f.numpy())) <= np.sqrt(6 / 100)
    np.testing.assert_array_equal(i.numpy(), [0, 0])
    assert layer.add_weight(shape=(1,)).name.startswith("variable")


ADD_WEIGHT_ERRORS = [
    ("both ways", ((2,),), dict(shape=(2,)), ValueError, "both positionally and as a keyword"),
    ("too many", ((2,), "ones", "float32", 1), {}, TypeError, "at most 3 positional"),
    ("None dim", (), dict(shape=(None, 3), name="n"), ValueError, "fully-defined"),
    ("slash", (), dict(shape=(1,), name="a/b"), ValueError, "cannot contain character `/`"),
    ("bad init", (), dict(shape=(1,), initializer="glorot_unifrom"), ValueError, "glorot_uniform"),
    ("aggregation", (), dict(shape=(1,), aggregation="max"), ValueError, "aggregation=max"),
    ("trainable", (), dict(shape=(1,), trainable=1), ValueError, "boolean"),
    ("keras 2 only kwarg", (), dict(shape=(1,), use_resource=True), TypeError, "use_resource"),
]


@pytest.mark.parametrize("args, kwargs, error, match", [c[1:] for c in ADD_WEIGHT_ERRORS],
                         ids=[c[0] for c in ADD_WEIGHT_ERRORS])  # fmt: skip
def test_add_weight_errors_create_nothing(args, kwargs, error, match):
    layer = reference.Layer()
    with pytest.raises(error, match=match):
        layer.add_weight(*args, **kwargs)
    assert layer.weights == []


def test_paths_follow_the_call_nesting():
    class Outer(reference.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(2, name="inner")
            self.early = reference.Layer(name="early")
            self.early_w = self.early.add_weight(shape=(1,), name="w")

        def call(self, x):
            return self.inner(x)

    o = Outer(name="outer")
    o(np.ones((1, 3)))
    assert [w.path for w in o.weights] == ["early/w", "outer/inner/kernel", "outer/inner/bias"]
    assert o.inner.path == "outer/inner"


def test_auto_names_count_per_class_name():
    first = layers.Activation("relu")
    second = layers.Activation("relu")
    stem, _, n = second.name.rpartition("_")
    assert first.name.startswith("activation") and stem == "activation" and n.isdigit()
    assert reference.naming.to_snake_case("BatchNormalization") == "batch_normalization"


def test_get_and_set_weights_are_all_or_nothing():
    d = layers.Dense(3, name="sd")
    d(np.ones((1, 2)))
    before = d.get_weights()
    with pytest.raises(ValueError, match="weight list of length 1, but the layer was expecting 2"):
        d.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"\(3,\) is not compatible .* \(4,\).*'sd/bias'"):
        d.set_weights([np.zeros((2, 3)), np.zeros(4)])  # first fits, second does not
    for a, b in zip(before, d.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    d.set_weights([np.full((2, 3), 2.0), np.arange(3.0)])
    assert d.kernel.dtype == "float32"
    np.testing.assert_array_equal(d(np.ones((1, 2))), [[4.0, 5.0, 6.0]])


BAD_CALLS = [
    (
        "last dim",
        np.ones((2, 5)),
        "expected axis -1 of input shape to have value 3, but received input with shape \\(2, 5\\)",
    ),  # fmt: skip
    ("rank", np.ones(3), "expected min_ndim=2, found ndim=1"),
    ("python list", [1.0, 2.0], "Only input tensors may be passed as positional arguments"),
]


@pytest.mark.parametrize("x, match", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_incompatible_input_raises_naming_the_layer_and_changes_nothing(x, match):
    d = layers.Dense(4, name="my_dense")
    d(np.ones((2, 3)))
    before = d.get_weights()
    with pytest.raises(ValueError, match=match) as err:
        d(x)
    assert "my_dense" in str(err.value) or "positional" in str(err.value)
    for a, b in zip(before, d.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


BAD_CONSTRUCTORS = [
    (lambda: layers.Dense(0), "expected a positive integer. Received: units=0"),
    (lambda: layers.Dense(2.5), "units=2.5"),
    (lambda: layers.Dense(2, activation="relu7"), "relu7.*relu6"),
    (lambda: layers.Dense(2, kernel_initializer="he_unifrom"), "he_unifrom.*he_uniform"),
    (lambda: layers.Activation("nope"), "nope.*softmax"),
    (lambda: layers.Dense(2, foo=1), r"Unrecognized keyword arguments passed to Dense: \{'foo'"),
    (lambda: layers.Dense(2, trainable="yes"), "Expected `trainable` to be a boolean"),
    (lambda: layers.Dense(2, dtype="int32"), "dtype must be one of"),
    (lambda: layers.BatchNormalization(renorm=True), "renorm"),
]


@pytest.mark.parametrize("make, match", BAD_CONSTRUCTORS)
def test_bad_constructor_arguments(make, match):
    with pytest.raises((ValueError, NotImplementedError), match=match):
        make()


def test_missing_super_init_is_reported():
    class NoSuper(reference.Layer):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        NoSuper()(np.ones((1, 1)))


def test_dtypes_autocast_float_inputs_only():
    d64 = layers.Dense(2, dtype="float64")
    assert d64(np.ones((1, 3), dtype="float32")).dtype == np.float64
    d32 = layers.Dense(2)
    assert d32(np.ones((1, 3))).dtype == np.float32

    class Echo(reference.Layer):
        def call(self, x):
            return x

    assert Echo()(np.ones(2, dtype="int32")).dtype == np.int32
    assert Echo(autocast=False)(np.ones(2)).dtype == np.float64


def test_training_resolution_and_the_keras_3_15_sibling_leak():
    log = []

    class Rec(reference.Layer):
        def __init__(self, tag, **kwargs):
            super().__init__(**kwargs)
            self.tag = tag

        def call(self, x, training=None):
            log.append((self.tag, training))
            return x

    class DefaultTrue(Rec):
        def call(self, x, training=True):
            log.append((self.tag, training))
            return x

    class Outer(reference.Layer):
        def __init__(self):
            super().__init__()
            self.t, self.a = DefaultTrue("defTrue"), Rec("after")
            self.e, self.z = Rec("explicitFalse"), Rec("afterExplicit")

        def call(self, x, training=None):
            self.t(x)
            self.a(x)
            self.e(x, training=False)
            return self.z(x)

    Outer()(np.ones(1), training=True)
    assert log == [("defTrue", True), ("after", True), ("explicitFalse", False),
                   ("afterExplicit", False)]  # fmt: skip
    log.clear()
    Outer()(np.ones(1))  # nothing passed: the signature default True leaks to a later sibling
    assert log == [("defTrue", True), ("after", True), ("explicitFalse", False),
                   ("afterExplicit", False)]  # fmt: skip


def test_training_is_dropped_for_a_call_without_it():
    class Plain(reference.Layer):
        def call(self, x):
            return x + 1.0

    np.testing.assert_array_equal(Plain()(np.zeros(2), training=True), [1.0, 1.0])


CONFIG_LAYERS = [
    lambda: layers.Dense(3, activation="tanh", use_bias=False, name="cfg_dense"),
    lambda: layers.Activation("gelu", name="cfg_act"),
    lambda: layers.BatchNormalization(axis=1, momentum=0.9, center=False, name="cfg_bn"),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS)
def test_get_config_round_trips_through_from_config(make):
    layer = make()
    config = layer.get_config()
    assert config["dtype"]["config"]["name"] == "float32" and config["trainable"] is True
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_from_config_wraps_errors_in_type_error():
    with pytest.raises(TypeError, match="Error when deserializing class 'Dense'"):
        layers.Dense.from_config({"units": -1})


def test_automatic_config_from_init_arguments():
    from reference.examples import MyDenseLayer

    config = MyDenseLayer(7).get_config()
    assert config["num_outputs"] == 7 and "name" not in config  # as Keras 3.15


def test_regularization_losses_are_lazy_and_activity_loss_divides_by_batch():
    d = layers.Dense(
        2,
        kernel_initializer="ones",
        kernel_regularizer=reference.regularizers.L2(0.5),
        activity_regularizer=reference.regularizers.L1(1.0),
    )
    d(np.ones((4, 3)))
    activity, kernel_l2 = d.losses
    assert float(activity) == pytest.approx(3.0 * 2 * 4 / 4)  # sum|y| / batch
    assert float(kernel_l2) == pytest.approx(0.5 * 6)
    d.kernel.assign(np.full((3, 2), 2.0))
    assert float(d.losses[1]) == pytest.approx(0.5 * 4 * 6)  # recomputed from the new value
    d(np.ones((4, 3)))
    assert len(d.losses) == 2  # losses are reset at each top-level call


def test_compute_output_shape():
    assert layers.Dense(4).compute_output_shape((None, 5, 3)) == (None, 5, 4)
    assert layers.BatchNormalization().compute_output_shape((2, 3)) == (2, 3)
    with pytest.raises(NotImplementedError, match="compute_output_shape"):
        reference.Layer().compute_output_shape((1,))


def test_a_build_with_several_parameters_gets_each_call_arguments_shape():
    seen = {}

    class Two(reference.Layer):
        def build(self, y_shape, x_shape):
            seen.update(x=x_shape, y=y_shape)

        def call(self, x, y):
            return x + y[..., :1]

    Two()(np.ones((2, 3)), np.ones((2, 4)))
    assert seen == {"x": (2, 3), "y": (2, 4)}

    class BadNames(reference.Layer):
        def build(self, a_shape, b):
            pass

        def call(self, x, y):
            return x

    with pytest.raises(ValueError, match="call\\(\\)` does not have argument `a`"):
        BadNames()(np.ones(1), np.ones(1))


def _signature_cases():
    class Odd(reference.Layer):
        def call(*args):  # no named self: inspect keeps *args for the bound method
            return args[1]

    class Kw(reference.Layer):
        def call(self, inputs, *, training=None, **kwargs):
            return inputs

    dense, odd, kw = layers.Dense(2), Odd(), Kw()
    return {
        "bound call": dense.call,
        "build wrapper": dense.build,
        "class __init__": type(dense).__init__,
        "bound compute_output_shape": dense.compute_output_shape,
        "odd *args call": odd.call,
        "keyword-only call": kw.call,
        "a plain function": _signature_cases,
        "a builtin": len,
    }


@pytest.mark.parametrize("name", list(_signature_cases()))
def test_cached_signature_is_inspects(name):
    """layer.signature caches by function what inspect.signature computes, for every kind of
    callable a layer asks about; asked twice, it gives the same answer."""
    from reference.layer import signature

    fn = _signature_cases()[name]
    assert signature(fn) == inspect.signature(fn)
    assert signature(fn) == inspect.signature(fn)


@pytest.mark.parametrize("attr", ["outputs", "inputs", "blocks"])
def test_sublayers_appended_later_to_a_public_list_are_tracked(attr):
    """Layers appended to a list after it was assigned are found by the scan, whatever the
    list's public name (a model's own private bookkeeping lists are the ones skipped)."""

    class Heads(reference.Layer):
        def __init__(self):
            super().__init__()
            setattr(self, attr, [])
            getattr(self, attr).append(layers.Dense(2))  # after the assignment

        def call(self, x):
            return getattr(self, attr)[0](x)

    heads = Heads()
    heads(np.ones((1, 3), "float32"))
    assert [w.name for w in heads.weights] == ["kernel", "bias"]
