"""The Kubernetes side of the controller: a thin client interface, the trial workloads, and the operator."""
