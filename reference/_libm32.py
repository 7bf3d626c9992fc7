"""glibc's float32 `logf` and `sincosf`, step for step in float64 NumPy (the Box-Muller steps
of TF's normal draws).

TF's BoxMullerFloat calls the C library's `logf` and `sincosf`. On x86-64 Linux that is glibc
(2.27+ for logf, 2.28+ for sincosf: the ARM optimized-routines code), which is *not* correctly
rounded: it evaluates a short polynomial in double and rounds once to float, so about 0.7% of
logf and 1.3% of sincosf values differ by one ulp from the correctly rounded float64-then-round
evaluation the reference used before. Here are the same table look-ups, range reduction and
polynomials, in the same double operations and order, so the float results are the same.

Checked exhaustively against this machine's glibc 2.36 on every input a float32 Box-Muller
pair can produce (the 2**23 values of u1 for logf and of v1 = float(2 pi u) for sincosf):
no difference. glibc picks FMA variants of both at run time on CPUs with FMA; a fused
multiply-add changes the double result by about 2**-53 relative, which can change the float
rounding only when the double lies that close to a float midpoint (none of the 2**23 inputs
does).

Differences: none on those inputs; other C libraries (musl, macOS, Windows) have their own logf
and sincosf, and TF built against them draws other values (docs/random.md).
"""

from __future__ import annotations

import numpy as np

_H = float.fromhex

# e_logf_data.c: 1/c and log(c) for 16 subintervals of [0x3f330000, 2 * 0x3f330000), ln 2,
# and the polynomial for log1p(r) - r (its first-order coefficient is 1).
_LOGF_INVC = np.array([_H(v) for v in (
    "0x1.661ec79f8f3bep+0", "0x1.571ed4aaf883dp+0", "0x1.49539f0f010bp+0",
    "0x1.3c995b0b80385p+0", "0x1.30d190c8864a5p+0", "0x1.25e227b0b8eap+0",
    "0x1.1bb4a4a1a343fp+0", "0x1.12358f08ae5bap+0", "0x1.0953f419900a7p+0", "0x1p+0",
    "0x1.e608cfd9a47acp-1", "0x1.ca4b31f026aap-1", "0x1.b2036576afce6p-1",
    "0x1.9c2d163a1aa2dp-1", "0x1.886e6037841edp-1", "0x1.767dcf5534862p-1",
)])  # fmt: skip
_LOGF_LOGC = np.array([_H(v) for v in (
    "-0x1.57bf7808caadep-2", "-0x1.2bef0a7c06ddbp-2", "-0x1.01eae7f513a67p-2",
    "-0x1.b31d8a68224e9p-3", "-0x1.6574f0ac07758p-3", "-0x1.1aa2bc79c81p-3",
    "-0x1.a4e76ce8c0e5ep-4", "-0x1.1973c5a611cccp-4", "-0x1.252f438e10c1ep-5", "0x0p+0",
    "0x1.aa5aa5df25984p-5", "0x1.c5e53aa362eb4p-4", "0x1.526e57720db08p-3",
    "0x1.bc2860d22477p-3", "0x1.1058bc8a07ee1p-2", "0x1.4043057b6ee09p-2",
)])  # fmt: skip
_LN2 = _H("0x1.62e42fefa39efp-1")
_LOGF_A = (_H("-0x1.00ea348b88334p-2"), _H("0x1.5575b0be00b6ap-2"), _H("-0x1.ffffef20a4123p-2"))
_LOGF_OFF = np.uint32(0x3F330000)

# s_sincosf_data.c (x86-64: no TOINT_INTRINSICS, so 2/pi comes pre-scaled by 2**24).
_HPI_INV = _H("0x1.45F306DC9C883p+23")
_HPI = _H("0x1.921FB54442D18p0")
_COS = (1.0, _H("-0x1.ffffffd0c621cp-2"), _H("0x1.55553e1068f19p-5"),
        _H("-0x1.6c087e89a359dp-10"), _H("0x1.99343027bf8c3p-16"))  # fmt: skip
_SIN = (_H("-0x1.555545995a603p-3"), _H("0x1.1107605230bc4p-7"), _H("-0x1.994eb3774cf24p-13"))
_QUADRANT_SIGN = np.array([1.0, -1.0, -1.0, 1.0])


def logf(x: np.ndarray) -> np.ndarray:
    """glibc's logf for positive normal float32 x (not 0, subnormals, inf or nan).

    Computes: x = 2**k z with z in [OFF, 2 OFF) (OFF = 0x3f330000, about 0.7); i = 4 bits of z
    after OFF; r = z / c_i - 1 (as z * invc_i - 1); log x = log1p(r) + log c_i + k ln 2, with
    log1p(r) ~ r + A0 r**4 + A1 r**3 + A2 r**2 evaluated as glibc pipelines it; logf(1) = 0.
    """
    ix = np.ascontiguousarray(x, np.float32).view(np.uint32)
    tmp = ix - _LOGF_OFF
    i = (tmp >> np.uint32(19)) & np.uint32(15)
    k = (tmp.view(np.int32) >> np.int32(23)).astype(np.float64)  # arithmetic shift, as glibc
    z = (ix - (tmp & np.uint32(0xFF800000))).view(np.float32).astype(np.float64)
    r = z * _LOGF_INVC[i] - 1.0
    y0 = _LOGF_LOGC[i] + k * _LN2
    r2 = r * r
    y = _LOGF_A[1] * r + _LOGF_A[2]
    y = _LOGF_A[0] * r2 + y
    y = y * r2 + (y0 + r)
    return np.where(ix == np.uint32(0x3F800000), np.float32(0), y.astype(np.float32))


def sincosf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glibc's sincosf for float32 x in [0, 120) (the fast range-reduction path).

    Computes: tiny x (< 2**-12): (x, 1). x < 0.75 (glibc compares the top 12 bits with pi/4's):
    the polynomials at x itself. Otherwise n = round(x * 2/pi) (as ((int)(x * 2**24 2/pi) +
    2**23) >> 24), t = x - n pi/2, and the quadrant n picks the signs and which polynomial gives
    the sine: sin(t) ~ t + S1 t**3 + t**5 (S2 + S3 t**2), cos(t) ~ C0 + C1 t**2 + C2 t**4 +
    t**6 (C3 + C4 t**2), each rounded once to float.
    """
    y = np.ascontiguousarray(x, np.float32)
    top = (y.view(np.uint32) >> np.uint32(20)) & np.uint32(0x7FF)
    xd = y.astype(np.float64)
    n = ((xd * _HPI_INV).astype(np.int32) + np.int32(0x800000)) >> np.int32(24)
    n[top < np.uint32(0x3F4)] = 0  # below pi/4's top bits: no reduction
    t = xd - n * _HPI
    ts = t * _QUADRANT_SIGN[n & 3]
    neg = np.where(n & 2, -1.0, 1.0)  # glibc's second table: the cosine polynomial negated
    t2 = t * t
    t3, t4 = t2 * ts, t2 * t2
    c2 = neg * _COS[3] + t2 * (neg * _COS[4])
    s1 = _SIN[1] + t2 * _SIN[2]
    c1 = neg * _COS[0] + t2 * (neg * _COS[1])
    t5, t6 = t3 * t2, t4 * t2
    s = ts + t3 * _SIN[0]
    c = c1 + t4 * (neg * _COS[2])
    sin_poly = (s + t5 * s1).astype(np.float32)
    cos_poly = (c + t6 * c2).astype(np.float32)
    odd = (n & 1).astype(bool)  # odd quadrants swap the two polynomials
    sin, cos = np.where(odd, cos_poly, sin_poly), np.where(odd, sin_poly, cos_poly)
    tiny = top < np.uint32(0x398)  # 0x1p-12f
    return np.where(tiny, y, sin), np.where(tiny, np.float32(1), cos)
