"""The harness: prove that two implementations of the comparison protocol agree.

>>> import compare
>>> report = compare.compare(a, b, x, y, epochs=5, learning_rate=0.1)  # doctest: +SKIP
>>> compare.assert_equivalent(a, b, x, y, epochs=5, batch_size=32)  # doctest: +SKIP

``import compare`` needs NumPy, pandas and tabulate; TensorFlow is imported
only when the Keras side is built (by the ``mlp-compare`` command).
"""

from .causes import Cause
from .harness import SideError, assert_equivalent, compare, parameter_names
from .report import table
from .results import Check, Localisation, Report
from .tolerances import DEFAULT_RTOL, Tolerance, measure, relative_error, tolerance_for

__all__ = [
    "DEFAULT_RTOL",
    "Cause",
    "Check",
    "Localisation",
    "Report",
    "SideError",
    "Tolerance",
    "assert_equivalent",
    "compare",
    "measure",
    "parameter_names",
    "relative_error",
    "table",
    "tolerance_for",
]
