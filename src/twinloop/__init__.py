"""twinloop: digital twins of electric vehicles, and TwinOps.

The public API lives in the subpackages; see ``docs/`` for the guide.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
