"""The noise layers (NumPy only): identity out of training, seeded draws, drop rate and scaling
within statistical bounds, and argument errors that change nothing."""

import numpy as np
import pytest

from reference import layers

N = 200_000  # draws per statistical test: the bounds below are >= 5 standard errors

NOISE_LAYERS = [
    (layers.Dropout, dict(rate=0.3), (400, 500)),
    (layers.SpatialDropout1D, dict(rate=0.3), (40, 5, 500)),
    (layers.SpatialDropout2D, dict(rate=0.3), (40, 2, 2, 500)),
    (layers.SpatialDropout3D, dict(rate=0.3, data_format="channels_first"), (40, 500, 1, 2, 2)),
    (layers.GaussianNoise, dict(stddev=0.3), (400, 500)),
    (layers.GaussianDropout, dict(rate=0.3), (400, 500)),
    (layers.AlphaDropout, dict(rate=0.3), (400, 500)),
]
IDS = [c[0].__name__ + str(c[1].get("data_format", "")) for c in NOISE_LAYERS]


@pytest.mark.parametrize("cls,config,shape", NOISE_LAYERS, ids=IDS)
@pytest.mark.parametrize("training", [False, None])
def test_identity_out_of_training(cls, config, shape, training):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    np.testing.assert_array_equal(cls(**config)(x, training=training), x)


@pytest.mark.parametrize("cls,config,shape", NOISE_LAYERS, ids=IDS)
def test_same_seed_same_draws_and_each_call_draws_anew(cls, config, shape):
    x = np.ones(shape, "float32")
    a, b = cls(**config, seed=7), cls(**config, seed=7)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    assert not np.array_equal(first, a(x, training=True))
    assert not np.array_equal(first, cls(**config, seed=8)(x, training=True))


DROPOUTS = [c for c in NOISE_LAYERS if "rate" in c[1] and c[0] is not layers.GaussianDropout]


@pytest.mark.parametrize("cls,config,shape", DROPOUTS[:4], ids=IDS[:4])
def test_dropout_rate_and_scaling(cls, config, shape):
    """Dropped fraction ~ rate (one draw per noise element), kept values exactly x / (1 - rate),
    and whole feature maps dropped together for the spatial variants."""
    rate = config["rate"]
    x = np.random.default_rng(1).uniform(1.0, 2.0, shape).astype("float32")
    y = cls(**config, seed=3)(x, training=True)
    dropped = y == 0
    kept = ~dropped
    np.testing.assert_allclose(y[kept], x[kept] * np.float32(1 / (1 - rate)), rtol=1e-7)
    channel_axis = 1 if config.get("data_format") == "channels_first" else -1
    spatial = tuple(i for i in range(1, len(shape)) if i != channel_axis % len(shape))
    if cls is not layers.Dropout:  # a whole feature map shares one decision
        assert np.all(dropped.all(axis=spatial) | kept.all(axis=spatial))
        dropped = dropped.all(axis=spatial)
    n = dropped.size
    assert abs(dropped.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)


def test_dropout_noise_shape_shares_decisions_and_rate_one_gives_zeros():
    x = np.ones((50, 3, 40), "float32")
    y = layers.Dropout(0.5, noise_shape=(None, 1, None), seed=0)(x, training=True)
    assert np.all(y == y[:, :1, :])
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True), 0.0)


@pytest.mark.parametrize(
    "cls,config,mean,var",
    [
        (layers.GaussianNoise, dict(stddev=0.3), 0.0, 1.0 + 0.09),  # x ~ N(0, 1) plus noise
        (layers.GaussianDropout, dict(rate=0.3), 0.0, 1.0 / 0.7),  # E[x^2] E[n^2], n ~ N(1, 3/7)
        (layers.AlphaDropout, dict(rate=0.3), 0.0, 1.0),  # SELU's fixed point is kept
    ],
)
def test_noise_mean_and_variance(cls, config, mean, var):
    x = np.random.default_rng(4).standard_normal(N)
    y = cls(**config, seed=5, dtype="float64")(x, training=True)
    assert abs(y.mean() - mean) < 6 * np.sqrt(var / N)
    assert abs(y.var() / var - 1) < 6 * np.sqrt(2 / N) * 3  # kurtosis allowance


@pytest.mark.parametrize(
    "cls,config,match",
    [
        (layers.Dropout, dict(rate=-0.1), "rate"),
        (layers.Dropout, dict(rate=1.5), "rate"),
        (layers.Dropout, dict(rate="0.5"), "rate"),
        (layers.Dropout, dict(rate=0.5, noise_shape=(None, 0)), "noise_shape"),
        (layers.Dropout, dict(rate=0.5, noise_shape="x"), "noise_shape"),
        (layers.Dropout, dict(rate=0.5, seed=1.5), "seed"),
        (layers.SpatialDropout2D, dict(rate=0.5, data_format="nhwc"), "data_format"),
        (layers.GaussianNoise, dict(stddev=2.0), "stddev"),
        (layers.GaussianDropout, dict(rate=1.0), r"\[0, 1\)"),
        (layers.AlphaDropout, dict(rate=1.0), r"\[0, 1\)"),
    ],
)
def test_bad_arguments(cls, config, match):
    with pytest.raises(ValueError, match=match):
        cls(**config)


def test_a_wrong_rank_changes_nothing():
    layer = layers.SpatialDropout1D(0.5, seed=0)
    with pytest.raises(ValueError, match="ndim"):
        layer(np.ones((2, 3)), training=True)
    assert layer._stream.count == 0  # no draw was consumed
