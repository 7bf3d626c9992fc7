"""Two-operand einsum as one batched matrix product, its VJP equations, and attention masks.

EinsumDense and the attention layers contract with `einsum`. NumPy's own np.einsum runs a
C loop without BLAS for batched products (the attention scores "BTNH,BSNH->BNTS"), which is
~50x slower than a GEMM; TensorFlow's einsum instead transposes both operands to
(batch, free, contracted), calls BatchMatMul and transposes back. `einsum` here does the same
with np.transpose / np.reshape / np.matmul, so it is fast and, under a tape, differentiable
by the rules of those three functions.
"""

from __future__ import annotations

import math

import numpy as np

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def expand_ellipsis(equation: str, ndims: tuple[int, ...]) -> str:
    """`equation` ("...b,bc->...c") with each '...' spelled as unused letters, given the
    operands' ranks. A two-operand, explicit-output equation is required."""
    spec = equation.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    ins = lhs.split(",")
    if not arrow or len(ins) != len(ndims):
        raise ValueError(
            f"einsum: expected an equation 'X,Y->Z' for {len(ndims)} operands. "
            f"Received: equation={equation!r}"
        )
    free = [c for c in _LETTERS if c not in spec]
    n_ell = max((n - len(s) + 3 for s, n in zip(ins, ndims, strict=True) if "..." in s), default=0)
    ell = "".join(free[:n_ell])
    ins = [
        s.replace("...", ell[n_ell - (n - len(s) + 3) :]) for s, n in zip(ins, ndims, strict=True)
    ]
    return f"{','.join(ins)}->{out.replace('...', ell)}"


def _parse(equation: str) -> tuple[str, str, str]:
    lhs, _, out = equation.partition("->")
    a, b = lhs.split(",")
    return a, b, out


def einsum(equation: str, a, b):
    """Computes: np.einsum(equation, a, b), as TF does it: letters of one operand alone that the
    output drops are summed first; then (batch, free, contracted) transposes, one np.matmul,
    and a transpose to the output's order. `equation` has no '...' (see expand_ellipsis) and no
    letter repeated within an operand."""
    sa, sb, so = _parse(equation)
    if len(set(sa)) != len(sa) or len(set(sb)) != len(sb) or np.ndim(a) != len(sa):
        raise ValueError(
            f"einsum: unsupported equation {equation!r} for operands of ranks "
            f"{np.ndim(a)} and {np.ndim(b)} (repeated letters, or a rank that does not match)."
        )
    a, sa = _sum_alone(a, sa, sb + so)
    b, sb = _sum_alone(b, sb, sa + so)
    size = {c: n for c, n in zip(sa, np.shape(a), strict=True)}
    size.update(zip(sb, np.shape(b), strict=True))
    batch = [c for c in so if c in sa and c in sb]
    contract = [c for c in sa if c in sb and c not in so]
    free_a = [c for c in sa if c not in sb]
    free_b = [c for c in sb if c not in sa]

    def n(letters):
        return math.prod(size[c] for c in letters)

    a3 = np.reshape(
        np.transpose(a, [sa.index(c) for c in batch + free_a + contract]),
        (n(batch), n(free_a), n(contract)),
    )
    b3 = np.reshape(
        np.transpose(b, [sb.index(c) for c in batch + contract + free_b]),
        (n(batch), n(contract), n(free_b)),
    )
    got = batch + free_a + free_b
    out = np.reshape(np.matmul(a3, b3), [size[c] for c in got])
    order = [got.index(c) for c in so]
    return out if order == sorted(order) else np.transpose(out, order)


def _sum_alone(x, letters: str, elsewhere: str):
    alone = [i for i, c in enumerate(letters) if c not in elsewhere]
    if not alone:
        return x, letters
    return np.sum(x, axis=tuple(alone)), "".join(c for c in letters if c in elsewhere)


def einsum_vjp(equation: str, g, a, b) -> tuple:
    """VJP of einsum(equation, a, b) for the upstream gradient g (the equation rearranged):
    da = einsum("Z,Y->X'", g, b) and db = einsum("X,Z->Y'", a, g), X' (Y') the operand's
    letters that appear elsewhere, then broadcast back over the letters summed in it alone."""
    sa, sb, so = _parse(equation)
    return (
        _broadcast_back(einsum, f"{so},{sb}", g, b, sa, np.shape(a)),
        _broadcast_back(einsum, f"{sa},{so}", a, g, sb, np.shape(b), first=False),
    )


def _broadcast_back(fn, lhs, x, y, target, shape, first=True):
    others = lhs.replace(",", "")
    kept = "".join(c for c in target if c in others)
    grad = fn(f"{lhs}->{kept}", x, y)
    missing = [i for i, c in enumerate(target) if c not in others]
    if missing:
        grad = np.broadcast_to(np.expand_dims(grad, missing), shape)
    return grad


def causal_mask(q_len: int, v_len: int) -> np.ndarray:
    """Keras's _compute_causal_mask: (1, T, S) booleans, row index >= column index (cumsums of
    ones from 1), so query t sees keys 0..t (for S > T, key t's later columns are hidden)."""
    return (np.arange(q_len)[:, None] >= np.arange(v_len)[None, :])[None]


def large_negative(dtype) -> float:
    """The logit that ops.dot_product_attention gives a masked position (TF backend):
    -0.7 * the dtype's max (float16: -0.7 * 65500); exp of it minus the row max is 0."""
    return (65500.0 if np.dtype(dtype) == np.float16 else 3.38953e38) * -0.7
