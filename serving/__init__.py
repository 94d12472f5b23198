"""Serving: logging models from trials, the registry's rules, and the inference server.

An engine package (see docs/architecture.md): it imports the tuner core (store, artifacts, config,
errors) and nothing else of the project. The CLI (`tuner models ...`, `tuner serve`) lives in `tuner.cli`.

    serving.signature   tensor specs, signature inference from an input example, V2 datatypes
    serving.flavors     how each kind of model is saved and loaded (sklearn, python, onnx)
    serving.logged      `tuner.log_model`: save a model as an output artifact of the running trial
    serving.uris        `models:/NAME/3`, `models:/NAME@alias`
    serving.registry    registered models, versions, aliases, promotion, canary and rollback records
    serving.server      the Open Inference Protocol V2 (and V1) server behind `tuner serve`
    serving.render      Kubernetes manifests for a model alias (KServe or Deployment + Service)
"""

from __future__ import annotations
