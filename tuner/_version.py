"""The distribution's version, in one place (read by setuptools and `tuner --version`)."""

__version__ = "0.1.0"
