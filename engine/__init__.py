"""perfopt-engine: declarative performance-optimization engine."""

__version__ = "0.1.0"
