"""Train a small classifier in pure NumPy (the reference) on scikit-learn's bundled digits.

The 8x8 digit images ship inside scikit-learn (no download). A 64-64-10 MLP with Adam trains
for 30 epochs on 80% of the 1,797 images and is scored on the other 20%; the script prints the
test accuracy, fails if it is below 0.95, and writes the loss and accuracy curves to a PNG.

    python -m pip install -e ".[examples]"
    python examples/train_digits.py --png examples/digits_training.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import reference  # noqa: E402
from reference.layers import Dense  # noqa: E402

TARGET = 0.95


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--png", default=str(Path(__file__).with_name("digits_training.png")))
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]

    model = reference.Sequential([reference.Input((64,)), Dense(64, activation="relu"),
                                  Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer=reference.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    model.summary()
    history = model.fit(x[train], y[train], batch_size=32, epochs=args.epochs, verbose=2,
                        validation_data=(x[test], y[test]), seed=0)  # fmt: skip
    loss, accuracy = model.evaluate(x[test], y[test], verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} (target >= {TARGET})")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = history.history
    epochs = np.arange(1, len(h["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, h["loss"], label="train")
    ax1.plot(epochs, h["val_loss"], label="test")
    ax1.set(title="loss (sparse categorical cross-entropy)", xlabel="epoch")
    ax2.plot(epochs, h["accuracy"], label="train")
    ax2.plot(epochs, h["val_accuracy"], label="test")
    ax2.set(title="accuracy", xlabel="epoch", ylim=(0.5, 1.0))
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle("64-64-10 MLP on sklearn digits, trained in NumPy (reference.Sequential)")
    fig.tight_layout()
    fig.savefig(args.png, dpi=90)
    print(f"wrote {args.png}")
    if accuracy < TARGET:
        raise SystemExit(f"test accuracy {accuracy:.4f} is below the target {TARGET}")
    return accuracy


if __name__ == "__main__":
    main()
