"""compile / fit / evaluate / predict / train_on_batch / test_on_batch, as keras.Model's."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _malloc, nest
from .. import callbacks as callbacks_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..autodiff import GradientTape
from ..autodiff.tracked import TrackedArray
from . import compile_utils as cu
from .data import EpochIterator, as_arrays, cardinality, check_sample_weight, take


def _plain(x: Any) -> Any:
    return nest.map_structure(lambda v: v.numpy() if isinstance(v, TrackedArray) else v, x)


def _concatenate(outputs: list) -> Any:
    """Per-batch outputs (each one structure of arrays) joined along the batch axis."""
    flat = [nest.flatten(o) for o in outputs]
    joined = [np.concatenate([f[i] for f in flat]) for i in range(len(flat[0]))]
    return nest.pack_sequence_as(outputs[0], joined)


def _for_output(sample_weight, i: int):
    """The sample weights of output i: one array per output, or the same for all."""
    if isinstance(sample_weight, list | tuple | dict):
        return nest.flatten(sample_weight)[i]
    return sample_weight


class Trainer:
    """The training loop of keras.Model (TF backend), one eager step at a time."""

    def _init_trainer(self) -> None:
        self.compiled = False
        self.optimizer = None
        self.steps_per_execution = 1
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._loss_tracker = None

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True) -> None:  # fmt: skip
        """Keras: Model.compile. Losses, metrics and the accuracy variant are resolved at the
        first batch, from the shapes of y and y_pred, as Keras does. With steps_per_execution
        N, fit, evaluate and predict call their batch callbacks once per N steps, as Keras
        (each step is still one update). Differences: a steps_per_execution that is not a
        positive integer is a ValueError here; Keras accepts it and fails (0, 1.5) or runs no
        step (-1) in fit; run_eagerly, jit_compile and auto_scale_loss change nothing."""
        if (
            not isinstance(steps_per_execution, numbers.Integral)
            or isinstance(steps_per_execution, bool)
            or steps_per_execution < 1
        ):
            raise ValueError(
                "compile: `steps_per_execution` must be a positive integer. Received: "
                f"steps_per_execution={steps_per_execution!r}"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.steps_per_execution = int(steps_per_execution)
        self._user_loss, self._user_loss_weights = loss, loss_weights
        self._user_metrics, self._user_weighted = metrics, weighted_metrics
        self._compile_loss = None
        self._compiled_metrics: list = []
        self._output_loss_trackers: list = []
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True
        self.stop_training = False

    @property
    def _output_names(self) -> list:
        outputs = getattr(self, "outputs", None) or [None]
        return [o._keras_history[0].name if o is not None else "output_0" for o in outputs]

    def _build_compile(self, y, y_pred) -> None:
        multi = len(nest.flatten(y_pred)) > 1
        names = self._output_names if multi else ["output"]
        ys, ps = nest.flatten(y), nest.flatten(y_pred)
        if len(ys) != len(ps):
            raise ValueError(
                f"Model '{self.name}' has {len(ps)} outputs, but y has {len(ys)} entries."
            )
        losses = cu.per_output(self._user_loss, names, "loss")
        weights = cu.per_output(self._user_loss_weights, names, "loss_weights")
        self._compile_loss = [
            (i, cu.get_loss(spec, ys[i], ps[i]), w)
            for i, (spec, w) in enumerate(zip(losses, weights, strict=True))
            if spec is not None
        ]
        # Keras's CompileLoss: a Mean of each unweighted loss, "<output>_loss", when several
        self._output_loss_trackers = []
        if len(self._compile_loss) > 1:
            self._output_loss_trackers = [
                metrics_module.Mean(name=f"{names[i]}_loss") for i, _, _ in self._compile_loss
            ]
        self._compiled_metrics = []
        for weighted, user in ((False, self._user_metrics), (True, self._user_weighted)):
            if user is None:
                continue
            per = cu.per_output(user, names, "metrics") if multi else [user]
            for i, specs in enumerate(per):
                for spec in specs if isinstance(specs, list | tuple) else [specs]:
                    if spec is None:
                        continue
                    metric = cu.get_metric(spec, ys[i], ps[i])
                    output = names[i] if multi else None
                    self._compiled_metrics.append(cu.CompiledMetric(i, metric, weighted, output))

    @property
    def metrics(self) -> list:
        """The loss tracker, the compiled metrics, then the per-output loss trackers."""
        tracker = [self._loss_tracker] if self._loss_tracker is not None else []
        compiled = [c.metric for c in getattr(self, "_compiled_metrics", [])]
        return tracker + compiled + list(getattr(self, "_output_loss_trackers", []))

    @property
    def metrics_names(self) -> list:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    # -- one step --------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """sum over outputs of loss_weight * loss(y, y_pred, sample_weight), plus model.losses;
        with several losses, each unweighted value also updates its "<output>_loss" Mean."""
        if self._compile_loss is None:
            self._build_compile(y, _plain(y_pred))
        ys, ps = nest.flatten(y), nest.flatten(y_pred)
        trackers = self._output_loss_trackers or [None] * len(self._compile_loss)
        terms = []
        for (i, loss, weight), tracker in zip(self._compile_loss, trackers, strict=True):
            value = loss(ys[i], ps[i], _for_output(sample_weight, i))
            if tracker is not None:
                tracker.update_state(_plain(value), sample_weight=len(ps[i]))
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
        for c in self._compiled_metrics:
            weights = _for_output(sample_weight, c.index) if c.weighted else None
            c.metric.update_state(ys[c.index], ps[c.index], weights)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """The logs, sorted by key as Keras 3.15's: loss, `<output>_<metric>`,
        `<output>_loss` (several outputs), `weighted_<metric>` for a repeated weighted one."""
        logs = {self._loss_tracker.name: self._loss_tracker.result()}
        logs.update(cu.metric_results(self._compiled_metrics))
        logs.update({m.name: m.result() for m in self._output_loss_trackers})
        return {k: cu.pythonify(logs[k]) for k in sorted(logs)}

    def _flatten_logs(self, logs: dict):
        """evaluate()'s list: Keras's _flatten_metrics_in_order."""
        names = [self._loss_tracker.name] + [c.metric.name for c in self._compiled_metrics]
        names += [m.name for m in self._output_loss_trackers]
        return cu.flatten_in_order(logs, names)

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
        permutation per pass from `np.random.default_rng(seed)` (Keras draws its own).
        class_weight becomes per-sample weights of the training part (one output only);
        sample_weight is one array, or one per output; validation_data is (x, y) or
        (x, y, sample_weight); validation_freq an int (every n-th epoch) or a list of 1-based
        epochs; steps_per_epoch takes batches from a pass that carries over across epochs."""
        _malloc.pin_thresholds()  # see _malloc.py: no page faults per step
        self._check_compiled()
        if not isinstance(validation_freq, int | list):
            raise ValueError(
                "Expected `validation_freq` to be a list or int. Received: validation_freq="
                f"{validation_freq} of the type {type(validation_freq)}."
            )
        x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
        n = cardinality(x, y, sample_weight)
        if validation_data is None and validation_split:
            split = int(n * (1.0 - validation_split))
            validation_data = tuple(take(d, slice(split, None)) for d in (x, y, sample_weight))
            x, y, sample_weight = (take(d, slice(0, split)) for d in (x, y, sample_weight))
            n = split
        sample_weight = check_sample_weight(y, sample_weight, class_weight)
        if validation_data is not None:
            if not isinstance(validation_data, list | tuple) or not 1 <= len(validation_data) <= 3:
                raise ValueError(
                    "fit: `validation_data` must be a tuple (x, y) or (x, y, sample_weight). "
                    f"Received: {type(validation_data).__name__}"
                )
            validation_data = tuple(validation_data) + (None,) * (3 - len(validation_data))
            validation_data = tuple(as_arrays(d) for d in validation_data)
            cardinality(*validation_data)
            check_sample_weight(validation_data[1], validation_data[2], None)
        verbose = 1 if verbose == "auto" else verbose
        iterator = EpochIterator(n, batch_size, steps_per_epoch, shuffle, seed)
        cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                            model=self, verbose=verbose, epochs=epochs,
                                            steps=iterator.steps)  # fmt: skip
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict = {}
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            for begin, end, chunk in iterator.epoch(self.steps_per_execution):
                cbs.on_train_batch_begin(begin)
                for index in chunk:
                    logs = self.train_step(tuple(take(d, index) for d in (x, y, sample_weight)))
                cbs.on_train_batch_end(end, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and self._should_eval(epoch, validation_freq):
                val = self.evaluate(*validation_data[:2], sample_weight=validation_data[2],
                                    batch_size=validation_batch_size or batch_size, verbose=0,
                                    steps=validation_steps, callbacks=cbs,
                                    return_dict=True)  # fmt: skip
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
                epoch_logs = {k: epoch_logs[k] for k in sorted(epoch_logs)}  # as Keras's
            cbs.on_epoch_end(epoch, epoch_logs)
            training_logs = logs = epoch_logs
            if self.stop_training:
                break
        if epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(training_logs)
        return self.history

    @staticmethod
    def _should_eval(epoch: int, validation_freq) -> bool:
        epoch += 1  # validation_freq counts epochs from 1, as Keras's
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        return epoch in validation_freq

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):  # fmt: skip
        """Keras: Model.evaluate: the loss and metrics over the batches (the first `steps`
        when given); a dict with return_dict, else Keras's ordered list (one value bare)."""
        _malloc.pin_thresholds()  # see _malloc.py: no page faults per step
        self._check_compiled()
        x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
        n = cardinality(x, y, sample_weight)
        check_sample_weight(y, sample_weight, None)
        iterator = EpochIterator(n, batch_size, steps, False)
        cbs = self._callback_list(callbacks, verbose)
        cbs.on_test_begin()
        self.reset_metrics()
        logs: dict = {}
        for begin, end, chunk in iterator.epoch(self.steps_per_execution):
            cbs.on_test_batch_begin(begin)
            for index in chunk:
                logs = self.test_step(tuple(take(d, index) for d in (x, y, sample_weight)))
            cbs.on_test_batch_end(end, logs)
        cbs.on_test_end(logs)
        if verbose not in (0, "auto") and logs:
            print(" - ".join(f"{k}: {float(np.mean(v)):.4f}" for k, v in logs.items()))
        return logs if return_dict else self._flatten_logs(logs)

    def _callback_list(self, callbacks, verbose):
        """fit's own CallbackList (validation inside fit), or a new one of the user's."""
        if isinstance(callbacks, callbacks_module.CallbackList):
            return callbacks
        return callbacks_module.CallbackList(callbacks, model=self, verbose=verbose)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Keras: Model.predict: outputs of call(training=False), batch by batch (the first
        `steps` when given), concatenated. Callbacks get on_predict_batch_end(end_step,
        {"outputs": ...}) once per execution, with that execution's outputs concatenated."""
        _malloc.pin_thresholds()  # see _malloc.py: no page faults per step
        x = as_arrays(x)
        n = cardinality(x, None, None)
        iterator = EpochIterator(n, batch_size, steps, False)
        cbs = self._callback_list(callbacks, verbose)
        cbs.on_predict_begin()
        outs: list = []
        for begin, end, chunk in iterator.epoch(self.steps_per_execution):
            cbs.on_predict_batch_begin(begin)
            done = [_plain(self(take(x, index), training=False)) for index in chunk]
            outs += done
            cbs.on_predict_batch_end(end, {"outputs": _concatenate(done)})
        cbs.on_predict_end()
        return _concatenate(outs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):  # fmt: skip
        """Keras: Model.train_on_batch: one step on one batch; the logs are this batch's only
        (the metrics are reset first, as Keras 3.15 does)."""
        self._check_compiled()
        x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
        cardinality(x, y, sample_weight)
        sample_weight = check_sample_weight(y, sample_weight, class_weight)
        _malloc.pin_thresholds()
        self.reset_metrics()
        logs = self.train_step((x, y, sample_weight))
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Keras: Model.test_on_batch (resets the metrics first, as Keras does)."""
        self._check_compiled()
        x, y, sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
        cardinality(x, y, sample_weight)
        _malloc.pin_thresholds()
        self.reset_metrics()
        logs = self.test_step((x, y, sample_weight))
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x):
        return _plain(self(as_arrays(x), training=False))
