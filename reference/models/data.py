"""Arrays into batches, as Keras's ArrayDataAdapter and EpochIterator do for NumPy inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import config, nest

OUT_OF_DATA = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches. You may need to use "
    "the `.repeat()` function when building your dataset."
)


def as_arrays(data):
    return nest.map_structure(lambda a: None if a is None else np.asarray(a), data)


def take(data, index):
    return nest.map_structure(lambda a: None if a is None else a[index], data)


def cardinality(x, y, sample_weight) -> int:
    """The common number of samples, or Keras's "Data cardinality is ambiguous" ValueError."""
    sizes = {
        label: [len(a) for a in nest.flatten(v) if a is not None]
        for label, v in (("x", x), ("y", y), ("sample_weight", sample_weight))
        if v is not None
    }
    all_sizes = {s for v in sizes.values() for s in v}
    if len(all_sizes) > 1:
        detail = "\n".join(f"'{k}' sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
        raise ValueError(
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples.\n{detail}"
        )
    if not all_sizes:
        raise ValueError("fit/evaluate/predict: `x` is empty.")
    return all_sizes.pop()


def class_weight_to_sample_weights(y, class_weight: dict) -> np.ndarray:
    """Keras's class_weight_to_sample_weights: the weight of each sample's class (argmax of a
    one-hot row, else the rounded label), 1.0 for a class not in the dict, in floatx."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, -1)
    y = np.round(y).astype("int32")
    return np.array([class_weight.get(int(c), 1.0) for c in y], dtype=config.floatx())


def _nested(x) -> bool:
    return isinstance(x, list | tuple | dict)


def check_sample_weight(y, sample_weight, class_weight):
    """Keras's ArrayDataAdapter checks; a single per-sample array with several outputs is used
    for each. Returns the sample weights to train with (class weights turned into them)."""
    if sample_weight is not None:
        if class_weight is not None:
            raise ValueError("fit: you cannot `class_weight` and `sample_weight` at the same time.")
        if _nested(y) and not _nested(sample_weight):
            shape = np.shape(sample_weight)
            if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
                raise ValueError(
                    "For a model with multiple outputs, when providing a single `sample_weight` "
                    "array, it should only have one scalar score per sample (i.e. shape "
                    f"`(num_samples,)`). Received: sample_weight of shape {shape}."
                )
        elif _nested(y) and len(nest.flatten(sample_weight)) != len(nest.flatten(y)):
            raise ValueError(
                "You should provide one `sample_weight` array per output in `y`. Received "
                f"{len(nest.flatten(sample_weight))} for {len(nest.flatten(y))} outputs."
            )
    if class_weight is not None:
        if _nested(y):
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        if not isinstance(class_weight, dict):
            raise TypeError(f"fit: `class_weight` must be a dict. Received: {class_weight!r}")
        return class_weight_to_sample_weights(y, class_weight)
    return sample_weight


class EpochIterator:
    """Batches of sample indices, epoch by epoch, as Keras's EpochIterator.

    Without steps_per_epoch each epoch is one pass (a fresh order when shuffling). With it, an
    epoch takes that many batches from a pass that carries over into the next epoch; a pass
    that runs out ends the epoch early with Keras's warning, and the next epoch starts a new one.
    """

    def __init__(self, n: int, batch_size, steps_per_epoch=None, shuffle=False, seed=None):
        if not batch_size:
            batch_size = math.ceil(n / steps_per_epoch) if steps_per_epoch else 32
        self.n, self.batch_size, self.shuffle = n, int(batch_size), shuffle
        self.steps_per_epoch = steps_per_epoch
        self.num_batches = math.ceil(n / self.batch_size)
        self._rng = np.random.default_rng(seed) if shuffle else None
        self._pass: list | None = None
        self._seen = 0

    @property
    def steps(self) -> int:
        return self.steps_per_epoch or self.num_batches

    def _new_pass(self) -> list:
        order = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        return [order[i : i + self.batch_size] for i in range(0, self.n, self.batch_size)]

    def epoch(self, steps_per_execution: int = 1):
        """Yield (begin_step, end_step, [indices, ...]) for one epoch, one tuple per execution
        of up to `steps_per_execution` batches, as Keras's `_enumerate_iterator`: the steps
        are numbered begin, begin + spe - 1 even when the pass has fewer batches left, and an
        execution takes its batches from the pass whatever steps_per_epoch says (Keras's
        train function loops until spe steps or the end of the data;
        docs/keras-facts.md#fact-10-steps-per-execution)."""
        spe = steps_per_execution
        if self._pass is None or self.steps_per_epoch is None:
            self._pass, self._seen = self._new_pass(), 0
        for step in range(0, self.steps, spe):
            if self._seen >= self.num_batches:
                if self.steps_per_epoch:
                    warnings.warn(OUT_OF_DATA, stacklevel=3)
                break
            chunk = self._pass[self._seen : self._seen + spe]
            self._seen += spe
            yield step, step + spe - 1, chunk
        if self._seen >= self.num_batches:
            self._pass, self._seen = self._new_pass(), 0
