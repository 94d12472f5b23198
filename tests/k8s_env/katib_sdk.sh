#!/usr/bin/env bash
# Install Katib's own Python SDK (kubeflow-katib) for tests/k8s/test_katib_sdk_on_apiserver.py, outside the
# project's virtual environment, as a Katib user's own environment: its pins (protobuf<5) would downgrade what
# onnx and kserve need (the parts used import fine beside protobuf 6), and the SDK passes its model objects
# where kubernetes 37 validates for a dict, and reads type names that kubernetes 36 spells differently
# (dict[str, str]), so it gets the last client it works with (35.0.0).
# Installed with --no-deps into a cache folder (TUNER_KATIB_SDK_CACHE, default ~/.cache/tuner-katib-sdk/<version>)
# that the test's SDK process puts first on PYTHONPATH. Prints the folder on stdout when ready.
set -euo pipefail
VERSION="${TUNER_KATIB_SDK_VERSION:-0.19.0}"
TRAINING_VERSION="${TUNER_KATIB_TRAINING_VERSION:-1.9.0}"
KUBERNETES_VERSION="${TUNER_KATIB_KUBERNETES_VERSION:-35.0.0}"
CACHE="${TUNER_KATIB_SDK_CACHE:-$HOME/.cache/tuner-katib-sdk/$VERSION-k$KUBERNETES_VERSION}"
PYTHON="${PYTHON:-python3}"
if [[ -f "$CACHE/.complete" ]]; then
  echo "$CACHE"
  exit 0
fi
rm -rf "$CACHE.partial"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --target "$CACHE.partial" \
  "kubeflow-katib==$VERSION" "kubeflow-training==$TRAINING_VERSION" "retrying>=1.3" "kubernetes==$KUBERNETES_VERSION" >&2
touch "$CACHE.partial/.complete"
rm -rf "$CACHE"
mv "$CACHE.partial" "$CACHE"
echo "$CACHE"
