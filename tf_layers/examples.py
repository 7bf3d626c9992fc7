# ruff: noqa: UP008
"""The tutorial layers this project grew from, on TensorFlow: the seed's `CustomDense`, then the
`MyDenseLayer` of TensorFlow's English "Custom layers" guide.

`CustomDense` is the layer of the French tutorial "Couche personnalisée avec activation" (the
seed; docs/fr/couche-personnalisee.md): `units`, a `kernel` and a `bias` created in `build` with
the tutorial's own `add_weight` calls, and `call` = `tf.matmul(inputs, self.kernel) + self.bias`
under the activation the tutorial's title announces, looked up in `tf_layers.activations` (raw
tf ops, as the reference port looks it up in `reference.activations`: stock Keras Dense, the
third oracle, brings Keras's own activations). `verbatim_seed_source` holds the tutorial's
two snippets; `make_keras2_seed_layer` runs them verbatim on Keras 2 (`tf_keras`), and
`CustomDense` is the same class on Keras 3, with the one change Keras 3 forces: `name=` as a
keyword in `add_weight`.

The English guide's `MyDenseLayer` was also written for Keras 2. On today's TensorFlow,
`tf.keras` is Keras 3, whose `add_weight` takes `shape` as its first positional argument, so
the verbatim class fails at build:

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

from tf_layers import activations

_tf_matmul = tf.matmul  # for the Keras 2 namespaces below, whose local `tf` shadows this module's

#: The seed tutorial's two snippets ("Couche personnalisée avec activation"), in its own words.
verbatim_seed_source = """\
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
    return tf.matmul(inputs, self.kernel) + self.bias
"""


# fmt: off
class CustomDense(tf.keras.layers.Layer):
    def __init__(self, units, activation=None):
        super().__init__()
        self.units = units
        self.activation = activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=[input_shape[-1], self.units],
            initializer="glorot_uniform",
            trainable=True
        )
        self.bias = self.add_weight(
            name="bias",
            shape=[self.units],
            initializer="zeros",
            trainable=True
        )

    def call(self, inputs):
        return self.activation(tf.matmul(inputs, self.kernel) + self.bias)
# fmt: on


CustomDense.__doc__ = """The seed tutorial's layer on Keras 3: the smallest real Dense.

    Computes: y = activation(x @ kernel + bias), kernel (in, units) glorot_uniform, bias zeros.
    Keras: keras.layers.Dense(units, activation=activation), weight for weight.
    Differences: from the tutorial, `name=` as a keyword in both add_weight calls (Keras 3
        refuses a positional name) and the activation the title announces; from Dense, no
        use_bias, initializer, regularizer, constraint or dtype arguments (the dtype comes from
        keras.config.floatx()).
    """


def make_keras2_seed_layer(units: int, activation=None):
    """Builds the seed layer on Keras 2 (`tf_keras`) with the tutorial's snippets verbatim.

    Computes: y = activation(x @ kernel + bias), as `CustomDense`.
    Keras: the tutorial as it ran with TF_USE_LEGACY_KERAS=1 (tf.keras -> tf_keras).
    Differences: none in build; call applies the activation to the tutorial's expression.
    """
    import tf_keras

    tf = types.SimpleNamespace(keras=tf_keras, matmul=_tf_matmul)

    # fmt: off
    class CustomDense(tf.keras.layers.Layer):
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
            return self.activation(tf.matmul(inputs, self.kernel) + self.bias)
    # fmt: on

    return CustomDense(units, activation)


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
