# ruff: noqa: UP008
"""The seed of this project: the `MyDenseLayer` of TensorFlow's "Custom layers" tutorial.

The tutorial was written for Keras 2. On today's TensorFlow, `tf.keras` is Keras 3, whose
`add_weight` takes `shape` as its first positional argument, so the verbatim class fails at build:

    ValueError: `name` must be passed as a keyword argument. Received: add_weight('kernel', ...).
    Use: add_weight(shape=..., name='kernel').

`MyDenseLayer` below is the tutorial with that one line changed (`name="kernel"`);
`make_keras2_tutorial_layer` runs the verbatim class on Keras 2 (`tf_keras`), imported only when
called. The classes keep the tutorial's own formatting (hence `fmt: off` and the file-level noqa
for `super(MyDenseLayer, self)`), so a test can check them against `verbatim_tutorial_source`.
"""

from __future__ import annotations

import types

import tensorflow as tf

_tf_matmul = tf.matmul  # for the Keras 2 namespace below, whose local `tf` shadows this module's

#: The tutorial's class, character for character (TensorFlow guide "Custom layers").
verbatim_tutorial_source = """\
class MyDenseLayer(tf.keras.layers.Layer):
  def __init__(self, num_outputs):
    super(MyDenseLayer, self).__init__()
    self.num_outputs = num_outputs

  def build(self, input_shape):
    self.kernel = self.add_weight("kernel",
                                  shape=[int(input_shape[-1]),
                                         self.num_outputs])

  def call(self, inputs):
    return tf.matmul(inputs, self.kernel)
"""


# fmt: off
class MyDenseLayer(tf.keras.layers.Layer):
  def __init__(self, num_outputs):
    super(MyDenseLayer, self).__init__()
    self.num_outputs = num_outputs

  def build(self, input_shape):
    self.kernel = self.add_weight(name="kernel",
                                  shape=[int(input_shape[-1]),
                                         self.num_outputs])

  def call(self, inputs):
    return tf.matmul(inputs, self.kernel)
# fmt: on


# Set outside the class so that its body differs from the tutorial's by exactly one line.
MyDenseLayer.__doc__ = """The tutorial's dense layer without bias, on Keras 3.

    Computes: y = x @ kernel, kernel of shape (in, num_outputs), glorot_uniform initialized.
    Keras: keras.layers.Dense(num_outputs, use_bias=False).
    Differences: from the tutorial, only `add_weight(name="kernel", ...)` (Keras 3 refuses a
        positional name); from Dense, no bias, activation or config arguments.
    """


def make_keras2_tutorial_layer(num_outputs: int):
    """Builds the verbatim tutorial layer on Keras 2 (`tf_keras`) and returns an instance.

    Computes: y = x @ kernel, as `MyDenseLayer`.
    Keras: the tutorial as it ran with TF_USE_LEGACY_KERAS=1 (tf.keras -> tf_keras).
    Differences: none from the tutorial's text; `tf` inside is a namespace whose `keras` is
        `tf_keras` and whose `matmul` is `tf.matmul`, so the class statement stays verbatim without
        touching any environment variable.
    """
    import tf_keras

    tf = types.SimpleNamespace(keras=tf_keras, matmul=_tf_matmul)

    # fmt: off
    class MyDenseLayer(tf.keras.layers.Layer):
      def __init__(self, num_outputs):
        super(MyDenseLayer, self).__init__()
        self.num_outputs = num_outputs

      def build(self, input_shape):
        self.kernel = self.add_weight("kernel",
                                      shape=[int(input_shape[-1]),
                                             self.num_outputs])

      def call(self, inputs):
        return tf.matmul(inputs, self.kernel)
    # fmt: on

    return MyDenseLayer(num_outputs)
