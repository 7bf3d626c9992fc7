"""Saving and loading weights in Keras 3's formats, with NumPy and (lazily imported) h5py only.

`save_weights(obj, path)` / `load_weights(obj, path)` read and write Keras 3 `.weights.h5` files
(the layout of keras.Model.save_weights) for layers and models; `Layer.save_weights` and
`Layer.load_weights` delegate here. Files are untrusted input: no pickle, no eval, nothing is
imported by a name read from a file, and a load is all or nothing. `load_model(path)` rebuilds
a Sequential or functional model from a Keras 3 `.keras` archive.
"""

from .keras_file import load_model, save_model
from .registry import register_serializable
from .serialization import deserialize_keras_object, serialize_keras_object
from .weights import load_weights, save_weights, walk

__all__ = [
    "deserialize_keras_object",
    "load_model",
    "load_weights",
    "register_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
    "walk",
]
