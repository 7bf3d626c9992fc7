"""Configs in Keras's key order: `config.json` lists a layer's keys in the order get_config
returns them, so a port that builds its dict in another order writes another file."""

from __future__ import annotations


def keras_order(config: dict, keys: tuple) -> dict:
    """`config` with `keys` first, in that order (those present), then the others as they were."""
    out = {k: config[k] for k in keys if k in config}
    out.update((k, v) for k, v in config.items() if k not in out)
    return out


_BASE = ("name", "trainable", "dtype")
_RNN = (*_BASE, "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "zero_output_for_mask")  # fmt: skip
_INIT = ("kernel_initializer", "recurrent_initializer", "bias_initializer")
_REG = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
_CONS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")

# Keras 3.15's orders, as its get_config returns them (printed by parity_tests/test_configs_keras)
SIMPLE_RNN_CELL = (*_BASE, "units", "activation", "use_bias", *_INIT, *_REG, *_CONS, "dropout",
                   "recurrent_dropout", "seed")  # fmt: skip
LSTM_CELL = (*_BASE, "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
             *_INIT, *_REG, *_CONS, "dropout", "recurrent_dropout", "seed")  # fmt: skip
GRU_CELL = (*_BASE, "units", "activation", "recurrent_activation", "use_bias", *_INIT, *_REG,
            *_CONS, "dropout", "recurrent_dropout", "reset_after", "seed")  # fmt: skip
SIMPLE_RNN = (*_RNN, "units", "activation", "use_bias", *_INIT, *_REG, "activity_regularizer",
              *_CONS, "dropout", "recurrent_dropout")  # fmt: skip
LSTM = (*_RNN, "units", "activation", "recurrent_activation", "use_bias", *_INIT,
        "unit_forget_bias", *_REG, "activity_regularizer", *_CONS, "dropout", "recurrent_dropout",
        "seed")  # fmt: skip
GRU = (*_RNN, "units", "activation", "recurrent_activation", "use_bias", *_INIT, *_REG,
       "activity_regularizer", *_CONS, "dropout", "recurrent_dropout", "reset_after",
       "seed")  # fmt: skip
_CONV = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
         "use_bias")  # fmt: skip
CONV_TRANSPOSE = (*_BASE, "filters", "kernel_size", "strides", "padding", "output_padding")
DEPTHWISE_CONV = (*_BASE, "depth_multiplier", *_CONV, "depthwise_initializer",
                  "bias_initializer", "depthwise_regularizer", "bias_regularizer",
                  "activity_regularizer", "depthwise_constraint", "bias_constraint")  # fmt: skip
SEPARABLE_CONV = (*_BASE, "depth_multiplier", "filters", *_CONV, "depthwise_initializer",
                  "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
                  "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
                  "depthwise_constraint", "pointwise_constraint", "bias_constraint")  # fmt: skip
ELU = ("name", "alpha", "trainable", "dtype")
BINARY_FOCAL_CROSSENTROPY = ("name", "reduction", "from_logits", "label_smoothing", "axis",
                             "apply_class_balancing", "alpha", "gamma")  # fmt: skip
