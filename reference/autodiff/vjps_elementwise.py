"""VJP rules of elementwise functions: NumPy ufuncs and the scipy.special functions the
activations use.

Kinks follow TensorFlow (docs/keras-facts.md#fact-7). Functions TF lacks follow the math, with the
convention named beside the rule. Complex values are refused by the tape before any rule runs
(the reference differentiates real functions only), so no rule here carries a complex
convention: |x|' is sign(x) for real x and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.special as sp
import scipy.special._ufuncs as spu

from .tracked import NONDIFFERENTIABLE
from .vjps import defvjp, zeros_for


def _unary(fn: Callable) -> Callable:
    return lambda g, ans, x, *args, **kwargs: fn(g, ans, x)


def _binary(da: Callable, db: Callable) -> tuple[Callable, Callable]:
    return (lambda g, ans, a, b, *args, **k: da(g, ans, a, b)), (
        lambda g, ans, a, b, *args, **k: db(g, ans, a, b)
    )


def _power_base(g, ans, a, b, *args, **kwargs):
    return g * b * np.power(a, b - 1)


def _power_exponent(g, ans, a, b, *args, **kwargs):
    # TF's rule: zero where the base is not positive (log undefined there).
    positive = a > 0
    return np.where(positive, g * ans * np.log(np.where(positive, a, 1)), 0.0)


def _sinc(g, ans, x):
    # sinc(x) = sin(pi x) / (pi x); sinc'(x) = (cos(pi x) - sinc(x)) / x, which cancels badly
    # near 0 (relative error eps / x^2): there its Taylor series, exact to rounding for
    # |x| < 1e-2, and smooth through 0, so that higher derivatives are right there too.
    small = np.abs(x) < 1e-2
    safe = np.where(small, 1.0, x)
    x2 = x * x
    series = x * (_SINC[0] + x2 * (_SINC[1] + x2 * (_SINC[2] + x2 * _SINC[3])))
    return g * np.where(small, series, (np.cos(np.pi * x) - ans) / safe)


_SINC = (-(np.pi**2) / 3, np.pi**4 / 30, -(np.pi**6) / 840, np.pi**8 / 45360)


def _nan_to_num(g, ans, x, *args, **kwargs):
    # Finite entries pass through; NaN and +-inf are replaced by constants (derivative 0).
    return np.where(np.isfinite(x), g, 0.0)


def _fmax_first(g, ans, a, b):
    # fmax ignores NaN: a is taken where a >= b (ties to the first, as np.maximum) or b is NaN.
    return np.where((a >= b) | np.isnan(b), g, 0.0)


def _fmin_first(g, ans, a, b):
    return np.where((a <= b) | np.isnan(b), g, 0.0)


_SQRT_PI = float(np.sqrt(np.pi))
_LN2 = float(np.log(2.0))

# -- arithmetic --------------------------------------------------------------------------------
defvjp(np.add, *_binary(lambda g, ans, a, b: g, lambda g, ans, a, b: g))
defvjp(np.subtract, *_binary(lambda g, ans, a, b: g, lambda g, ans, a, b: -g))
defvjp(np.multiply, *_binary(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a))
defvjp(np.divide, *_binary(lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b))
defvjp(np.negative, _unary(lambda g, ans, x: -g))
defvjp(np.positive, _unary(lambda g, ans, x: g))
defvjp(np.power, _power_base, _power_exponent)
defvjp(np.float_power, _power_base, _power_exponent)
defvjp(np.square, _unary(lambda g, ans, x: 2 * x * g))
# Sqrt and reciprocal: 0 where g is 0, even where the derivative is infinite (TF's SqrtGrad and
# InvGrad test dy == 0 first), so a branch masked by np.where gets no NaN.
defvjp(np.sqrt, _unary(lambda g, ans, x: np.where(g == 0, 0.0, g * 0.5 / ans)))
defvjp(np.cbrt, _unary(lambda g, ans, x: g / (3 * ans * ans)))
defvjp(np.reciprocal, _unary(lambda g, ans, x: np.where(g == 0, 0.0, -g * ans * ans)))
# remainder = np.mod is TF's FloorMod: d/da = 1, d/db = -floor(a / b).
defvjp(np.remainder, *_binary(lambda g, ans, a, b: g, lambda g, ans, a, b: -g * np.floor(a / b)))
# fmod truncates (TF's TruncateMod has no gradient; the math): d/db = -trunc(a / b).
defvjp(np.fmod, *_binary(lambda g, ans, a, b: g, lambda g, ans, a, b: -g * np.trunc(a / b)))
# ldexp(x, n) = x * 2**n with an integer n.
defvjp(np.ldexp, lambda g, ans, x, n, *a, **k: np.ldexp(g, n))

# -- exponentials and logarithms ---------------------------------------------------------------
defvjp(np.exp, _unary(lambda g, ans, x: g * ans))
defvjp(np.exp2, _unary(lambda g, ans, x: g * ans * _LN2))
# g * exp(x), as TF's Expm1Grad: ans + 1 would lose the digits of exp(x) where expm1(x) ~ -1.
defvjp(np.expm1, _unary(lambda g, ans, x: g * np.exp(x)))
defvjp(np.log, _unary(lambda g, ans, x: g / x))
defvjp(np.log2, _unary(lambda g, ans, x: g / (x * _LN2)))
defvjp(np.log10, _unary(lambda g, ans, x: g / (x * np.log(10.0))))
defvjp(np.log1p, _unary(lambda g, ans, x: g / (1 + x)))
defvjp(
    np.logaddexp,
    *_binary(lambda g, ans, a, b: g * np.exp(a - ans), lambda g, ans, a, b: g * np.exp(b - ans)),
)
defvjp(
    np.logaddexp2,
    *_binary(lambda g, ans, a, b: g * np.exp2(a - ans), lambda g, ans, a, b: g * np.exp2(b - ans)),
)

# -- trigonometric and hyperbolic --------------------------------------------------------------
defvjp(np.sin, _unary(lambda g, ans, x: g * np.cos(x)))
defvjp(np.cos, _unary(lambda g, ans, x: -g * np.sin(x)))
defvjp(np.tan, _unary(lambda g, ans, x: g * (1 + ans * ans)))
defvjp(np.arcsin, _unary(lambda g, ans, x: g / np.sqrt(1 - x * x)))
defvjp(np.arccos, _unary(lambda g, ans, x: -g / np.sqrt(1 - x * x)))
defvjp(np.arctan, _unary(lambda g, ans, x: g / (1 + x * x)))
# atan2(y, x): TF's Atan2Grad, g * x / (x^2 + y^2) and -g * y / (x^2 + y^2) (NaN at the origin).
defvjp(
    np.arctan2,
    *_binary(
        lambda g, ans, y, x: g * x / (x * x + y * y), lambda g, ans, y, x: -g * y / (x * x + y * y)
    ),
)
defvjp(np.hypot, *_binary(lambda g, ans, a, b: g * a / ans, lambda g, ans, a, b: g * b / ans))
defvjp(np.sinh, _unary(lambda g, ans, x: g * np.cosh(x)))
defvjp(np.cosh, _unary(lambda g, ans, x: g * np.sinh(x)))
defvjp(np.tanh, _unary(lambda g, ans, x: g * (1 - ans * ans)))
defvjp(np.arcsinh, _unary(lambda g, ans, x: g / np.sqrt(x * x + 1)))
defvjp(np.arccosh, _unary(lambda g, ans, x: g / np.sqrt(x * x - 1)))
defvjp(np.arctanh, _unary(lambda g, ans, x: g / (1 - x * x)))
defvjp(np.sinc, _unary(_sinc))
for _f in (np.deg2rad, np.radians):
    defvjp(_f, _unary(lambda g, ans, x: g * (np.pi / 180)))
for _f in (np.rad2deg, np.degrees):
    defvjp(_f, _unary(lambda g, ans, x: g * (180 / np.pi)))

# -- sign-like and selection -------------------------------------------------------------------
defvjp(np.absolute, _unary(lambda g, ans, x: g * np.sign(x)))
defvjp(np.fabs, _unary(lambda g, ans, x: g * np.sign(x)))
# copysign(a, b) = |a| with b's sign bit: d/da = sign(a) * (+-1 from b's sign bit), 0 at a = 0
# (as |a|' in TF); d/db = 0 almost everywhere.
defvjp(
    np.copysign,
    *_binary(
        lambda g, ans, a, b: g * np.sign(a) * np.copysign(1.0, b),
        lambda g, ans, a, b: zeros_for(g),
    ),
)
# select, not multiply by a mask: an infinite upstream gradient must give 0, not NaN, off-branch
defvjp(
    np.maximum,
    *_binary(
        lambda g, ans, a, b: np.where(a >= b, g, 0.0), lambda g, ans, a, b: np.where(a < b, g, 0.0)
    ),
)
defvjp(
    np.minimum,
    *_binary(
        lambda g, ans, a, b: np.where(a <= b, g, 0.0), lambda g, ans, a, b: np.where(a > b, g, 0.0)
    ),
)
defvjp(
    np.fmax,
    *_binary(_fmax_first, lambda g, ans, a, b: np.where(_fmax_first(1.0, ans, a, b) > 0, 0.0, g)),
)
defvjp(
    np.fmin,
    *_binary(_fmin_first, lambda g, ans, a, b: np.where(_fmin_first(1.0, ans, a, b) > 0, 0.0, g)),
)
defvjp(np.nan_to_num, _nan_to_num)
# modf returns (fractional part, integral part): the fraction has slope 1, the integer part 0.
defvjp(np.modf, _unary(lambda g, ans, x: g[0]))
# frexp returns (mantissa, integer exponent e) with x = mantissa * 2**e: d mantissa/dx = 2**-e.
defvjp(np.frexp, _unary(lambda g, ans, x: np.ldexp(g[0], -ans[1])))

# -- scipy.special (what reference/activations.py uses) ----------------------------------------
defvjp(sp.erf, _unary(lambda g, ans, x: g * (2 / _SQRT_PI) * np.exp(-x * x)))
defvjp(sp.erfc, _unary(lambda g, ans, x: -g * (2 / _SQRT_PI) * np.exp(-x * x)))
defvjp(sp.expit, _unary(lambda g, ans, x: g * ans * (1 - ans)))
defvjp(sp.log_expit, _unary(lambda g, ans, x: g * sp.expit(-x)))

# More of scipy.special, with TF's rules where TF has the function (lgamma, digamma, zeta,
# erfinv, ndtri, xlogy). Hurwitz zeta(s, q) is the private ufunc behind sp.zeta, so that
# digamma's derivative, zeta(2, x), can be recorded again.
_zeta = spu._zeta
_SQRT_2PI = float(np.sqrt(2 * np.pi))
defvjp(sp.gammaln, _unary(lambda g, ans, x: g * sp.digamma(x)))
defvjp(sp.digamma, _unary(lambda g, ans, x: g * _zeta(2.0, x)))
defvjp(_zeta, None, lambda g, ans, s, q, *a, **k: -g * s * _zeta(s + 1.0, q))
defvjp(sp.gamma, _unary(lambda g, ans, x: g * ans * sp.digamma(x)))
defvjp(sp.erfinv, _unary(lambda g, ans, x: g * (_SQRT_PI / 2) * np.exp(ans * ans)))
defvjp(sp.erfcinv, _unary(lambda g, ans, x: -g * (_SQRT_PI / 2) * np.exp(ans * ans)))
defvjp(sp.erfcx, _unary(lambda g, ans, x: g * (2 * x * ans - 2 / _SQRT_PI)))
defvjp(sp.ndtr, _unary(lambda g, ans, x: g * np.exp(-0.5 * x * x) / _SQRT_2PI))
defvjp(sp.ndtri, _unary(lambda g, ans, x: g * _SQRT_2PI * np.exp(0.5 * ans * ans)))
defvjp(sp.log_ndtr, _unary(lambda g, ans, x: g * np.exp(-0.5 * x * x - ans) / _SQRT_2PI))
defvjp(sp.logit, _unary(lambda g, ans, x: g / (x * (1 - x))))
defvjp(sp.entr, _unary(lambda g, ans, x: -g * (np.log(x) + 1)))
# xlogy(x, y) = x log y, 0 where x = 0 (TF XlogyGrad: both gradients 0 there).
defvjp(
    sp.xlogy,
    *_binary(
        lambda g, ans, x, y: np.where(x == 0, 0.0, g * np.log(np.where(x == 0, 1.0, y))),
        lambda g, ans, x, y: np.where(x == 0, 0.0, g * x / np.where(x == 0, 1.0, y)),
    ),
)
defvjp(
    sp.xlog1py,
    *_binary(
        lambda g, ans, x, y: np.where(x == 0, 0.0, g * np.log1p(np.where(x == 0, 0.0, y))),
        lambda g, ans, x, y: np.where(x == 0, 0.0, g * x / (1 + np.where(x == 0, 0.0, y))),
    ),
)
# Real arrays only reach these (complex values are refused): identity and zero.
defvjp(np.conjugate, _unary(lambda g, ans, x: g))
defvjp(np.real, _unary(lambda g, ans, x: g))
defvjp(np.imag, _unary(lambda g, ans, x: zeros_for(g)))

# -- functions whose derivative is zero wherever it exists (TF returns no gradient for them) --
NONDIFFERENTIABLE.update(
    {np.floor, np.ceil, np.rint, np.trunc, np.round, np.around, np.fix, np.zeros_like,
     np.ones_like, np.empty_like, np.full_like, np.heaviside, np.floor_divide, np.signbit,
     np.spacing, np.nextafter}
)  # fmt: skip
# TF's SignGrad returns zeros (not None): the value is connected, its derivative is 0.
defvjp(np.sign, _unary(lambda g, ans, x: zeros_for(g)))
NONDIFFERENTIABLE.discard(np.copysign)  # it has a real derivative (above): |a| times a sign
