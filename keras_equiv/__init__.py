"""The scratch MLP's twin in Keras: the same network, provably.

Importing this package imports TensorFlow (quietly); ``scratch`` never does.
"""

from .model import KerasMLP, build_model, compile_model

__all__ = ["KerasMLP", "build_model", "compile_model"]
