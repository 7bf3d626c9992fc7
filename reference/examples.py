"""The tutorial layers this project grew from, ported to NumPy.

`CustomDense` is the seed: the layer of the French tutorial "Couche personnalisée avec
activation" (docs/fr/couche-personnalisee.md), with `units`, a `kernel` and a `bias` created in
`build`, and an activation in `call`. Its port changes `tf.matmul` -> `np.matmul` and
`tf.keras.activations.get` -> `reference.activations.get`, nothing else (the tutorial's own
formatting is kept, hence `fmt: off`, so that a test can diff it against the tutorial's text).

`MyDenseLayer` is the `MyDenseLayer(num_outputs)` of TensorFlow's English "Custom layers" guide,
kept because it is written in Keras 2's name-first `add_weight("kernel", shape=...)`, which the
reference accepts and Keras 3 rejects (see tf_layers.examples and docs/porting-guide.md).
"""

import numpy as np

from . import activations
from .layer import Layer


# fmt: off
class CustomDense(Layer):
    """The seed tutorial's layer: the smallest real Dense.

    Computes: y = activation(x @ kernel + bias), kernel (input_dim, units) glorot_uniform,
        bias (units,) zeros.
    Keras: keras.layers.Dense(units, activation=activation), weight for weight (same names,
        shapes, order and initializers); tf_layers.examples.CustomDense is the TF original.
    Differences: from Dense, no use_bias, initializer, regularizer, constraint or dtype
        arguments: the layer takes its dtype from reference.config (floatx / dtype_policy), as
        its Keras twin takes it from keras.config.
    """

    def __init__(self, units, activation=None):
        super().__init__()
        self.units = units
        self.activation = activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            "kernel",
            shape=[input_shape[-1], self.units],
            initializer="glorot_uniform",
            trainable=True
        )
        self.bias = self.add_weight(
            "bias",
            shape=[self.units],
            initializer="zeros",
            trainable=True
        )

    def call(self, inputs):
        return self.activation(np.matmul(inputs, self.kernel) + self.bias)
# fmt: on


class MyDenseLayer(Layer):
    """TensorFlow's English guide's dense layer without bias, in Keras 2's spelling.

    Computes: y = x @ kernel, kernel (input_dim, num_outputs) initialized glorot_uniform.
    Keras: tf_layers.examples.MyDenseLayer (the same tutorial code on TensorFlow).
    """

    def __init__(self, num_outputs):
        super(MyDenseLayer, self).__init__()  # noqa: UP008  (the tutorial's spelling)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel",
                                      shape=[int(input_shape[-1]),
                                             self.num_outputs])  # fmt: skip

    def call(self, inputs):
        return np.matmul(inputs, self.kernel)
