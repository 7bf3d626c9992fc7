"""The parity verdict on one tensor pair: the rule harness.py states, in one place.

`judge` decides; `Row` is what it measured; `ParityReport` collects the rows of one
assert_parity call. See harness.py's docstring for the rule and its reasons.
"""

from __future__ import annotations

import dataclasses

import numpy as np

FLOAT64_RTOL = 1e-10
C_TF = 16.0  # multiple of the oracle's own worst error (or sensitivity) against the truth
K_ULPS = 4.0  # ulps of the tested dtype at |truth|, elementwise
DEFAULT_TOLERANCES = {"float64": FLOAT64_RTOL, "c_tf": C_TF, "k_ulps": K_ULPS}


@dataclasses.dataclass
class Row:
    """One compared tensor. `ours`/`theirs`/`ratio` only for float32/float16 (truth-based)."""

    tensor: str
    max_abs: float  # max|ours - tf|
    max_rel: float  # max_abs / max|tf|
    worst: tuple
    ok: bool
    rule: str
    ours: float | None = None  # max|ours - truth|
    theirs: float | None = None  # max|tf - truth|
    ratio: float | None = None  # ours / theirs (theirs floored at half an ulp of max|truth|)
    note: str = ""


@dataclasses.dataclass
class ParityReport:
    """What assert_parity measured; `rows` has one entry per compared tensor."""

    rows: list[Row]
    gradient_method: str
    dtype: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def worst(self, prefix: str = "") -> float:
        """Largest norm-wise max|ours - tf| / max|tf| over tensors whose name contains prefix."""
        return max((r.max_rel for r in self.rows if prefix in r.tensor), default=0.0)

    def ratio(self, prefix: str = "") -> float | None:
        """Largest ours/TF's error ratio against the truth (None in float64)."""
        found = [r.ratio for r in self.rows if prefix in r.tensor and r.ratio is not None]
        return max(found) if found else None

    def table(self) -> str:
        lines = [
            f"{'tensor':<40} {'|ours-tf|':>10} {'rel':>9} {'|ours-tru|':>10} "
            f"{'|tf-tru|':>9} {'ours/TF':>8} {'worst':>12}  status"
        ]
        for r in self.rows:
            lines.append(
                f"{r.tensor:<40} {r.max_abs:10.2e} {r.max_rel:9.1e} {_num(r.ours, 10)} "
                f"{_num(r.theirs, 9)} {_num(r.ratio, 8, '.2f')} {str(r.worst):>12}  "
                f"{'ok' if r.ok else 'FAIL'}{'  ' + r.note if r.note else ''}"
            )
        rules = sorted({r.rule for r in self.rows})
        lines.append(
            f"(gradients: {self.gradient_method}; dtype {self.dtype}; rule: {'; '.join(rules)})"
        )
        return "\n".join(lines)


def _num(value, width, fmt=".2e") -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{fmt}}"


class ParityError(AssertionError):
    """The two layers disagree; the message holds the comparison table, `report` the rows."""

    def __init__(self, message: str, report: ParityReport | None = None):
        super().__init__(message)
        self.report = report


def _max_abs_diff(p, q) -> float:
    if p is None or q is None or np.shape(p) != np.shape(q):
        return 0.0
    d = np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))
    return float(np.max(d[np.isfinite(d)], initial=0.0))


def compare_tensors(name: str, ours, theirs, dtype: str, truth: tuple | None = None) -> Row:
    """The verdict on one tensor pair (module docstring), for comparisons outside a layer call.

    Below float64, `truth` is (ours, theirs) computed in float64 on the same values cast up;
    the oracle's sensitivity S is taken as 0 here.
    """
    return judge(name, ours, theirs, dtype, truth)


def judge(name, ours, theirs, dtype, truth=None, fd_error=None, sens=0.0) -> Row:
    """One tensor's verdict (module docstring)."""
    note = ""
    if ours is None or theirs is None:
        if ours is None and theirs is None:
            return Row(name + " (None on both)", 0.0, 0.0, (), True, "None")
        note = f"None on {'our' if ours is None else 'TF'} side, compared as zeros"
        ours = np.zeros(np.shape(theirs)) if ours is None else ours
        theirs = np.zeros(np.shape(ours)) if theirs is None else theirs
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape != theirs.shape:
        return Row(
            name,
            np.inf,
            np.inf,
            (),
            False,
            "shape",
            note=f"shape {ours.shape} (ours) vs {theirs.shape} (TF)",
        )
    if ours.dtype != theirs.dtype:
        return Row(
            name,
            np.inf,
            np.inf,
            (),
            False,
            "dtype",
            note=(
                f"dtype {ours.dtype} (ours) vs {theirs.dtype} (TF): compute in the layer's dtype "
                "(a float64 constant or np.float64 scalar upcasts a float32 port)"
            ),
        )
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    agree = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    finite = np.isfinite(a) & np.isfinite(b)
    diff = np.where(agree, 0.0, np.where(finite, np.abs(a - b), np.inf))
    max_abs = float(np.max(diff, initial=0.0))
    scale = float(np.max(np.abs(b[finite]), initial=0.0))
    max_rel = max_abs / scale if scale else max_abs
    if truth is None:
        allowed = FLOAT64_RTOL * scale + C_TF * sens + (0.0 if fd_error is None else fd_error)
        rule = "max|ours-tf| <= 1e-10 max|tf|" + (
            " + fd error bound" if fd_error is not None else ""
        )
        rule += f" + {C_TF:g} sensitivity" if sens else ""
        excess = diff - allowed
        return Row(
            name, max_abs, max_rel, _argmax(excess), bool(np.all(excess <= 0)), rule, note=note
        )
    t_ours, t_theirs = (
        np.asarray(t, np.float64) if t is not None else np.zeros(a.shape) for t in truth
    )
    # The truth's own check, at float64: the sensitivity scales with eps (first order).
    eps_ratio = float(np.finfo(np.float64).eps / np.finfo(dtype).eps)
    gap = judge(name, t_ours, t_theirs, "float64", sens=sens * eps_ratio)
    with np.errstate(invalid="ignore", over="ignore"):
        ulp = np.spacing(np.abs(t_ours).astype(dtype)).astype(np.float64)
    ulp = np.where(np.isfinite(ulp), ulp, 0.0)
    err_ours = np.where(agree, 0.0, np.where(finite, np.abs(a - t_ours), np.inf))
    err_theirs = np.where(finite, np.abs(b - t_ours), 0.0)
    worst_theirs = float(np.max(err_theirs, initial=0.0))
    excess = err_ours - (C_TF * max(worst_theirs, sens) + K_ULPS * ulp)
    ours_max = float(np.max(err_ours, initial=0.0))
    floor = 0.5 * float(np.max(ulp, initial=0.0)) if ulp.size else 0.0
    ratio = ours_max / max(worst_theirs, floor) if ours_max else 0.0
    ok = bool(np.all(excess <= 0)) and gap.ok
    if not gap.ok:
        note = (note + "; " if note else "") + (
            f"float64 truth disagrees with the float64 oracle (rel {gap.max_rel:.1e})"
        )
    return Row(
        name,
        max_abs,
        max_rel,
        _argmax(excess),
        ok,
        f"|ours-truth| <= {C_TF:g} max(|tf-truth|, sensitivity) + {K_ULPS:g} ulp({dtype})",
        ours_max,
        worst_theirs,
        ratio,
        note,
    )


def _argmax(x) -> tuple:
    return tuple(int(i) for i in np.unravel_index(np.argmax(x), x.shape)) if x.size else ()
