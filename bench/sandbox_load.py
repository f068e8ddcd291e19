"""The sandbox under load (issue 14): 10,000 registrations through its HTTP API, as ``make run`` serves it.

A child process runs ``python -m local`` (local.testing.SandboxProcess); this process posts one
registration after another for distinct numbers and measures each answer's latency and the sandbox's
resident memory (VmRSS) as the contacts pile up. The spend and range limits are lifted for the run: it
measures the emulation, not the abuse protection (which would rightly refuse 10,000 sign-ups an hour).
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from local.testing import ABUSE_LIMITS_LIFTED, SandboxProcess

RSS_TARGET_MB = 300
LATENCY_TARGET_MS = 30.0
LIFTED = {**ABUSE_LIMITS_LIFTED, "FOLLOW_UP_SEQUENCE": ""}


@dataclass(frozen=True)
class LoadResult:
    registrations: int
    latencies_ms: list[float]
    rss_mb: list[tuple[int, float]]  # (registrations so far, RSS)
    failures: int
    seconds: float

    def median(self, part: slice = slice(None)) -> float:
        return statistics.median(self.latencies_ms[part])

    @property
    def final_rss(self) -> float:
        return self.rss_mb[-1][1]

    @property
    def on_target(self) -> bool:
        return self.final_rss <= RSS_TARGET_MB and self.median() <= LATENCY_TARGET_MS and not self.failures


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def number(i: int) -> str:
    """Distinct valid US numbers across many area codes and exchanges (never 555, never N11)."""
    areas = ("206", "212", "312", "415", "503", "617", "702", "713", "305", "404")
    area = areas[i % len(areas)]
    exchange = 200 + (i // len(areas)) % 700
    if exchange % 100 == 11 or exchange == 555:
        exchange += 1
    line = 1000 + (i // (len(areas) * 700)) * 97 + i % 97
    return f"+1{area}{exchange}{line:04d}"


def run(registrations: int = 10_000, sample_every: int = 1000) -> LoadResult:
    latencies: list[float] = []
    samples: list[tuple[int, float]] = []
    failures = 0
    started = time.perf_counter()
    with SandboxProcess(env=LIFTED, startup_timeout=120) as sandbox:
        pid = sandbox._process.pid  # type: ignore[union-attr]
        samples.append((0, rss_mb(pid)))
        parts = urlsplit(sandbox.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for i in range(registrations):
            body = json.dumps(
                {"destinationNumber": number(i), "firstName": "Load", "lastName": "Test", "consent": True}
            )
            began = time.perf_counter()
            connection.request("POST", "/register", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status != 202:
                failures += 1
            if (i + 1) % sample_every == 0:
                samples.append((i + 1, rss_mb(pid)))
        connection.close()
    return LoadResult(registrations, latencies, samples, failures, time.perf_counter() - started)


def report(result: LoadResult) -> str:
    n = result.registrations
    tenth = max(1, n // 10)
    rss = "  ".join(f"{count // 1000}k: {mb:.0f} MB" for count, mb in result.rss_mb)
    return "\n".join(
        [
            f"sandbox under load: {n} registrations through POST /register, one after another "
            f"({result.seconds:.0f} s; {result.failures} not answered 202)",
            f"  median latency {result.median():.1f} ms (target ≤ {LATENCY_TARGET_MS:.0f} ms); first tenth "
            f"{result.median(slice(0, tenth)):.1f} ms, last tenth {result.median(slice(n - tenth, n)):.1f} ms",
            f"  sandbox RSS {result.final_rss:.0f} MB at {n} contacts (target ≤ {RSS_TARGET_MB} MB): {rss}",
            f"  {'ok' if result.on_target else 'MISSED'}",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
