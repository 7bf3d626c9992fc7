"""Parity of the issue-9 layers whose inputs the case table cannot describe: merging layers
(lists of inputs, broadcasting), Embedding (integer inputs, repeated indices, masks), the noise
layers in training (the reference's own draw handed to the TF twin), Softmax with fully masked
rows. Each row runs against the TF twin and, where the randomness allows, stock Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import reference
import tf_layers
from parity_tests.harness import assert_parity, floatx

DTYPES = ("float64", "float32")


def _pair(name, config, dtype, oracle):
    with floatx(dtype):
        ours = getattr(reference.layers, name)(**config, dtype=dtype)
        theirs = getattr(tf_layers if oracle == "twin" else keras.layers, name)(
            **config, dtype=dtype
        )
    return ours, theirs


def _check(name, config, inputs, dtype, oracle, **kwargs):
    ours, theirs = _pair(name, config, dtype, oracle)
    pair64 = None if dtype == "float64" else _pair(name, config, "float64", oracle)
    report = assert_parity(ours, theirs, inputs, float64_layers=pair64, **kwargs)
    assert report.ok and report.rows


def _normal(rng, dtype, *shapes):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


MERGES = [
    ("Add", dict(), [(2, 3, 4)] * 3),
    ("Add", dict(), [(2, 3, 4), (2, 1, 4)]),  # broadcasting along axis 1
    ("Add", dict(), [(2, 3, 4), (2, 4)]),  # rank alignment: (2, 4) -> (2, 1, 4)
    ("Subtract", dict(), [(3, 5), (3, 1)]),
    ("Multiply", dict(), [(2, 3, 4), (2, 3, 1), (2, 1, 4)]),
    ("Average", dict(), [(4, 3), (4, 3), (4, 1)]),
    ("Maximum", dict(), [(3, 4), (3, 4), (3, 1)]),
    ("Minimum", dict(), [(3, 4), (3, 4)]),
    ("Concatenate", dict(), [(2, 3), (2, 1), (2, 4)]),
    ("Concatenate", dict(axis=1), [(2, 3, 4), (2, 2, 4)]),
    ("Dot", dict(axes=1), [(4, 5), (4, 5)]),
    ("Dot", dict(axes=(2, 2)), [(2, 3, 4), (2, 5, 4)]),
    ("Dot", dict(axes=(1, 2), normalize=True), [(3, 4), (3, 5, 4)]),
    ("Dot", dict(axes=-1, normalize=True), [(2, 3, 4), (2, 6, 4)]),
]


@pytest.mark.parametrize("oracle", ["twin", "keras"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,config,shapes", MERGES, ids=[f"{m[0]}{m[1]}{m[2]}" for m in MERGES])
def test_merging_layers(name, config, shapes, dtype, oracle):
    _check(name, config, _normal(np.random.default_rng(0), dtype, *shapes), dtype, oracle)


@pytest.mark.parametrize("oracle", ["twin", "keras"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "indices",
    [
        np.array([[1, 1, 1, 4], [0, 4, 4, 2]]),  # repeated indices: scatter-add of their rows
        np.array([3, 3, 3, 3, 3]),  # one row, five times
        np.array([[[0, 2], [2, 0]], [[1, 1], [5, 5]]], dtype=np.int32),
    ],
    ids=["repeated", "one-row", "rank3-int32"],
)
def test_embedding_gradient_is_a_scatter_add(indices, dtype, oracle):
    _check("Embedding", dict(input_dim=6, output_dim=3), indices, dtype, oracle)


def test_embedding_mask_zero_matches_keras():
    x = np.array([[3, 0, 2, 0], [0, 0, 0, 0]])  # the second row fully masked
    ours = reference.layers.Embedding(5, 2, mask_zero=True)
    theirs = keras.layers.Embedding(5, 2, mask_zero=True)
    np.testing.assert_array_equal(ours.compute_mask(x), theirs(x)._keras_mask.numpy())
    assert ours.supports_masking and theirs.supports_masking
    assert not reference.layers.Embedding(5, 2).supports_masking


SOFTMAX_MASKS = [
    ((3, 4), np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]], bool)),  # row 1 fully masked
    ((2, 3, 4), np.array([[[1, 0, 1, 1]], [[0, 0, 0, 0]]], bool)),  # broadcast, one row masked
    ((2, 3), np.array([[0.9, 0.1, 0.7], [0.2, 0.3, 0.4]])),  # float mask: > 0.5
]


@pytest.mark.parametrize("oracle", ["twin", "keras"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,mask", SOFTMAX_MASKS, ids=["rows", "broadcast", "float-mask"])
def test_softmax_with_fully_masked_rows(shape, mask, dtype, oracle):
    x = _normal(np.random.default_rng(1), dtype, shape)[0]
    _check("Softmax", dict(), x, dtype, oracle, call_kwargs=dict(mask=mask))


def test_softmax_fully_masked_row_is_zero_with_zero_gradient():
    x = np.random.default_rng(2).standard_normal((2, 3))
    mask = np.array([[True, True, False], [False, False, False]])
    layer = reference.layers.Softmax(dtype="float64")
    with reference.GradientTape() as tape:
        tx = tape.watch(x)
        y = layer(tx, mask=mask)
    dx = tape.gradient(y, tx, output_gradients=np.ones_like(x) + x)
    np.testing.assert_array_equal(y.numpy()[1], 0.0)
    np.testing.assert_array_equal(dx[1], 0.0)
    np.testing.assert_allclose(y.numpy()[0], [*np.exp(x[0, :2]) / np.exp(x[0, :2]).sum(), 0])


def _with_noise(twin_cls, noise):
    """The TF twin with its random draw fixed to `noise` (the reference layer's own draw)."""

    class Fixed(twin_cls):
        def call(self, inputs, training=False):
            return super().call(inputs, training=training, noise=noise)

    Fixed.__name__ = twin_cls.__name__
    return Fixed


NOISE = [
    ("Dropout", dict(rate=0.4), (6, 5)),
    ("Dropout", dict(rate=0.3, noise_shape=(None, 1, 4)), (3, 2, 4)),
    ("SpatialDropout1D", dict(rate=0.5), (3, 4, 5)),
    ("SpatialDropout2D", dict(rate=0.5, data_format="channels_first"), (2, 3, 2, 2)),
    ("SpatialDropout3D", dict(rate=0.25), (2, 2, 2, 2, 3)),
    ("GaussianNoise", dict(stddev=0.3), (4, 5)),
    ("GaussianDropout", dict(rate=0.3), (4, 5)),
    ("AlphaDropout", dict(rate=0.2), (5, 4)),
]


@pytest.mark.parametrize("name,config,shape", NOISE, ids=[f"{n[0]}{n[1]}" for n in NOISE])
def test_noise_layers_in_training_with_the_same_draw(name, config, shape):
    """float64, through the harness: the twin gets the reference's own draw (a fixed draw, so
    the harness's sensitivity rerun of the oracle sees the same noise)."""
    seed = 1234
    ours = getattr(reference.layers, name)(**config, seed=seed, dtype="float64")
    probe = getattr(reference.layers, name)(**config, seed=seed, dtype="float64")  # same stream
    noise = probe.noise(shape, "float64" if name != "AlphaDropout" else "float32")
    theirs = _with_noise(getattr(tf_layers, name), noise)(**config, seed=seed, dtype="float64")
    x = _normal(np.random.default_rng(3), "float64", shape)[0]
    report = assert_parity(ours, theirs, x, training=True)
    assert report.ok and report.rows


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,config,shape", NOISE, ids=[f"{n[0]}{n[1]}" for n in NOISE])
def test_noise_layers_draw_keras_bits(name, config, shape, dtype):
    """Same seed, same calls: the reference's noise is stock Keras's (reference.random), so
    outputs and input gradients agree exactly for the uniform-based layers and within TF's
    libm ulps for the Gaussian ones, over two consecutive calls (the generator advances)."""
    import tensorflow as tf

    ours = getattr(reference.layers, name)(**config, seed=99, dtype=dtype)
    theirs = getattr(keras.layers, name)(**config, seed=99, dtype=dtype)
    rng = np.random.default_rng(4)
    rtol = 0.0 if "Gaussian" not in name else 8 * np.finfo(dtype).eps  # libm: a few ulp
    for _ in range(2):
        x, dy = _normal(rng, dtype, shape, shape)
        with reference.GradientTape() as tape:
            tx = tape.watch(x)
            y = ours(tx, training=True)
        dx = tape.gradient(y, tx, output_gradients=dy)
        tx_tf = tf.constant(x)
        with tf.GradientTape() as tf_tape:
            tf_tape.watch(tx_tf)
            y_tf = theirs(tx_tf, training=True)
        dx_tf = tf_tape.gradient(y_tf, tx_tf, output_gradients=tf.constant(dy))
        np.testing.assert_allclose(y.numpy(), y_tf.numpy(), rtol=rtol, atol=0)
        np.testing.assert_allclose(dx, dx_tf.numpy(), rtol=rtol, atol=0)


def test_batch_norm_with_a_fully_masked_feature():
    """axis=1 with a (batch, features) mask: feature 1 is masked everywhere, so its batch
    moments are 0 / (0 + 1e-7) = 0 and 0 (Keras's formula), on both sides."""
    x = np.random.default_rng(5).standard_normal((4, 3, 5))
    mask = np.ones((4, 3), bool)
    mask[:, 1] = False
    mask[0, 2] = False
    for oracle in ("twin", "keras"):
        _check("BatchNormalization", dict(axis=1), x, "float64", oracle, training=True,
               call_kwargs=dict(mask=mask))  # fmt: skip


def test_embedding_mask_propagates_as_in_keras():
    """Embedding(mask_zero) -> Dropout -> BatchNormalization(training): the mask reaches BN's
    `mask` argument by itself (Keras's __call__ step 6), and both chains agree."""
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 4, 2, 0]])
    table = np.random.default_rng(6).standard_normal((5, 3))
    outs = []
    for lib in (reference.layers, keras.layers):
        emb = lib.Embedding(5, 3, mask_zero=True, dtype="float64")
        emb.build()
        emb.set_weights([table])
        h = lib.Dropout(0.5, dtype="float64")(emb(x))
        y = lib.BatchNormalization(dtype="float64")(h, training=True)
        mask = getattr(y, "_keras_mask", None)
        outs.append((np.asarray(y), None if mask is None else np.asarray(mask)))
    (ours, our_mask), (theirs, their_mask) = outs
    np.testing.assert_array_equal(our_mask, their_mask)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("oracle", ["twin", "keras"])
def test_masking_layer_with_masked_timesteps(oracle):
    x = np.random.default_rng(7).standard_normal((3, 4, 2))
    x[0, 1] = x[2, :] = 0.0  # one masked step, one fully masked sequence
    _check("Masking", dict(), x, "float64", oracle)
    theirs = (tf_layers if oracle == "twin" else keras.layers).Masking()(x)
    from reference.layers.core.masking import get_keras_mask

    ours = get_keras_mask(reference.layers.Masking()(x))
    np.testing.assert_array_equal(ours, theirs._keras_mask.numpy())
    assert not ours[2].any() and ours[0].tolist() == [True, False, True, True]


CONFIGS = [
    ("LayerNormalization", dict()),
    ("LayerNormalization", dict(axis=[1, 2], epsilon=1e-5, center=False)),
    ("RMSNormalization", dict()),
    ("GroupNormalization", dict(groups=2)),
    ("UnitNormalization", dict(axis=[1])),
    ("Dropout", dict(rate=0.2, noise_shape=(None, 1), seed=3)),
    ("SpatialDropout1D", dict(rate=0.2)),
    ("SpatialDropout2D", dict(rate=0.2, data_format="channels_first")),
    ("SpatialDropout3D", dict(rate=0.2)),
    ("GaussianNoise", dict(stddev=0.1)),
    ("GaussianDropout", dict(rate=0.1)),
    ("AlphaDropout", dict(rate=0.1)),
    ("Embedding", dict(input_dim=4, output_dim=2, mask_zero=True)),
    ("Masking", dict(mask_value=-1.0)),
    ("ReLU", dict(max_value=2.0)),
    ("LeakyReLU", dict()),
    ("PReLU", dict(shared_axes=[1])),
    ("ELU", dict()),
    ("Softmax", dict(axis=1)),
    ("Add", dict()),
    ("Concatenate", dict(axis=1)),
    ("Dot", dict(axes=(1, 2), normalize=True)),
    ("Flatten", dict()),
    ("Reshape", dict(target_shape=(2, -1))),
    ("Permute", dict(dims=(2, 1))),
    ("RepeatVector", dict(n=2)),
]


@pytest.mark.parametrize("name,config", CONFIGS, ids=[f"{c[0]}{c[1]}" for c in CONFIGS])
def test_constructor_defaults_and_config_match_keras(name, config):
    """Same arguments and defaults: get_config agrees with Keras's key for key (the name and
    the dtype policy's serialization aside)."""
    ours = getattr(reference.layers, name)(**config).get_config()
    theirs = getattr(keras.layers, name)(**config).get_config()
    for c in (ours, theirs):
        c.pop("name"), c.pop("dtype", None)
    assert ours == theirs


@pytest.mark.parametrize("tail", ["Dense", "Activation", "Dense+tape"])
def test_dense_and_activation_pass_masks_through_as_keras(tail):
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    masks = []
    for lib in (keras, reference):
        embed = lib.layers.Embedding(5, 3, mask_zero=True)
        last = lib.layers.Activation("relu") if tail == "Activation" else lib.layers.Dense(2)
        if tail == "Dense+tape" and lib is reference:
            with reference.GradientTape():
                y = last(embed(x))
        else:
            y = last(embed(x))
        masks.append(np.asarray(getattr(y, "_keras_mask", None)))
    np.testing.assert_array_equal(masks[1], masks[0])
    np.testing.assert_array_equal(masks[0], x != 0)
