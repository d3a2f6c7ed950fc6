"""smartclass: the command line, the demo and the tools that start a whole system."""

__version__ = "0.1.0"
__all__ = ["__version__"]
