"""Error classes that let an ``except`` written for PyTorch's exception type catch ours.

PyTorch raises RuntimeError where Python's conventions ask for ValueError, TypeError or
IndexError (and sometimes the reverse); each class here derives from both.
"""


class ArgumentError(ValueError, RuntimeError):
    """Arguments an operation cannot take (a shape, a size, a setting): PyTorch raises
    RuntimeError for most and ValueError for some, so an ``except`` written for either catches it."""


class DtypeError(TypeError, RuntimeError):
    """Tensors of dtypes that cannot go together: TypeError here, RuntimeError in PyTorch."""


class IndexRangeError(IndexError, RuntimeError):
    """An index outside its dimension: PyTorch raises IndexError for some operations and
    RuntimeError for others."""


class NotImplementedArgumentsError(ValueError, NotImplementedError):
    """Arguments that PyTorch has no implementation for (it raises NotImplementedError): an
    ``except`` written for either class catches it."""


class CheckError(ValueError, AssertionError):
    """A condition PyTorch checks with ``assert`` (an AssertionError there), such as the sizes
    of the tensors given to ``TensorDataset``: an ``except`` written for either class catches it."""
