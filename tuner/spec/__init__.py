"""The Experiment spec: Katib v1beta1-compatible models, loading, defaults and validation."""

from tuner.spec.parameters import Distribution, FeasibleSpace, ParameterSpec, ParameterType

__all__ = ["Distribution", "FeasibleSpace", "ParameterSpec", "ParameterType"]
