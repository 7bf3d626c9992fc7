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

from .. import activations
from ..autodiff import tape as _tape
from ..autodiff.tracked import TrackedArray, _plain, _swap_tapes, _tapes, recording_tapes

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


def dot_product_attention(q, k, v, mask, scale: float):
    """Keras's ops.dot_product_attention on the TF backend, for (B, T, N, H) queries and
    (B, S, N, H) keys and values.

    Computes: logits = einsum("BTNH,BSNH->BNTS", q, k) * scale; logits = where(mask, logits,
    large_negative) (mask broadcast to (B, N, T, S)); p = softmax(logits, -1);
    out = einsum("BNTS,BSNH->BTNH", p, v).
    VJP (one tape node, p saved by the forward pass): dv = p^T dout; dp = dout v^T;
    dlogits = p * (dp - sum(dp * p, -1)), 0 where masked; dq = dlogits k * scale;
    dk = dlogits^T q * scale. Under a tape without layer VJPs the forward is traced instead.
    """
    tracked = [x for x in (q, k, v) if isinstance(x, TrackedArray)]
    if not (tracked and recording_tapes(tracked) and _tape.layer_vjps_enabled()):
        return _attention_forward(q, k, v, mask, scale)[0]
    with _tape.paused():
        out, probs = _attention_forward(_plain(q), _plain(k), _plain(v), mask, scale)
    slots = [i for i, x in enumerate((q, k, v)) if isinstance(x, TrackedArray)]

    def pullback(gs, need, traced):
        g = np.zeros_like(out) if gs[0] is None else gs[0]
        if traced:  # the backward is itself recorded: differentiate the readable forward
            return _replayed(lambda *a: _attention_forward(*a, mask, scale)[0], (q, k, v), g,
                             slots)  # fmt: skip
        grads = _attention_backward(_plain(q), _plain(k), _plain(v), mask, scale, probs, g)
        return [grads[i] for i in slots]

    return _tape.record_node(tracked, [out], pullback, "dot_product_attention")[0]


def _attention_forward(q, k, v, mask, scale):
    logits = einsum("BTNH,BSNH->BNTS", q, k) * np.asarray(scale, q.dtype)
    if mask is not None:
        logits = np.where(mask, logits, np.asarray(large_negative(q.dtype), q.dtype))
    probs = activations.softmax(logits, axis=-1)  # tf.nn.softmax: exp(x - max) / sum
    return einsum("BNTS,BSNH->BTNH", probs, v), probs


def _heads_first(x):
    """(B, L, N, H) -> contiguous (B, N, L, H): one copy, so that every batched product below
    is a plain GEMM per (batch, head) (a transposed view makes np.matmul skip BLAS)."""
    return np.ascontiguousarray(np.transpose(x, (0, 2, 1, 3)))


def _attention_backward(q, k, v, mask, scale, probs, g):
    gh, vh, qh, kh = (_heads_first(x) for x in (g, v, q, k))
    dv = np.matmul(np.ascontiguousarray(np.swapaxes(probs, -1, -2)), gh)
    dp = np.matmul(gh, np.ascontiguousarray(np.swapaxes(vh, -1, -2)))
    dlogits = probs * (dp - np.sum(dp * probs, axis=-1, keepdims=True))
    if mask is not None:
        dlogits = np.where(mask, dlogits, np.zeros((), dlogits.dtype))
    dlogits = dlogits * np.asarray(scale, dlogits.dtype)
    dq = np.matmul(dlogits, kh)
    dk = np.matmul(np.ascontiguousarray(np.swapaxes(dlogits, -1, -2)), qh)
    return [np.transpose(d, (0, 2, 1, 3)) for d in (dq, dk, dv)]


def _replayed(fn, inputs, g, slots):
    """Gradients of fn(*inputs) for the tracked inputs at `slots`, recorded on the tapes that
    record now (higher-order gradients), by a tape over the readable forward."""
    inner = _tape.GradientTape(watch_accessed_variables=False, use_layer_vjps=False)
    sources = [inputs[i] for i in slots]
    with _swap_tapes([*_tapes(), inner]):
        inner._active = True
        for s in sources:
            inner.watch(s)
        out = fn(*inputs)
        inner._stop()
    return inner.gradient(out, sources, output_gradients=g)
