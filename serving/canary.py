"""When a canary is bad enough to roll back: error rate or p99 latency over a sliding window.

The thresholds are stated up front (flags of `tuner serve`, recorded in the rollback's reason): a canary
is judged only once it has answered `min_requests` requests, on its last `window` requests. Payload
errors (4xx) are the client's and never count against a version.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class CanaryPolicy:
    """Thresholds for an automatic rollback."""

    max_error_rate: float = 0.05
    max_p99_ms: float = 500.0
    min_requests: int = 50
    window: int = 200

    def describe(self) -> str:
        return (
            f"error rate > {self.max_error_rate:.0%} or p99 > {self.max_p99_ms:g} ms "
            f"over the last {self.window} requests (judged after {self.min_requests})"
        )


class CanaryMonitor:
    """Outcomes of one canary version; `record` returns a reason once a threshold is crossed."""

    def __init__(self, policy: CanaryPolicy, label: str) -> None:
        self.policy = policy
        self.label = label
        self._outcomes: deque[bool] = deque(maxlen=policy.window)
        self._latencies: deque[float] = deque(maxlen=policy.window)
        self._errors = 0
        self._seen = 0
        self.tripped: str | None = None

    def record(self, ok: bool, seconds: float) -> str | None:
        if self.tripped is not None:
            return None
        if len(self._outcomes) == self._outcomes.maxlen and not self._outcomes[0]:
            self._errors -= 1
        self._outcomes.append(ok)
        self._latencies.append(seconds)
        self._errors += not ok
        self._seen += 1
        count = len(self._outcomes)
        if self._seen < self.policy.min_requests:
            return None
        rate = self._errors / count
        if rate > self.policy.max_error_rate:
            self.tripped = (
                f"automatic rollback: canary {self.label} failed {self._errors} of its last {count} requests "
                f"({rate:.0%} > {self.policy.max_error_rate:.0%})"
            )
            return self.tripped
        if self._seen % 10 == 0:
            ordered = sorted(self._latencies)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
            if p99 > self.policy.max_p99_ms:
                self.tripped = (
                    f"automatic rollback: canary {self.label} p99 latency {p99:.1f} ms over its last {count} "
                    f"requests > {self.policy.max_p99_ms:g} ms"
                )
                return self.tripped
        return None
