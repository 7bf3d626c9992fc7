"""compile / fit / evaluate / predict / train_on_batch / test_on_batch, as keras.Model's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import callbacks as callbacks_module
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import nest
from .. import optimizers as optimizers_module
from ..autodiff import GradientTape
from ..autodiff.tracked import TrackedArray


def _plain(x: Any) -> Any:
    return nest.map_structure(lambda v: v.numpy() if isinstance(v, TrackedArray) else v, x)


def _is_binary_or_sparse(y_true, y_pred) -> tuple[bool, bool]:
    """Keras's is_binary_or_sparse_categorical, from the shapes."""
    t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
    binary = p_shape[-1] == 1
    sparse = len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] > 1)
    return binary, sparse


def _get_loss(identifier, y_true, y_pred):
    """Keras's compile_utils.get_loss: a Loss object (functions are wrapped, named as given)."""
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        loss = (losses_module.binary_crossentropy if binary else
                losses_module.sparse_categorical_crossentropy if sparse else
                losses_module.categorical_crossentropy)  # fmt: skip
    else:
        loss = losses_module.get(identifier)
    if not isinstance(loss, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", None)
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss


def _get_metric(identifier, y_true, y_pred):
    """Keras's compile_utils.get_metric: "accuracy"/"acc" picks the accuracy from the shapes."""
    if str(identifier).lower() in ("accuracy", "acc"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        cls = (metrics_module.BinaryAccuracy if binary else
               metrics_module.SparseCategoricalAccuracy if sparse else
               metrics_module.CategoricalAccuracy)  # fmt: skip
        metric = cls(name=str(identifier))
    else:
        metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else getattr(metric, "name", None)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric)
        name = name or metric.name
    metric.name = name
    return metric


def _per_output(spec, names: list, what: str) -> list:
    """A loss/metrics/loss_weights argument as one entry per output."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} keys {sorted(unknown)} are not outputs {names}.")
        return [spec.get(n) for n in names]
    if isinstance(spec, list | tuple) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(
                f"compile: {what} has {len(spec)} entries, but the model has {len(names)} outputs."
            )
        return list(spec)
    return [spec] * len(names) if what != "loss" or len(names) == 1 else [spec] * len(names)


def _cardinality(x, y, sample_weight) -> int:
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


def _as_arrays(data):
    return nest.map_structure(lambda a: None if a is None else np.asarray(a), data)


def _take(data, index):
    return nest.map_structure(lambda a: None if a is None else a[index], data)


class Trainer:
    """The training loop of keras.Model (TF backend), one eager step at a time."""

    def _init_trainer(self) -> None:
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._loss_tracker = None

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True) -> None:  # fmt: skip
        """Keras: Model.compile. Losses, metrics and the accuracy variant are resolved at the
        first batch, from the shapes of y and y_pred, as Keras does."""
        self.optimizer = optimizers_module.get(optimizer)
        self._user_loss, self._user_loss_weights = loss, loss_weights
        self._user_metrics, self._user_weighted = metrics, weighted_metrics
        self._compile_loss = None
        self._compiled_metrics: list = []
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True
        self.stop_training = False

    @property
    def _output_names(self) -> list:
        outputs = getattr(self, "outputs", None) or [None]
        return [o._keras_history[0].name if o is not None else "output_0" for o in outputs]

    def _build_compile(self, y, y_pred) -> None:
        names = self._output_names if len(nest.flatten(y_pred)) > 1 else ["output"]
        ys, ps = nest.flatten(y), nest.flatten(y_pred)
        if len(ys) != len(ps):
            raise ValueError(
                f"Model '{self.name}' has {len(ps)} outputs, but y has {len(ys)} entries."
            )
        losses = _per_output(self._user_loss, names, "loss")
        weights = _per_output(self._user_loss_weights, names, "loss_weights")
        self._compile_loss = [
            (i, _get_loss(spec, ys[i], ps[i]), w) for i, (spec, w) in enumerate(zip(losses, weights,
                                                                                  strict=True))
            if spec is not None
        ]  # fmt: skip
        self._compiled_metrics = []
        for weighted, user in ((False, self._user_metrics), (True, self._user_weighted)):
            if user is None:
                continue
            per = _per_output(user, names, "metrics") if len(names) > 1 else [user]
            for i, specs in enumerate(per):
                for spec in specs if isinstance(specs, list | tuple) else [specs]:
                    metric = _get_metric(spec, ys[i], ps[i])
                    if len(names) > 1:
                        metric.name = f"{names[i]}_{metric.name}"
                    self._compiled_metrics.append((i, metric, weighted))

    @property
    def metrics(self) -> list:
        tracker = [self._loss_tracker] if self._loss_tracker is not None else []
        return tracker + [m for _, m, _ in getattr(self, "_compiled_metrics", [])]

    @property
    def metrics_names(self) -> list:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    # -- one step --------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """sum over outputs of loss_weight * loss(y, y_pred, sample_weight), plus model.losses."""
        if self._compile_loss is None:
            self._build_compile(y, _plain(y_pred))
        ys, ps = nest.flatten(y), nest.flatten(y_pred)
        terms = []
        for i, loss, weight in self._compile_loss:
            value = loss(ys[i], ps[i], sample_weight)
            terms.append(value if weight is None else value * weight)
        terms += [np.sum(extra) for extra in self.losses]
        if not terms:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        ys, ps = nest.flatten(y), nest.flatten(y_pred)
        for i, metric, weighted in self._compiled_metrics:
            metric.update_state(ys[i], ps[i], sample_weight if weighted else None)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        return {m.name: float(m.result()) for m in self.metrics}

    def _check_compiled(self) -> None:
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")

    def train_step(self, data) -> dict:
        x, y, sample_weight = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        batch = len(nest.flatten(x)[0])
        self._loss_tracker.update_state(_plain(loss), sample_weight=batch)
        weights = self.trainable_weights
        if weights:
            grads = tape.gradient(loss, weights)
            self.optimizer.apply_gradients(zip(grads, weights, strict=True))
        return self.compute_metrics(x, y, _plain(y_pred), sample_weight)

    def test_step(self, data) -> dict:
        x, y, sample_weight = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=len(nest.flatten(x)[0]))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    # -- loops ---------------------------------------------------------------------------
    def _batches(self, n: int, batch_size: int | None, shuffle: bool, rng) -> list:
        batch_size = batch_size or 32
        index = rng.permutation(n) if shuffle else np.arange(n)
        return [index[i : i + batch_size] for i in range(0, n, batch_size)]

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, seed=None):  # fmt: skip
        """Keras: Model.fit on arrays. Batches are taken in order (shuffle=False) or by a
        permutation per epoch from `np.random.default_rng(seed)` (Keras draws its own)."""
        self._check_compiled()
        if class_weight is not None or steps_per_epoch is not None:
            raise ValueError("fit: class_weight and steps_per_epoch are not supported.")
        x, y, sample_weight = _as_arrays(x), _as_arrays(y), _as_arrays(sample_weight)
        n = _cardinality(x, y, sample_weight)
        if validation_data is None and validation_split:
            split = int(n * (1.0 - validation_split))
            validation_data = tuple(_take(d, slice(split, None)) for d in (x, y, sample_weight))
            x, y, sample_weight = (_take(d, slice(0, split)) for d in (x, y, sample_weight))
            n = split
        if validation_data is not None:
            validation_data = tuple(validation_data) + (None,) * (3 - len(validation_data))
            _cardinality(*validation_data)
        verbose = 1 if verbose == "auto" else verbose
        rng = np.random.default_rng(seed)
        steps = math.ceil(n / (batch_size or 32))
        cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                            model=self, verbose=verbose, epochs=epochs,
                                            steps=steps)  # fmt: skip
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            for step, index in enumerate(self._batches(n, batch_size, shuffle, rng)):
                cbs.on_train_batch_begin(step)
                logs = self.train_step(tuple(_take(d, index) for d in (x, y, sample_weight)))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val = self.evaluate(*validation_data[:2], sample_weight=validation_data[2],
                                    batch_size=validation_batch_size or batch_size, verbose=0,
                                    return_dict=True)  # fmt: skip
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        if epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):  # fmt: skip
        """Keras: Model.evaluate: the loss and metrics over all batches (weighted by size)."""
        self._check_compiled()
        x, y, sample_weight = _as_arrays(x), _as_arrays(y), _as_arrays(sample_weight)
        n = _cardinality(x, y, sample_weight)
        self.reset_metrics()
        logs: dict = {}
        for index in self._batches(n, batch_size, False, None):
            logs = self.test_step(tuple(_take(d, index) for d in (x, y, sample_weight)))
        if verbose not in (0, "auto") and logs:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Keras: Model.predict: outputs of call(training=False), batch by batch, concatenated."""
        x = _as_arrays(x)
        n = _cardinality(x, None, None)
        batches = self._batches(n, batch_size, False, None)
        outs = [_plain(self(_take(x, index), training=False)) for index in batches]
        flat = [nest.flatten(o) for o in outs]
        joined = [np.concatenate([f[i] for f in flat]) for i in range(len(flat[0]))]
        return nest.pack_sequence_as(outs[0], joined)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):  # fmt: skip
        """Keras: Model.train_on_batch: one step on one batch; the logs are this batch's only
        (the metrics are reset first, as Keras 3.15 does)."""
        self._check_compiled()
        x, y, sample_weight = _as_arrays(x), _as_arrays(y), _as_arrays(sample_weight)
        _cardinality(x, y, sample_weight)
        self.reset_metrics()
        logs = self.train_step((x, y, sample_weight))
        return self._return(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Keras: Model.test_on_batch (resets the metrics first, as Keras does)."""
        self._check_compiled()
        x, y, sample_weight = _as_arrays(x), _as_arrays(y), _as_arrays(sample_weight)
        _cardinality(x, y, sample_weight)
        self.reset_metrics()
        return self._return(self.test_step((x, y, sample_weight)), return_dict)

    def predict_on_batch(self, x):
        return _plain(self(_as_arrays(x), training=False))

    @staticmethod
    def _return(logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
