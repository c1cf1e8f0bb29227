"""Parser processes with a budget: no document may hang a refresh or eat the machine.

Documents come from outside, and a few bytes can ask for hours of work (a recurrence rule
dateutil never finishes, a rule whose BY parts multiply to millions of instants). Rules are
checked before expansion (aggregator.parse.rrule), and as a last line every document is
parsed in a parser process under a CPU-time and memory budget:

- CPU: a profiling timer (process CPU time) interrupts the parse at the budget; a hard
  RLIMIT_CPU a little above it ends the process if the parse is stuck in C code;
- memory: RLIMIT_AS caps the process's address space, so an allocation past it fails with
  MemoryError instead of growing until the kernel's OOM killer picks a victim.

A document over budget is a failed fetch with a clear error (the source keeps its last good
events); the process survives and parses the next one. The web process never parses a
document itself: the admin preview and refresh go through here too.
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    cpu_seconds: float = 60.0
    memory_bytes: int = 1024 * 1024 * 1024


class OverBudget(Exception):
    """A document cost more than its budget; worded for the admin."""


class ParserDied(Exception):
    """The parser process ended while holding the document (killed, out of memory)."""


class _CpuSpent(BaseException):
    """BaseException: the parsers' per-event `except Exception` guards must not swallow it."""


def _on_timer(signum: int, frame: Any) -> None:
    raise _CpuSpent


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


def init_worker(memory_bytes: int) -> None:
    """Runs once in each parser process."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + memory_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.signal(signal.SIGPROF, _on_timer)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def within(cpu_seconds: float, memory_bytes: int, fn: Callable[..., T], *args: Any) -> T:
    """Run fn(*args) in this (parser) process within the budget, or raise OverBudget."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    backstop = int(_cpu_used() + 2 * cpu_seconds + 5)
    if hard != resource.RLIM_INFINITY:
        backstop = min(backstop, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (backstop, hard))
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        return fn(*args)
    except _CpuSpent:
        raise OverBudget(
            f"Analyse trop longue (plus de {cpu_seconds:g} s de calcul) : document ignoré, "
            "les événements connus sont conservés"
        ) from None
    except MemoryError:
        raise OverBudget(
            f"Analyse trop gourmande (plus de {memory_bytes // 1_000_000} Mo de mémoire) : "
            "document ignoré, les événements connus sont conservés"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def parser_pool(processes: int, budget: Budget, preload: str) -> ProcessPoolExecutor:
    # forkserver, not fork: the caller has threads (fetchers, a scheduler, a web server),
    # and a child forked in the middle of one of their locks would hang.
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that imported the parsers once, not each on its own.
    context.set_forkserver_preload([preload])
    return ProcessPoolExecutor(
        processes, mp_context=context, initializer=init_worker, initargs=(budget.memory_bytes,)
    )


def discard(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down, even a broken one: a surviving worker may be blocked writing its
    result into a pipe nobody reads any more, and shutdown() would wait for it forever
    (seen on CPython 3.11)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
    pool.shutdown(cancel_futures=True)


def run_alone(budget: Budget, preload: str, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a parser process of its own: OverBudget, or ParserDied if the process
    ended (so a document that kills its parser costs only itself)."""
    pool = parser_pool(1, budget, preload)
    try:
        return pool.submit(within, budget.cpu_seconds, budget.memory_bytes, fn, *args).result()
    except BrokenProcessPool:
        raise ParserDied(
            "Le processus d'analyse s'est arrêté sur ce document (mémoire ou temps dépassé) : "
            "document ignoré, les événements connus sont conservés"
        ) from None
    finally:
        discard(pool)
