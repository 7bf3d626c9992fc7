"""Callbacks, as keras.callbacks: hooks called by `fit` around epochs and batches."""

from __future__ import annotations

import csv
import math
import sys
import time
import warnings
from typing import Any

import numpy as np


class Callback:
    """Base class: override any of the `on_*` hooks. Keras: keras.callbacks.Callback."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class History(Callback):
    """Records the epoch logs: `history.history["loss"]` is one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Keras's progress output. verbose=1: a bar per epoch, updated each step, with the step
    count, ETA (then the epoch time and time per step) and the running loss and metrics;
    verbose=2: one line per epoch."""

    def __init__(self, verbose: int = 1, epochs: int = 1, steps: int | None = None, stream=None):
        super().__init__()
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.stream = stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")

    @staticmethod
    def _metrics(logs) -> str:
        # a vector result (F1Score per class) shows as its mean, as Keras's progress bar
        return "".join(f" - {k}: {float(np.mean(v)):.4f}" for k, v in (logs or {}).items())

    def _line(self, step: int, logs, final: bool) -> str:
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(step, 1)
        if final:
            timing = f"{elapsed:.0f}s {per_step * 1e3:.0f}ms/step"
        else:
            timing = f"{per_step * (self.steps - step):.0f}s"
            timing = f"ETA: {timing}" if self.steps else timing
        done = int(20 * step / self.steps) if self.steps else 20
        bar = "━" * done + " " * (20 - done)
        return f"\r{step}/{self.steps} {bar} {timing}{self._metrics(logs)}"

    def on_train_batch_end(self, batch, logs=None):
        # with steps_per_execution an execution's end step can pass the epoch's last one
        seen = min(batch + 1, self.steps) if self.steps else batch + 1
        if self.verbose == 1:
            self.stream.write(self._line(seen, logs, final=False))
            self.stream.flush()
        self._seen = seen

    def on_epoch_end(self, epoch, logs=None):
        steps = getattr(self, "_seen", self.steps)
        if self.verbose == 1:
            self.stream.write(self._line(steps, logs, final=True) + "\n")
        else:
            elapsed = time.perf_counter() - self._start
            self.stream.write(f"{steps}/{self.steps} - {elapsed:.0f}s - "
                              f"{elapsed / max(steps, 1) * 1e3:.0f}ms/step"
                              f"{self._metrics(logs)}\n")  # fmt: skip
        self.stream.flush()


class CallbackList:
    """Calls each hook on every callback, in order: the user's, then History, then the
    progress bar (Keras's order, so History records what the user's callbacks add to logs)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 verbose=1, epochs=1, steps=None):  # fmt: skip
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be reference.callbacks.Callback instances. Received: {cb!r}"
                )
        if add_history:
            self.callbacks.append(History())
        if add_progbar:
            self.callbacks.append(ProgbarLogger(verbose, epochs, steps))
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            args, kwargs = _pythonify_call(hook, args, kwargs)
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)

        return call


class MonitorCallback(Callback):
    """A callback that watches `monitor` in the epoch logs (Keras 3's MonitorCallback).

    mode="min"/"max" compare with < / >; "auto" picks < for "loss"/"val_loss", else the
    direction of the compiled metric of that name ("up": >, "down": <), resolved at the first
    on_epoch_end; a name with neither raises ValueError there. An unknown mode warns and falls
    back to "auto". min_delta is taken with the sign that makes an improvement harder.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=3)  # fmt: skip
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = np.less
            for c in getattr(self.model, "_compiled_metrics", None) or []:
                direction = getattr(c.metric, "_direction", None)
                if c.metric.name == name and direction is not None:
                    self.monitor_op = np.greater if direction == "up" else np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Keras "
                    "isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, value, reference) -> bool:
        return reference is None or bool(self.monitor_op(value - self.min_delta, reference))


class EarlyStopping(MonitorCallback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    Keras: keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=0,
    verbose=0, mode="auto", baseline=None, restore_best_weights=False, start_from_epoch=0).
    With restore_best_weights, the best epoch's weights are restored when it stops (and, as
    Keras 3, at the end of training when the best epoch was not the last).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):  # fmt: skip
        super().__init__(monitor, mode, None, min_delta)
        self.patience, self.verbose = patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = None
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs or {})}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")  # fmt: skip
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to schedule(epoch, lr).

    Keras: keras.callbacks.LearningRateScheduler(schedule, verbose=0); logs "learning_rate".
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.schedule(epoch, float(self.model.optimizer.learning_rate)))
        if not isinstance(lr, float) or math.isnan(lr):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr}")
        self.model.optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` after `patience` epochs without improvement.

    Keras: keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=10,
    verbose=0, mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0).
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):  # fmt: skip
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.wait = self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")  # fmt: skip
                    self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, with a message.

    Keras: keras.callbacks.TerminateOnNaN().
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one CSV row per epoch: epoch, then the logs in sorted key order.

    Keras: keras.callbacks.CSVLogger(filename, separator=",", append=False).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = filename, separator, append
        self.keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.sep)  # fmt: skip
            if not self.append:
                self._writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update({k: logs.get(k, "NA") for k in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


def pythonify_logs(logs) -> dict:
    """Keras's python_utils.pythonify_logs: None becomes {}; keys sorted; nested dicts
    flattened into the top level; each value float(value) where that works (a vector metric
    such as F1Score's, or predict's batch outputs, stays as it is)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


def _pythonify_call(hook: str, args: tuple, kwargs: dict) -> tuple:
    """A hook's arguments with its `logs` (the last positional, or the keyword) pythonified,
    as Keras's CallbackList does for every hook before calling the callbacks."""
    position = 1 if "batch" in hook or "epoch" in hook else 0  # (batch/epoch, logs) or (logs,)
    if "logs" in kwargs:
        return args, {**kwargs, "logs": pythonify_logs(kwargs["logs"])}
    if len(args) > position:
        return (*args[:position], pythonify_logs(args[position]), *args[position + 1 :]), kwargs
    return args, {**kwargs, "logs": pythonify_logs(None)}
