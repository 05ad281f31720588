"""The teaching page's "no change" baseline: the same preset and seed run without the class's
lever moves, so every chart can show, faintly, where the system would have gone anyway.

Why in another process, and shared: the baseline doubles the simulation's work, and the page
has to step at 10 weeks a second on a 2-core school laptop (issue 14). The model is numpy code
that holds Python's GIL most of the time, so a baseline stepped on a thread of the server
would take its time from the page's own model. A baseline depends only on what the page's
model was built from (app configuration, preset, seed, the for-profit share chosen on Reset),
never on the levers moved since, so it is computed ahead, in one worker process per server
(the second core), and kept by that key: a class of thirty on the same preset and seed shares
one baseline. The worker keeps its models between requests and runs each key ahead of the
furthest page by :data:`AHEAD` weeks, :data:`CHUNK` weeks at a time. Until a page's first
lever move the baseline *is* the page's own run, so the page draws its own series and asks the
worker for nothing; at the first move it hands the worker a copy of its model as it stands
(:meth:`Baselines.fork`), which the worker continues without the move.

Same seed, same numbers: the model draws from one numpy stream per mechanism
(``model.streams``), so until the first lever move the baseline and the page's run are the same
run, week for week (``tests/test_app.py`` checks it); after a move they share every stream but
the draws the move changes. Full common random numbers (the policies issue) will tighten that
later; until then part of any gap between the two lines after a move is chance.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np

#: Weeks the worker runs a baseline ahead of the furthest page that asked for it (it steps
#: at 20-37 weeks a second, faster than any page, so half a year keeps it ahead).
AHEAD = 26
#: Weeks run per request to the worker (a request is one call; smaller: more round trips).
CHUNK = 26
#: Baseline models the worker keeps alive (13+ MB each); the oldest is dropped beyond this and
#: rebuilt from its seed if it is asked for again. Series are always kept (a few kB a year).
KEEP_MODELS = 4
#: The most weeks a baseline is run (ten years: longer than any lesson).
MAX_WEEKS = 520

Key = tuple  # (AppConfig as a tuple of items, preset, seed, overrides as sorted items)


def key_of(config: Any, preset: str, seed: int, overrides: dict[str, Any] | None) -> Key:
    """The baseline's identity: everything the page's model was built from."""
    return (tuple(sorted(asdict(config).items())), str(preset), int(seed),
            tuple(sorted((overrides or {}).items())))


# --- the worker process ---------------------------------------------------------------------

_MODELS: OrderedDict[Key, Any] = OrderedDict()


def _watch_parent(parent: int) -> None:
    """Leave when the server does (even when it was killed and could not tell us)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2.0)
        os._exit(0)
    threading.Thread(target=watch, name="cscsim-baseline-watch", daemon=True).start()


def _adopt(key: Key, blob: bytes, have: int, weeks: int) -> dict[str, list[float]]:
    """In the worker: take a page's model, pickled just before its first lever move, as the
    baseline ``key`` (unless the worker's own is already as far on), and return its series
    from week index ``have`` on."""
    import pickle

    model = _MODELS.get(key)
    if model is None or model.weeks_run < weeks:
        model = pickle.loads(blob)
        _MODELS[key] = model
    _MODELS.move_to_end(key)
    while len(_MODELS) > KEEP_MODELS:
        _MODELS.popitem(last=False)
    return {k: list(v[have:]) for k, v in model.history.items()}


def _warm_up() -> None:
    """In the worker: import the model now (about 2 CPU seconds), not on the first request."""
    import sim.workflows.mapview  # noqa: F401


def _advance(key: Key, have: int, upto: int) -> dict[str, list[float]]:
    """In the worker: run the baseline ``key`` to ``upto`` reported weeks and return its series
    from week index ``have`` on."""
    from sim.workflows.mapview import AppConfig, TeachingModel

    model = _MODELS.pop(key, None)
    if model is None:
        config, preset, seed, overrides = key
        model = TeachingModel(preset=preset, seed=seed, config=AppConfig(**dict(config)),
                              overrides=dict(overrides))
    _MODELS[key] = model  # most recently used last
    while len(_MODELS) > KEEP_MODELS:
        _MODELS.popitem(last=False)
    while model.weeks_run < upto:
        model.step()
    return {k: list(v[have:]) for k, v in model.history.items()}  # (all of it is kept)


# --- the server's side ----------------------------------------------------------------------


class Baselines:
    """The server's baselines: series by key, filled by one worker process on demand.

    :meth:`series` never waits: it returns what has been computed (possibly nothing yet) and,
    if that is not far enough ahead, asks the worker for more. If the worker cannot be started
    or dies, :attr:`error` says why and the page simply draws no baseline.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # (a request's callback may take it on this thread)
        self._series: dict[Key, dict[str, list[float]]] = {}
        self._pending: dict[Key, Future] = {}
        self._pool: ProcessPoolExecutor | None = None
        self.error: str | None = None

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._pool is None and self.error is None:
            import multiprocessing

            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent, initargs=(os.getpid(),))
                atexit.register(self.close)
            except (OSError, RuntimeError) as e:
                self.error = f"no baseline: its worker process did not start ({e})"
        return self._pool

    def start(self) -> None:
        """Start the worker and its imports now (the server calls it before serving), so the
        first lever move of a lesson does not wait for them."""
        pool = self._executor()
        if pool is not None:
            with contextlib.suppress(RuntimeError):
                pool.submit(_warm_up)

    def series(self, key: Key, weeks: int) -> dict[str, np.ndarray]:
        """The baseline's weekly series computed so far (``TeachingModel.SERIES``; empty
        before the first chunk arrives), asking for more when fewer than ``weeks`` +
        :data:`AHEAD` weeks are ready."""
        with self._lock:
            have = self._series.get(key, {})
            n = len(have.get("week", ()))
            want = min(weeks + AHEAD, MAX_WEEKS)
            if n < want and key not in self._pending:
                self._request(key, n, min(n + max(CHUNK, want - n), MAX_WEEKS))
            return {k: np.asarray(v, float) for k, v in have.items()}

    def fork(self, key: Key, model: Any, as_class: type) -> None:
        """Start the baseline ``key`` from ``model``, a page's model just before its first
        lever move (pickled as ``as_class``): until then the two are the same run, so the
        worker continues from here instead of running the warm start and every week again
        (13 ms to pickle here, against seconds of the worker's CPU). Nothing is done when the
        baseline is already this far on or on its way."""
        import pickle

        with self._lock:
            have = len(self._series.get(key, {}).get("week", ()))
            if have >= model.weeks_run or key in self._pending:
                return
            own = model.__class__
            try:
                model.__class__ = as_class
                blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                return  # the worker will run it from the start instead
            finally:
                model.__class__ = own
            self._request(key, have, model.weeks_run, blob=blob)

    def _request(self, key: Key, have: int, upto: int, blob: bytes | None = None) -> None:
        pool = self._executor()
        if pool is None:
            return
        try:
            fut = (pool.submit(_advance, key, have, upto) if blob is None
                   else pool.submit(_adopt, key, blob, have, upto))
        except RuntimeError as e:  # the pool is broken or shut down
            self.error = f"no baseline: its worker process stopped ({e})"
            return
        self._pending[key] = fut
        fut.add_done_callback(lambda f, k=key, h=have: self._arrived(k, h, f))

    def _arrived(self, key: Key, have: int, fut: Future) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is not None:
                self.error = f"no baseline: {type(exc).__name__}: {exc}"
                return
            rows = fut.result()
            cur = self._series.setdefault(key, {k: [] for k in rows})
            if len(cur.get("week", ())) == have:  # else a duplicate: already have these
                for k, v in rows.items():
                    cur.setdefault(k, []).extend(v)

    def wait(self, key: Key, weeks: int, timeout: float = 120.0) -> dict[str, np.ndarray]:
        """The baseline's first ``weeks`` weeks, waiting for them (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.series(key, weeks)
            if len(s.get("week", ())) >= weeks or self.error:
                return s
            if time.monotonic() > deadline:
                raise TimeoutError(f"baseline not ready in {timeout:.0f} s")
            time.sleep(0.1)

    def close(self) -> None:
        """Stop the worker (at exit; it also leaves by itself when the server dies)."""
        if self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


_SHARED_LOCK = threading.Lock()
_ONE: dict[type, object] = {}


def _one(cls: type) -> Any:
    """This process's one instance of ``cls``, made on first use (every session shares it)."""
    with _SHARED_LOCK:
        if cls not in _ONE:
            _ONE[cls] = cls()
        return _ONE[cls]


def shared() -> Baselines:
    """The one :class:`Baselines` of this process (every session of the server uses it)."""
    return _one(Baselines)


# --- warm starts shared between sessions ------------------------------------------------------

#: Warm-started models kept (pickled, about 10 MB each at the teaching scale).
KEEP_WARM = 3


class WarmStarts:
    """Models at week 0, just after their warm start, by :func:`key_of`, pickled.

    Why: a page's model starts from a 20-year warm start (sim/snapshot.py), loaded from disk
    when an earlier run saved it: a class of thirty opening the page at once would otherwise
    unpickle thirty copies from disk, or queue thirty warm starts the first time. A later page on
    the same preset and seed gets an unpickled copy instead (under 0.1 s); the copy steps week
    for week as the original does (``tests/test_app.py`` checks it)."""

    def __init__(self, keep: int = KEEP_WARM) -> None:
        self._lock = threading.Lock()
        self._blobs: OrderedDict[Key, bytes] = OrderedDict()
        self.keep = keep

    def get(self, key: Key) -> Any | None:
        """A fresh copy of the warm-started model ``key``, or None if none is kept."""
        import pickle

        with self._lock:
            blob = self._blobs.get(key)
            if blob is None:
                return None
            self._blobs.move_to_end(key)
        return pickle.loads(blob)

    def put(self, key: Key, model: Any, as_class: type) -> None:
        """Keep a copy of ``model`` (at week 0), pickled as ``as_class`` (a page's model class
        is local to the page and cannot be pickled by name). A model that cannot be pickled
        is simply not kept."""
        import pickle

        own = model.__class__
        try:
            model.__class__ = as_class
            blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        finally:
            model.__class__ = own
        with self._lock:
            self._blobs[key] = blob
            self._blobs.move_to_end(key)
            while len(self._blobs) > self.keep:
                self._blobs.popitem(last=False)


def warm_starts() -> WarmStarts:
    """The one :class:`WarmStarts` of this process."""
    return _one(WarmStarts)
