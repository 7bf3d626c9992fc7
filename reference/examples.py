"""The seed tutorial's custom layer (TensorFlow's "Custom layers" guide), ported to NumPy.

The only change from the TensorFlow code is `tf.matmul` -> `np.matmul`: the reference accepts
Keras 2's name-first `add_weight("kernel", ...)`, which Keras 3 rejects (see
tf_layers.examples and docs/porting-guide.md).
"""

import numpy as np

from .layer import Layer


class MyDenseLayer(Layer):
    """The tutorial's dense layer without bias.

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
