"""Foley Studio: a desktop Foley editor with a local MultiFoley generative model."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("foley-studio")  # single source: pyproject.toml
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
