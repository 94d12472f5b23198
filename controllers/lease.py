"""One driver per experiment (and per pipeline run a server drives, `RunLeaseKeeper`): the store's lease
with a holder id, a heartbeat thread and stop requests.

Holder id: `host:pid:start:token`, the host name, the process id, the process's start time (seconds since
the epoch, two decimals) and a random token (several runs in one process, e.g. a notebook, differ by it).

Taking the lease (`LeaseKeeper.acquire`):
- free, expired or already ours -> taken (the store decides, under a row lock, on SQLite and PostgreSQL);
- held by a holder that is provably dead -> taken over at once, atomically (`replacing=` the dead holder):
  provably dead means same host AND (its pid no longer exists, or the pid's start time differs: the pid
  was reused). A holder on another host is never judged from here: it is taken over only after its lease
  expired (`ttl` seconds without renewal), so the rule holds on PostgreSQL across hosts (clocks kept in
  sync, e.g. NTP: expiry compares each host's clock with the time the holder wrote);
- otherwise -> `LeaseHeldError` naming the process and host that drive it. A second caller gets this
  error at once; it does not wait.

While held, a daemon thread renews the lease every `ttl / 3` seconds, so a loop blocked in a long call
(a slow suggestion, a full disk) keeps it; it also reads the experiment's stop request every
`watch_interval` seconds (`tuner experiments stop`, from any host). The holder counts the lease as lost
when the store says another holder took it or it was released, or when no renewal succeeded for
`2 * ttl / 3` seconds (the store unreachable): before anyone else may take it after expiry. The driver
checks `lost` before every pass and stops driving (`LeaseLostError`) without writing anything more.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass

import psutil

from tuner.errors import LeaseHeldError
from tuner.store import Store
from tuner.store.records import Lease, RunLease


class LeaseLostError(LeaseHeldError):
    """This process lost the experiment's lease (another holder took it over): it stopped driving it."""


@dataclass(frozen=True)
class Holder:
    """A parsed holder id (see the module docstring)."""

    host: str
    pid: int
    start: str  # the process's start time as written in the id ("" in ids without one)
    token: str

    @classmethod
    def parse(cls, holder: str) -> Holder | None:
        parts = holder.split(":")
        if len(parts) == 4 and parts[1].isdecimal():
            return cls(parts[0], int(parts[1]), parts[2], parts[3])
        if len(parts) == 3 and parts[1].isdecimal():  # written by an older tuner: no start time
            return cls(parts[0], int(parts[1]), "", parts[2])
        return None

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}"


def _start_time(pid: int) -> str | None:
    """The process's start time as holder ids write it, or None when no such process runs (a zombie,
    killed and not yet reaped, runs no more)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # ended, not yet reaped by its parent
            return None
        return f"{process.create_time():.2f}"
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:  # e.g. access denied: it exists, whatever it is
        return "?"


def _in_memory(store: Store) -> bool:
    url = str(getattr(store, "url", ""))
    return url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite:/"))


def new_holder_id() -> str:
    """The holder id of this process for one run."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}:{secrets.token_hex(4)}"


def provably_dead(holder: str) -> bool:
    """Whether the holder is a process of this host that no longer exists (its pid is gone or reused).

    A holder on another host, or an id this cannot read, is never proved dead: its lease must expire.
    """
    parsed = Holder.parse(holder)
    if parsed is None or parsed.host != socket.gethostname():
        return False
    started = _start_time(parsed.pid)
    if started is None:
        return True
    return bool(parsed.start) and started not in ("?", parsed.start)


def describe(holder: str) -> str:
    """A holder id for people: "process 123 on host-a"."""
    parsed = Holder.parse(holder)
    return str(parsed) if parsed else repr(holder)


class LeaseKeeper:
    """Takes, keeps (heartbeat thread) and gives up one experiment's lease; see the module docstring."""

    def __init__(
        self,
        store: Store,
        experiment_id: int,
        label: str,
        *,
        ttl: float = 30.0,
        watch_interval: float = 0.5,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.experiment_id = experiment_id
        self.label = label
        self.ttl = ttl
        self.watch_interval = min(watch_interval, ttl / 3)
        self.holder = holder or new_holder_id()
        self.lost = threading.Event()
        self.lost_reason = ""
        self.stop_requested = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0

    def acquire(self) -> None:
        """Take the lease (taking over a provably dead holder's at once), then start the heartbeat.

        Raises:
            LeaseHeldError: a live holder, or one on another host whose lease has not expired, drives it.
        """
        self._renewed = time.monotonic()
        try:
            self._acquire(self.holder, self.ttl)
        except LeaseHeldError:
            lease = self._get()
            try:
                if lease is not None and provably_dead(lease.holder):
                    self._acquire(self.holder, self.ttl, replacing=lease.holder)
                elif lease is not None:
                    raise self._held_by(lease.holder) from None
                else:  # released or expired in between
                    self._acquire(self.holder, self.ttl)
            except LeaseHeldError:
                now = self._get()
                if now is None:
                    raise
                raise self._held_by(now.holder) from None
        if _in_memory(self.store):  # one connection shared by all threads: no second thread on it; and no
            return  # other process can see this store, so nobody could take the lease or ask it to stop
        self._thread = threading.Thread(target=self._beat, name=f"lease {self.label}", daemon=True)
        self._thread.start()

    # the store's calls for the leased record (a subclass leases another kind of record)
    def _get(self) -> Lease | RunLease | None:
        return self.store.get_lease(self.experiment_id)

    def _acquire(self, holder: str, ttl: float, *, replacing: str | None = None) -> Lease | RunLease:
        return self.store.acquire_lease(self.experiment_id, holder, ttl, replacing=replacing)

    def _renew(self, holder: str, ttl: float) -> Lease | RunLease:
        return self.store.renew_lease(self.experiment_id, holder, ttl)

    def _release(self, holder: str) -> None:
        self.store.release_lease(self.experiment_id, holder)

    def _held_by(self, holder: str) -> LeaseHeldError:
        return LeaseHeldError(
            f"experiment {self.label} is already being run by {describe(holder)} (lease holder {holder!r}); "
            f"wait for it to finish, stop it with `tuner experiments stop {self.label.rpartition('/')[2]}`, "
            "or use another experiment name"
        )

    def check(self) -> None:
        """Raise LeaseLostError when the lease is lost (called by the driver before every pass)."""
        if self.lost.is_set():
            raise LeaseLostError(
                f"experiment {self.label}: this process ({describe(self.holder)}) lost its lease "
                f"({self.lost_reason}) and stopped driving it"
            )

    def close(self) -> None:
        """Stop the heartbeat and give the lease up (a lost lease is not ours to release)."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join()
        self._release(self.holder)

    def _beat(self) -> None:
        renew_every = self.ttl / 3
        while not self._closing.wait(self.watch_interval):
            lease: Lease | RunLease | None
            try:
                lease = self._get()
                due = time.monotonic() - self._renewed >= renew_every
                if due or lease is None or lease.holder != self.holder:
                    started = time.monotonic()
                    lease = self._renew(self.holder, self.ttl)
                    self._renewed = started
            except LeaseHeldError as exc:  # released, or taken by another holder
                self._lose(str(exc))
                return
            except Exception:  # the store unreachable (StoreError, driver errors): try again
                lease = None
            if lease is not None and lease.stop_requested_at is not None:
                self.stop_requested.set()
            if time.monotonic() - self._renewed >= 2 * self.ttl / 3:
                self._lose(f"no renewal for {2 * self.ttl / 3:g} s: the store could not be reached")
                return

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()


class RunLeaseKeeper(LeaseKeeper):
    """The same lease for a pipeline run (`record_id` is the run's id): several servers on one store never
    drive one run at once; a dead server's run is taken over at once on its host, elsewhere on expiry."""

    def _get(self) -> RunLease | None:
        return self.store.get_run_lease(self.experiment_id)

    def _acquire(self, holder: str, ttl: float, *, replacing: str | None = None) -> RunLease:
        return self.store.acquire_run_lease(self.experiment_id, holder, ttl, replacing=replacing)

    def _renew(self, holder: str, ttl: float) -> RunLease:
        return self.store.renew_run_lease(self.experiment_id, holder, ttl)

    def _release(self, holder: str) -> None:
        self.store.release_run_lease(self.experiment_id, holder)

    def _held_by(self, holder: str) -> LeaseHeldError:
        return LeaseHeldError(
            f"pipeline run {self.label} is already being driven by {describe(holder)} (lease holder {holder!r})"
        )
