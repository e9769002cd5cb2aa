"""The one version source: read by the package, the results it writes and the build (pyproject.toml)."""

__version__ = "0.1.0"
