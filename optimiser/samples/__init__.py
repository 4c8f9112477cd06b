"""Sample portfolios: not part of the planning tool itself.

:mod:`optimiser.samples.generate` writes realistic generated portfolios of any size for
the bundled samples (``sample_budgets/``), the tests and the benchmarks. Nothing in the
library core imports this subpackage (``tests/test_layout.py`` checks it).
"""
