"""Pure NumPy kernels with their forward and backward, shared by the layers of a family.

Layers hold state, configuration and the Keras API; the math lives here, in module-level
functions (as ONNX's reference evaluator keeps op math apart from its graph machinery).
"""
