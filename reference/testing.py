"""Gradient checking for NumPy code: central finite differences and the VJP dot-product test.

The one finite-difference utility of the project (like `autograd.test_util`): VJP rules,
hand-written layer VJPs and the parity harness all check gradients with it. NumPy only.

Everything runs in float64 (primals are cast up exactly). A finite difference comes with a
bound on its own error, so no tolerance is ever tuned by hand:

    D(h)  = (phi(h) - phi(-h)) / (2h)                  central difference of phi at 0
    error = |D(h) - D(2h)| + 2 * delta / h             truncation + rounding

`|D(h) - D(2h)|` is three times Richardson's estimate of D(h)'s truncation error
(D(h) = phi' + h^2 phi'''/6 + O(h^4), so D(2h) - D(h) ~ h^2 phi''' / 2): curvature sets it.
`delta = ROUNDING_ULPS * eps64 * sum|dy * f(x)|` bounds the rounding error of one evaluation of
phi = <dy, f(x + t v)> (the function's own rounding, up to ROUNDING_ULPS ulps of each term);
the difference of two such errors over 2h is at most delta / h, doubled for safety. The step
is h = cbrt(eps64) * max(1, max|x|) / max|v|, the order of step that balances the two. When
the bound exceeds RELIABLE (1e-4) of the size of the derivative's terms -- a kink or jump within
2h of x, or a function too noisy to difference -- the check refuses to judge
(FiniteDifferenceError) instead of passing anything.

Use: `check_vjp(f, [x, w], [gx, gw], dy)` checks given gradients of <dy, f(x, w)>;
`check_grads(f, x, w)` checks reference.GradientTape's; `numerical_vjp(f, [x, w], dy)` returns
elementwise gradients with elementwise error bounds (the parity harness's finite differences).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import nest

EPS64 = float(np.finfo(np.float64).eps)
ROUNDING_ULPS = 64.0  # rounding of one evaluation of f, in ulps of each output term
RELIABLE = 1e-4  # largest error bound, relative to the terms' size, that still judges

__all__ = [
    "EPS64",
    "FiniteDifference",
    "FiniteDifferenceError",
    "VJPCheck",
    "VJPCheckError",
    "check_grads",
    "check_vjp",
    "directional_derivative",
    "numerical_vjp",
]


class VJPCheckError(AssertionError):
    """A gradient disagrees with finite differences by more than their error bound."""


class FiniteDifferenceError(ValueError):
    """Finite differences cannot judge here (kink, jump or noise within the step)."""


@dataclasses.dataclass
class FiniteDifference:
    """A central difference and the bound on its error (same shape as `value`)."""

    value: Any
    error: Any
    scale: Any  # size of the terms summed in the derivative: sum |dy * d f / dt|
    step: Any


@dataclasses.dataclass
class VJPCheck:
    """Result of check_vjp: <dy, J v> by differences (lhs) vs <J^T dy, v> (rhs)."""

    lhs: float
    rhs: float
    tolerance: float
    step: float

    @property
    def error(self) -> float:
        return abs(self.lhs - self.rhs)


def _float64(x) -> np.ndarray:
    return np.array(x, dtype=np.float64)  # exact for every float dtype NumPy has below float64


def directional_derivative(
    fun: Callable, primals: Sequence, tangents: Sequence, dy: Any, *, step: float | None = None
) -> FiniteDifference:
    """d/dt <dy, fun(*(x + t v))> at t = 0, by central differences in float64, with its error.

    Computes: D(h) = (phi(h) - phi(-h)) / 2h, phi(t) = <dy, fun(*(x_i + t v_i))>.
    `step` defaults to cbrt(eps64) * max(1, max|x|) / max|v|; the error bound is in the module
    docstring.
    """
    xs = [_float64(x) for x in primals]
    vs = [_float64(v) for v in tangents]
    dys = [_float64(d) for d in nest.flatten(dy)]
    if len(xs) != len(vs) or any(x.shape != v.shape for x, v in zip(xs, vs, strict=False)):
        raise ValueError(
            "reference.testing.directional_derivative: one tangent per primal, of its shape. "
            f"Received primal shapes {[x.shape for x in xs]}, tangent shapes "
            f"{[v.shape for v in vs]}."
        )
    vmax = max((float(np.max(np.abs(v))) for v in vs if v.size), default=0.0)
    if vmax == 0.0:
        return FiniteDifference(0.0, 0.0, 0.0, 0.0)
    if step is None:
        xmax = max((float(np.max(np.abs(x))) for x in xs if x.size), default=0.0)
        step = np.cbrt(EPS64) * max(1.0, xmax) / vmax

    def at(t) -> list[np.ndarray]:
        out = fun(*[x + t * v for x, v in zip(xs, vs, strict=True)])
        leaves = [np.asarray(o, dtype=np.float64) for o in nest.flatten(out)]
        if len(leaves) != len(dys):
            raise ValueError(
                f"reference.testing: the function returned {len(leaves)} arrays but the "
                f"cotangent dy has {len(dys)}; pass one dy per output."
            )
        return leaves

    def pair(a, b) -> float:  # <dy, a - b>, differencing elementwise first
        return sum(float(np.sum(d * (p - q))) for d, p, q in zip(dys, a, b, strict=True))

    def size(a) -> float:  # sum |dy * a|
        return sum(float(np.sum(np.abs(d * o))) for d, o in zip(dys, a, strict=True))

    f0, p1, m1, p2, m2 = (at(t) for t in (0.0, step, -step, 2 * step, -2 * step))
    d1 = pair(p1, m1) / (2 * step)
    d2 = pair(p2, m2) / (4 * step)
    delta = ROUNDING_ULPS * EPS64 * max(size(f0), size(p1), size(m1))
    error = abs(d1 - d2) + 2 * delta / step
    # Size of the derivative's terms: sum_i |dy_i| |f_i(h) - f_i(-h)| / 2h.
    scale = size([a - b for a, b in zip(p1, m1, strict=True)]) / (2 * step)
    return FiniteDifference(d1, error, scale, step)


def numerical_vjp(fun: Callable, primals: Sequence, dy: Any) -> list[FiniteDifference]:
    """The gradient of <dy, fun(*primals)> w.r.t. each primal, element by element, with errors.

    Computes: g_i[j] = directional_derivative along the unit vector e_j of primal i (step
    cbrt(eps64) * max(1, max|x|)). Costs 5 evaluations of `fun` per element: for small checks.
    Returns one FiniteDifference per primal whose value, error and scale are arrays.
    """
    xs = [_float64(x) for x in primals]
    results = []
    for i, x in enumerate(xs):
        value, error, scale = np.zeros(x.shape), np.zeros(x.shape), np.zeros(x.shape)
        for j in np.ndindex(x.shape):
            tangents = [np.zeros_like(other) for other in xs]
            tangents[i][j] = 1.0
            fd = directional_derivative(fun, xs, tangents, dy)
            value[j], error[j], scale[j] = fd.value, fd.error, fd.scale
        results.append(FiniteDifference(value, error, scale, None))
    return results


def _grads_by_tape(fun: Callable, primals: list, dy: Any) -> list:
    from .autodiff import GradientTape  # the tape is what most callers check

    with GradientTape() as tape:
        watched = [tape.watch(x) for x in primals]
        out = fun(*watched)
    return tape.gradient(out, watched, output_gradients=dy)


def check_vjp(
    fun: Callable,
    primals: Sequence,
    grads: Sequence | None = None,
    dy: Any = None,
    *,
    seed: int = 0,
) -> VJPCheck:
    """The dot-product test: <dy, J v> by central differences equals <J^T dy, v> (autograd's).

    `fun(*primals)` returns an array or a nested structure of arrays. `grads` are the gradients
    under test, J^T dy, one per primal (None: zero); when omitted they come from
    reference.GradientTape. `dy` defaults to a standard normal draw (never all ones, which
    hides transposition and normalisation bugs); the directions v are standard normal too.
    Computes: lhs = D(h) along v (module docstring), rhs = sum_i <grads_i, v_i>.
    Passes when |lhs - rhs| <= error(D(h)) + ROUNDING_ULPS * eps64 * sum_i <|grads_i|, |v_i|>.
    Raises VJPCheckError when it fails, FiniteDifferenceError when differences cannot judge.
    """
    rng = np.random.default_rng(seed)
    xs = [_float64(x) for x in primals]
    if dy is None:
        out = fun(*xs)
        dy = nest.pack_sequence_as(
            out, [rng.standard_normal(np.shape(o)) for o in nest.flatten(out)]
        )
    if grads is None:
        grads = _grads_by_tape(fun, xs, dy)
    grads = list(grads)
    if len(grads) != len(xs):
        raise ValueError(
            f"reference.testing.check_vjp: expected one gradient per primal ({len(xs)}). "
            f"Received {len(grads)} gradients."
        )
    for i, (x, g) in enumerate(zip(xs, grads, strict=True)):
        if g is not None and np.shape(g) != x.shape:
            raise VJPCheckError(
                f"check_vjp: gradient {i} has shape {np.shape(g)}, its primal has {x.shape}."
            )
    vs = [rng.standard_normal(x.shape) for x in xs]
    fd = directional_derivative(fun, xs, vs, dy)
    terms = [_float64(g) * v for g, v in zip(grads, vs, strict=True) if g is not None]
    rhs = sum(float(np.sum(t)) for t in terms)
    rhs_size = sum(float(np.sum(np.abs(t))) for t in terms)
    tolerance = fd.error + ROUNDING_ULPS * EPS64 * rhs_size
    if fd.error > RELIABLE * max(fd.scale, rhs_size):
        raise FiniteDifferenceError(
            f"check_vjp: finite differences cannot judge this point: their error bound "
            f"{fd.error:.3g} exceeds {RELIABLE:g} of the derivative's terms "
            f"({max(fd.scale, rhs_size):.3g}); a kink or jump lies within 2h = {2 * fd.step:.3g} "
            "of the primals, or the function is too noisy. Move the primals away from it."
        )
    result = VJPCheck(fd.value, rhs, tolerance, fd.step)
    if not result.error <= tolerance:
        raise VJPCheckError(
            f"check_vjp: <dy, J v> by central differences is {fd.value!r} but <J^T dy, v> from "
            f"the gradients is {rhs!r}: they differ by {result.error:.3g}, more than the "
            f"method's error bound {tolerance:.3g} (step {fd.step:.3g})."
        )
    return result


def check_grads(fun: Callable, *primals, seed: int = 0) -> VJPCheck:
    """check_vjp of reference.GradientTape's gradients of `fun` at `primals` (autograd's)."""
    return check_vjp(fun, primals, seed=seed)
