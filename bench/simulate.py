"""Benchmark: one M/M/22+M queue simulated three ways, same run, same inputs.

300 calls/h, AHT 240 s, mean patience 120 s (exponential), 22 agents,
666.67 hours of Poisson arrivals (about 200,000 calls):

* ``switchboard``: the real CLI, ``switchboard simulate`` (every call goes
  through the real routing engine: arrive, enqueue, offer, accept, hang up,
  wrap-up, with every event built and tallied);
* ``simpy``: a SimPy model of the same queue (a Resource with 22 servers and
  a patience timeout);
* ``ciw``: a Ciw network with one node, 22 servers and exponential reneging.

Each runs in its own subprocess, so interpreter start-up and imports count
the same way; the wall time is the whole process (the acceptance figure), the
CPU time (user + system) is reported beside it, being less disturbed by other
work on a shared machine. Each one's P(abandon),
service level (answered within 20 s / offered) and ASA (answered) are
compared with Erlang A from :mod:`switchboard.wfm.erlang`.

Usage: ``python bench/simulate.py [--hours H]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

RATE_PER_H = 300.0
AHT_S = 240.0
PATIENCE_S = 120.0
AGENTS = 22
THRESHOLD_S = 20.0
HOURS = 200_000 / RATE_PER_H
SEED = 1


def _simpy_model(hours: float) -> dict[str, float]:
    import random

    import simpy

    rng = random.Random(SEED)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=AGENTS)
    waits: list[float] = []
    counts = {"offered": 0, "abandoned": 0}
    end = hours * 3600.0

    def customer(env: simpy.Environment) -> object:
        arrived = env.now
        with servers.request() as req:
            patience = env.timeout(rng.expovariate(1.0 / PATIENCE_S))
            got = yield req | patience
            if req in got:
                waits.append(env.now - arrived)
                yield env.timeout(rng.expovariate(1.0 / AHT_S))
            else:
                counts["abandoned"] += 1

    def source(env: simpy.Environment) -> object:
        while True:
            yield env.timeout(rng.expovariate(RATE_PER_H / 3600.0))
            if env.now >= end:
                return
            counts["offered"] += 1
            env.process(customer(env))

    env.process(source(env))
    env.run()
    return _figures(counts["offered"], counts["abandoned"], waits)


def _ciw_model(hours: float) -> dict[str, float]:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE_PER_H / 3600.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / AHT_S)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1.0 / PATIENCE_S)],
    )
    ciw.seed(SEED)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(hours * 3600.0)
    recs = sim.get_all_records()
    waits = [r.waiting_time for r in recs if r.record_type == "service"]
    abandoned = sum(1 for r in recs if r.record_type == "renege")
    # contacts still waiting or in service at the end are not in the records
    return _figures(len(waits) + abandoned, abandoned, waits)


def _figures(offered: int, abandoned: int, waits: list[float]) -> dict[str, float]:
    return {
        "calls": offered,
        "p_abandon": abandoned / offered,
        "service_level": sum(1 for w in waits if w <= THRESHOLD_S) / offered,
        "asa_s": sum(waits) / len(waits),
    }


def _run(cmd: list[str]) -> tuple[float, float, dict[str, float]]:
    """Wall seconds, CPU seconds (user + system of the process) and its JSON."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=HOURS)
    parser.add_argument("--model", choices=("simpy", "ciw"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model == "simpy":
        print(json.dumps(_simpy_model(args.hours)))
        return
    if args.model == "ciw":
        print(json.dumps(_ciw_model(args.hours)))
        return

    from switchboard.wfm.erlang import erlang_a_metrics

    model = erlang_a_metrics(AGENTS, RATE_PER_H * AHT_S / 3600.0, AHT_S, PATIENCE_S,
                             THRESHOLD_S)
    assert model.p_abandon is not None
    erlang = {"p_abandon": float(model.p_abandon[()]),
              "service_level": float(model.service_level), "asa_s": float(model.asa_s)}
    py = sys.executable
    here = str(Path(__file__).resolve())
    commands = {
        "switchboard": [py, "-m", "switchboard.cli", "simulate",
                        "--arrivals-per-hour", str(RATE_PER_H), "--aht", str(AHT_S),
                        "--agents", str(AGENTS), "--patience", str(PATIENCE_S),
                        "--hours", str(args.hours), "--seed", str(SEED),
                        "--sl-threshold", str(THRESHOLD_S), "--format", "json"],
        "simpy": [py, here, "--model", "simpy", "--hours", str(args.hours)],
        "ciw": [py, here, "--model", "ciw", "--hours", str(args.hours)],
    }
    results: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()
    for name, cmd in commands.items():
        wall, cpu, out = _run(cmd)
        figs = {"calls": out["calls"], "p_abandon": out.get("p_abandon", out.get("abandon_rate")),
                "service_level": out["service_level"], "asa_s": out["asa_s"]}
        results[name] = {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "calls": figs["calls"],
            "calls_per_s": round(figs["calls"] / wall, 1),
            **{k: figs[k] for k in erlang},
            **{f"error_{k}": figs[k] - v for k, v in erlang.items()},
        }
    sb, sp, cw = results["switchboard"], results["simpy"], results["ciw"]
    report = {
        "benchmark": "M/M/22+M, 300 calls/h, AHT 240 s, patience 120 s",
        "hours": args.hours,
        "erlang_a": erlang,
        "results": results,
        "ratio_vs_simpy": round(sb["wall_s"] / sp["wall_s"], 3),
        "ratio_vs_ciw": round(sb["wall_s"] / cw["wall_s"], 3),
        # CPU time is less disturbed than wall time by other work on a shared machine
        "cpu_ratio_vs_simpy": round(sb["cpu_s"] / sp["cpu_s"], 3),
        "cpu_ratio_vs_ciw": round(sb["cpu_s"] / cw["cpu_s"], 3),
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "meets_acceptance": sb["wall_s"] <= sp["wall_s"] and sb["wall_s"] <= cw["wall_s"] / 3,
        "meets_goal_2x_simpy": sb["wall_s"] <= sp["wall_s"] / 2,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
