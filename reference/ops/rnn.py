"""Recurrent kernels: the SimpleRNN, GRU and LSTM recurrences and their backpropagation through
time (BPTT), in NumPy.

Conventions shared by every function here:
- sequences are time-major: `xw` is (T, B, G) and holds the input projection of every step,
  `x_t @ kernel + input_bias`, computed by the layer in one GEMM before the recurrence;
- `R` is the recurrent kernel (U, G), gate blocks side by side in Keras's order (LSTM i, f, c, o;
  GRU z, r, h);
- the `*_forward` functions are plain NumPy on values that may be tracked by the tape (a layer's
  readable `call` runs them under the tape), and return the per-step values the backward needs
  (the residuals); the `*_backward` functions consume them and never rerun the sequence;
- an optional boolean `mask` (T, B) carries the states through masked steps (Keras): there
  the backward passes dh (and dc) straight to step t-1 and gives the gates no gradient;
- optional `rec_masks` (G, B, U) are recurrent dropout masks (Keras's implementation 1): gate
  block k reads h_{t-1} * rec_masks[k] (one mask per block; SimpleRNN has one block). Only the
  traced path uses them: a layer training with dropout differentiates its `call`;
- `act`/`rec_act` are the cell's activations, `dact`/`drec` their derivatives written from the
  OUTPUT (tanh: 1 - y*y, sigmoid: y*(1 - y)), as TF's TanhGrad/SigmoidGrad.

Each backward walks t = T-1 .. 0 with `dh` (and `dc`) carried from step t+1, and does one GEMM
per gate block per step (`dR += h_prev.T @ dgates` is accumulated, `dh_prev = dgates @ R.T`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from .. import activations


def derivative_from_output(activation: Any):
    """f'(z) written from y = f(z), for the activations a hand-written BPTT supports (tanh,
    sigmoid, linear, relu, hard_sigmoid: each exact from its output, kinks as TF's); None for
    any other (the layer then traces its `call`)."""
    if activation is activations.tanh:
        return lambda y: 1.0 - y * y
    if activation is activations.sigmoid:
        return lambda y: y * (1.0 - y)
    if activation is activations.linear:
        return lambda y: np.ones_like(y)
    if activation is activations.relu:  # y > 0 exactly where z > 0 (TF: relu'(0) = 0)
        return lambda y: (y > 0).astype(y.dtype)
    if activation is activations.hard_sigmoid:  # relu6(z + 3) / 6: 1/6 where 0 < y < 1
        return lambda y: np.where((y > 0) & (y < 1), y.dtype.type(1 / 6), y.dtype.type(0))
    return None


# -- SimpleRNN --------------------------------------------------------------------------------
def _carry(mask, t, new, old):
    """Keras's masking: where step t of a row is masked, the state carries over unchanged."""
    return new if mask is None else np.where(mask[t][:, None], new, old)


def recurrent_product(h, R, rec_masks=None):
    """h @ R; with recurrent dropout masks, block k of R (U columns each) multiplies its own
    dropped copy of h: (h * rec_masks[k]) @ R_k."""
    if rec_masks is None:
        return np.matmul(h, R)
    u = R.shape[0]
    n = R.shape[1] // u
    blocks = [np.matmul(h * rec_masks[k], R[:, k * u : (k + 1) * u]) for k in range(n)]
    return blocks[0] if n == 1 else np.concatenate(blocks, axis=-1)


def simple_rnn_forward(xw, R, h0, act, mask=None, rec_masks=None):
    """h_t = act(xw_t + h_{t-1} @ R) (h_t = h_{t-1} where `mask` (T, B) is False). Returns
    hs (T, B, U), the state after every step."""
    hs, h = [], h0
    for t in range(xw.shape[0]):
        h = _carry(mask, t, act(xw[t] + recurrent_product(h, R, rec_masks)), h)
        hs.append(h)
    return np.stack(hs)


def _split(mask, t, dh):
    """A masked row's step is the identity: its gradient skips the step (the second part)."""
    if mask is None:
        return dh, 0.0
    m = mask[t][:, None]
    return dh * m, dh * ~m


def simple_rnn_backward(dhs, hs, h0, R, dact, mask=None):
    """BPTT of simple_rnn_forward. `dhs` (T, B, U) is the gradient reaching each h_t from
    outside the recurrence (the output sequence, the returned state).

    Per step, from t = T-1 down:
        dh = dhs_t + dh_next;  da = dh * act'(h_t);  dR += h_{t-1}.T @ da;  dh_next = da @ R.T
    (with a mask, a masked row's dh skips the step: da = 0 there, dh_next += dh).
    Returns dxw (T, B, U), dR, dh0.
    """
    dxw = np.empty_like(hs)
    dR = np.zeros_like(R)
    dh_next = np.zeros_like(h0)
    for t in range(hs.shape[0] - 1, -1, -1):
        h_prev = hs[t - 1] if t else h0
        dh, skip = _split(mask, t, dhs[t] + dh_next)
        da = dh * dact(hs[t])
        dxw[t] = da
        dR += np.dot(h_prev.T, da)
        dh_next = np.dot(da, R.T) + skip
    return dxw, dR, dh_next


# -- LSTM -------------------------------------------------------------------------------------
def lstm_forward(xw, R, h0, c0, act, rec_act, mask=None, rec_masks=None):
    """Keras's LSTM (gate order i, f, c, o):
        z = xw_t + h_{t-1} @ R;  i, f, o = rec_act(z_i, z_f, z_o);  g = act(z_c)
        c_t = f * c_{t-1} + i * g;  h_t = o * act(c_t)
    Returns (hs, cs, gates, act_cs): hs, cs (T, B, U); gates (T, B, 4U) = [i, f, g, o] after
    their activations; act_cs = act(c_t) (T, B, U)."""
    fast = _lstm_forward_plain(xw, R, h0, c0, act, rec_act, mask, rec_masks)
    if fast is not None:
        return fast
    u = R.shape[0]
    hs, cs, gates, act_cs = [], [], [], []
    h, c = h0, c0
    for t in range(xw.shape[0]):
        z = xw[t] + recurrent_product(h, R, rec_masks)
        i = rec_act(z[:, :u])
        f = rec_act(z[:, u : 2 * u])
        g = act(z[:, 2 * u : 3 * u])
        o = rec_act(z[:, 3 * u :])
        c_new = f * c + i * g
        ac = act(c_new)
        h = _carry(mask, t, o * ac, h)
        c = _carry(mask, t, c_new, c)
        hs.append(h)
        cs.append(c)
        gates.append(np.concatenate([i, f, g, o], axis=-1))
        act_cs.append(ac)
    return np.stack(hs), np.stack(cs), np.stack(gates), np.stack(act_cs)


_UFUNCS = {activations.tanh: np.tanh, activations.sigmoid: expit}


def _lstm_forward_plain(xw, R, h0, c0, act, rec_act, mask, rec_masks):
    """lstm_forward's loop on plain float32/float64 arrays with tanh/sigmoid activations, bit
    for bit (the same operations in the same order), written into preallocated buffers with
    in-place ufuncs: the inference and layer-VJP path. None where it does not apply (tracked
    values under a tape, other activations or dtypes, recurrent dropout)."""
    arrays = (xw, R, h0, c0)
    if rec_masks is not None or any(type(a) is not np.ndarray for a in arrays):
        return None
    if act not in _UFUNCS or rec_act not in _UFUNCS or xw.dtype not in (np.float32, np.float64):
        return None
    if any(a.dtype != xw.dtype for a in arrays):
        return None
    act, rec_act = _UFUNCS[act], _UFUNCS[rec_act]
    t_steps, b, u = xw.shape[0], xw.shape[1], R.shape[0]
    gates = np.empty_like(xw)
    hs, cs, act_cs = (np.empty((t_steps, b, u), xw.dtype) for _ in range(3))
    ig = np.empty((b, u), xw.dtype)
    h, c = h0, c0
    for t in range(t_steps):
        z = gates[t]
        np.matmul(h, R, out=z)
        np.add(xw[t], z, out=z)  # xw_t + h @ R, the order of the readable loop
        rec_act(z[:, : 2 * u], out=z[:, : 2 * u])  # i, f
        act(z[:, 2 * u : 3 * u], out=z[:, 2 * u : 3 * u])  # g
        rec_act(z[:, 3 * u :], out=z[:, 3 * u :])  # o
        i, f, g, o = z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :]
        c_new, h_new, ac = cs[t], hs[t], act_cs[t]
        np.multiply(f, c, out=c_new)
        np.multiply(i, g, out=ig)
        c_new += ig
        act(c_new, out=ac)
        np.multiply(o, ac, out=h_new)
        if mask is not None:  # a masked row keeps its states
            keep = ~mask[t][:, None]
            np.copyto(h_new, h, where=keep)
            np.copyto(c_new, c, where=keep)
        h, c = h_new, c_new
    return hs, cs, gates, act_cs


def lstm_backward(dhs, dc_last, hs, cs, gates, act_cs, h0, c0, R, dact, drec, mask=None):
    """BPTT of lstm_forward; `dc_last` is the gradient of the returned cell state c_T.

    Per step, from t = T-1 down (dc_next starts at dc_last):
        dh = dhs_t + dh_next;  dc = dc_next + dh * o * act'(c_t)   [act' from act(c_t)]
        do = dh * act(c_t);  di = dc * g;  dg = dc * i;  df = dc * c_{t-1};  dc_next = dc * f
        dz = [di * rec'(i), df * rec'(f), dg * act'(g), do * rec'(o)];  dh_next = dz @ R.T
    then, over all steps at once, dR = sum_t h_{t-1}.T @ dz_t (one GEMM).
    (with a mask, a masked row's dh and dc skip the step: dz = 0 there). act_cs holds act of
    the NEW cell state of each step, which a masked row then drops.
    Returns dxw (T, B, 4U), dR, dh0, dc0.
    """
    u = R.shape[0]
    t_steps = hs.shape[0]
    # Every step's activation derivatives at once, from the saved outputs.
    d_gates = np.concatenate(
        [drec(gates[..., : 2 * u]), dact(gates[..., 2 * u : 3 * u]), drec(gates[..., 3 * u :])],
        axis=-1,
    )
    d_act_c = dact(act_cs)
    dxw = np.empty_like(gates)
    dh_next = np.zeros_like(h0)
    dc_next = dc_last
    for t in range(t_steps - 1, -1, -1):
        i, f, g, o = (gates[t, :, k * u : (k + 1) * u] for k in range(4))
        c_prev = cs[t - 1] if t else c0
        dh, skip_h = _split(mask, t, dhs[t] + dh_next)
        dc, skip_c = _split(mask, t, dc_next)
        dc = dc + dh * o * d_act_c[t]
        dz = dxw[t]
        np.multiply(dc, g, out=dz[:, :u])
        np.multiply(dc, c_prev, out=dz[:, u : 2 * u])
        np.multiply(dc, i, out=dz[:, 2 * u : 3 * u])
        np.multiply(dh, act_cs[t], out=dz[:, 3 * u :])
        dz *= d_gates[t]
        dc_next = dc * f + skip_c
        dh_next = np.dot(dz, R.T) + skip_h
    h_prev = np.concatenate([h0[None], hs[:-1]]).reshape(-1, u)
    dR = np.dot(h_prev.T, dxw.reshape(-1, 4 * u))
    return dxw, dR, dh_next, dc_next


# -- GRU --------------------------------------------------------------------------------------
def gru_forward(
    xw, R, h0, act, rec_act, reset_after, recurrent_bias=None, mask=None, rec_masks=None
):
    """Keras's GRU (gate order z, r, h; xw already holds the input bias).

    reset_after=True (the default; two biases):
        m = h_{t-1} @ R + recurrent_bias;  z = rec_act(xw_z + m_z);  r = rec_act(xw_r + m_r)
        hh = act(xw_h + r * m_h)
    reset_after=False (one bias; the reset gate acts before the product):
        z, r as above with m = h_{t-1} @ R[:, :2U];  hh = act(xw_h + (r * h_{t-1}) @ R[:, 2U:])
    then h_t = z * h_{t-1} + (1 - z) * hh.
    Returns (hs, gates, m_h): hs (T, B, U); gates (T, B, 3U) = [z, r, hh]; m_h (T, B, U), the
    recurrent part of the candidate before the reset gate (reset_after) or r * h_{t-1} (not).
    """
    u = R.shape[0]
    hs, gates, mhs = [], [], []
    h = h0
    for t in range(xw.shape[0]):
        x = xw[t]
        if reset_after:
            m = recurrent_product(h, R, rec_masks)
            if recurrent_bias is not None:
                m = m + recurrent_bias
        else:
            m = recurrent_product(h, R[:, : 2 * u], rec_masks)
        z = rec_act(x[:, :u] + m[:, :u])
        r = rec_act(x[:, u : 2 * u] + m[:, u : 2 * u])
        if reset_after:
            m_h = m[:, 2 * u :]
            hh = act(x[:, 2 * u :] + r * m_h)
        else:
            m_h = r * (h if rec_masks is None else h * rec_masks[2])
            hh = act(x[:, 2 * u :] + np.matmul(m_h, R[:, 2 * u :]))
        h = _carry(mask, t, z * h + (1.0 - z) * hh, h)
        hs.append(h)
        gates.append(np.concatenate([z, r, hh], axis=-1))
        mhs.append(m_h)
    return np.stack(hs), np.stack(gates), np.stack(mhs)


def gru_backward(dhs, hs, gates, mhs, h0, R, dact, drec, reset_after, mask=None):
    """BPTT of gru_forward.

    Per step, from t = T-1 down, with dh = dhs_t + dh_next:
        dz = dh * (h_{t-1} - hh) * rec'(z);  da_h = dh * (1 - z) * act'(hh);  dh_prev = dh * z
    reset_after=True (m = h_{t-1} @ R + b_rec):
        dr = da_h * m_h * rec'(r);  dm = [dz, dr, da_h * r]
        dR += h_{t-1}.T @ dm;  db_rec += sum(dm);  dh_prev += dm @ R.T
    reset_after=False (rh = r * h_{t-1}):
        drh = da_h @ R_h.T;  dR_h += rh.T @ da_h;  dr = drh * h_{t-1} * rec'(r)
        dR_zr += h_{t-1}.T @ [dz, dr];  dh_prev += drh * r + [dz, dr] @ R_zr.T
    and dxw_t = [dz, dr, da_h] (with a mask, a masked row's dh skips the step).
    Returns dxw (T, B, 3U), dR, d_recurrent_bias (None when not reset_after), dh0.
    """
    u = R.shape[0]
    dxw = np.empty_like(gates)
    dR = np.zeros_like(R)
    db = np.zeros(R.shape[1], R.dtype) if reset_after else None
    dh_next = np.zeros_like(h0)
    for t in range(hs.shape[0] - 1, -1, -1):
        z, r, hh = (gates[t, :, k * u : (k + 1) * u] for k in range(3))
        h_prev = hs[t - 1] if t else h0
        dh, skip = _split(mask, t, dhs[t] + dh_next)
        dg = dxw[t]
        dg[:, :u] = dh * (h_prev - hh) * drec(z)
        da_h = dh * (1.0 - z) * dact(hh)
        dg[:, 2 * u :] = da_h
        if reset_after:
            dg[:, u : 2 * u] = da_h * mhs[t] * drec(r)
            dm = dg.copy()
            dm[:, 2 * u :] *= r
            dR += np.dot(h_prev.T, dm)
            db += dm.sum(axis=0)
            dh_next = dh * z + np.dot(dm, R.T) + skip
        else:
            drh = np.dot(da_h, R[:, 2 * u :].T)
            dR[:, 2 * u :] += np.dot(mhs[t].T, da_h)
            dg[:, u : 2 * u] = drh * h_prev * drec(r)
            dzr = dg[:, : 2 * u]
            dR[:, : 2 * u] += np.dot(h_prev.T, dzr)
            dh_next = dh * z + drh * r + np.dot(dzr, R[:, : 2 * u].T) + skip
    return dxw, dR, db, dh_next
