"""The differentiable primitives, one family per module.

Each module holds Primitive subclasses (the primitives) and the plain functions that validate
arguments and call them; ``tinygrad_cnn.functional`` re-exports the public ones.
"""
