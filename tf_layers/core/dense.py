"""Core layers of the TF twins: `Dense`, in raw TensorFlow ops."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations


class Dense(keras.layers.Layer):
    """Densely-connected layer.

    Computes: y = activation(bias_add(x @ kernel, bias)), x's last axis contracted with kernel's 0.
    Keras: keras.layers.Dense(units, activation, use_bias, ...), same arguments, weight names
        (`kernel` (in, units), then `bias` (units,)), InputSpec and config.
    Differences: LoRA (`lora_rank`, `lora_alpha`) and quantization (`quantization_config`, quantized
        dtype policies) raise NotImplementedError: the twin keeps only the layer's math.

    Args:
        units: positive int, the size of the last output axis.
        activation: name, callable or None (identity), looked up in `tf_layers.activations`.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: anything `keras.initializers.get` takes.
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers or None.
        kernel_constraint, bias_constraint: constraints or None.
        lora_rank, lora_alpha, quantization_config: must be None.

    Input shape: (batch, ..., in).
    Output shape: (batch, ..., units).
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive "
                f"integer. Received: units={units}"
            )
        if lora_rank is not None or lora_alpha is not None or quantization_config is not None:
            raise NotImplementedError(
                "tf_layers.Dense keeps only the layer's math: LoRA (`lora_rank`, `lora_alpha`) and "
                "`quantization_config` are not supported. Received: "
                f"lora_rank={lora_rank}, lora_alpha={lora_alpha}, "
                f"quantization_config={quantization_config}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if self.quantization_mode is not None:
            raise NotImplementedError(
                "tf_layers.Dense keeps only the layer's math: quantized dtype policies are not "
                f"supported. Received: dtype={self.dtype_policy.name}"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.quantization_config = quantization_config
        self.input_spec = keras.layers.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        # Keras stores the variable as `_kernel` behind a `kernel` property; so does the twin, so
        # that reading `kernel` before build fails the same way.
        self._kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._kernel

    def call(self, inputs, training=None):
        kernel = tf.convert_to_tensor(self.kernel)  # read once; under mixed precision, autocast
        if not inputs.dtype.is_floating:
            # Keras's matmul promotes integer inputs to the kernel's float dtype.
            inputs = tf.cast(inputs, kernel.dtype)
        rank = inputs.shape.rank
        if rank == 2:
            x = tf.matmul(inputs, kernel)
        else:
            x = tf.tensordot(inputs, kernel, [[rank - 1], [0]])
        if self.bias is not None:
            # BiasAdd, as Keras's `ops.add` picks for a vector bias: its gradient (BiasAddGrad)
            # sums in another order than the Add gradient's reduce_sum, 1 ulp apart at rank > 2.
            x = tf.nn.bias_add(x, self.bias)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        output_shape[-1] = self.units
        return tuple(output_shape)

    def get_config(self) -> dict:
        base_config = super().get_config()
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
        return {**base_config, **config}
