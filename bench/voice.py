"""Benchmark: voice calls end to end through sippy, rtpengine, the IVR and routing.

Prints one JSON object. Everything runs on 127.0.0.1 in fresh temporary
folders; nothing is mocked:

* Switchboard runs in its own process (this script with ``--serve``): SQLite
  (WAL), the server runtime, the telephony service (SIP on a free UDP port,
  rtpengine as its child process, the DTMF log listener). Setup (untimed): one
  queue ``sales`` and enough agents for the load (``rate x hold x 1.3 + 20``),
  all ready, each with a phone at the address of one sipp UAS that answers
  every call (an auto-answering agent: 180, then 200 after 100 ms, sends a
  400 Hz A-law tone until the BYE);
* the callers are one sipp client at ``rate`` calls/s for ``calls`` calls:
  INVITE (PCMA + telephone-event), ACK, 400 ms pause, RFC 2833 key ``1``
  from sipp's own pcap (the IVR menu: "for sales press 1"), then its voice (a
  500 Hz tone) until ``hold_s`` after the answer, BYE. Each call goes through
  the menu into the queue (an announcement and music), is offered to a free
  agent, rings the UAS, is bridged, talks and ends: the whole call path;
* per phase: calls completed and failed (sipp's counters, and the calls that
  Switchboard bridged to an agent), peak concurrent calls (sipp's and
  Switchboard's), SIP response times (sipp's INVITE-to-200 per call: the
  answer includes anchoring the media in rtpengine; p50/p95/max), and CPU:
  Switchboard's process and rtpengine's, as a share of one core over the load
  window (1.0 = one core), with sipp's beside them (the load generator shares
  the machine).

Bounded: ``--calls`` per phase, and each phase is killed after
``calls / rate + hold_s + 60`` seconds. Targets (issue 7): 20 calls/s for 600
calls with 0 failed calls, Switchboard's process under 25% of one core.

Run: .venv/bin/python bench/voice.py [--rates 10,20] [--calls 200,600]
     [--hold-s 12] [--quick] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PCAPS = Path("/usr/share/sip-tester")
TICK = os.sysconf("SC_CLK_TCK")

FLOW = """name: bench
start: menu
language: en
steps:
  menu:
    type: menu
    prompt: "Welcome to Switchboard. For sales, press 1."
    options: {1: to_sales}
    timeout_s: 5
    retries: 1
    fallback: to_sales
  to_sales:
    type: enqueue
    queue: sales
"""

_SDP = """      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
"""

CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3906[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port];transport=UDP>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3906[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="400"/>
  <nop><action><exec play_pcap_audio="{dtmf}"/></action></nop>
  <pause milliseconds="600"/>
  <nop><action><exec rtp_stream="{voice},-1,8"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3906[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""

AGENT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench agent phone">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]A[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="100"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]A[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <nop><action><exec rtp_stream="{voice},-1,8"/></action></nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its threads included), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tone(path: Path, hz: int, seconds: float) -> Path:
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-t", "al", str(path), "synth",
                    str(seconds), "sine", str(hz), "vol", "0.5"], check=True,
                   capture_output=True)
    return path


# ---------------------------------------------------------------------- the server process
def serve(args: argparse.Namespace) -> None:
    """``--serve``: run Switchboard with the telephony service; print one JSON
    line when ready, another with its figures when stdin says ``stop``."""
    sys.path.insert(0, str(ROOT))
    from switchboard.domain import commands as c
    from switchboard.domain.enums import AgentStatus
    from switchboard.domain.model import AgentConfig, QueueConfig
    from switchboard.server.runtime import Runtime
    from switchboard.store import repo
    from switchboard.store.db import migrate, open_db
    from switchboard.voice.config import voice_config
    from switchboard.voice.service import TelephonyService

    tmp = Path(args.workdir)
    (tmp / "flow.yaml").write_text(FLOW)
    db = open_db(f"sqlite:///{tmp}/bench.db")
    migrate(db)
    with db.begin() as conn:
        repo.create_tenant(conn, "t1", name="Bench", now=time.time(), seed=1)

    async def main() -> None:
        runtime = Runtime(db)
        runtime.start()
        q = QueueConfig(id="sales", name="Sales", skills={"sales": 1}, ring_timeout_s=20.0)
        runtime.execute("t1", c.UpsertQueue(queue=q), new_skills=["sales"],
                        write=lambda conn: repo.insert_queue(conn, "t1", q, time.time()))
        phones = {}
        for i in range(args.agents):
            a = AgentConfig(id=f"agent{i}", name=f"Agent {i}", skills={"sales": 5})
            runtime.execute("t1", c.UpsertAgent(agent=a),
                            write=lambda conn, a=a: repo.insert_agent(conn, "t1", a, time.time()))
            runtime.execute("t1", c.SetAgentStatus(agent_id=a.id, status=AgentStatus.READY))
            phones[f"agent{i}"] = {"tenant": "t1", "agent": a.id,
                                   "address": f"127.0.0.1:{args.uas_port}"}
        cfg = voice_config({
            "sip": {"address": "127.0.0.1", "port": 0},
            "rtpengine": {"start": True, "interface": "127.0.0.1", "port_min": 42000,
                          "port_max": 52000},
            "prompts": str(tmp / "prompts"),
            "trunks": {"local": {"addresses": ["127.0.0.1"]}},
            "numbers": {"100": {"tenant": "t1", "flow": str(tmp / "flow.yaml")}},
            "phones": phones,
            "queue": {"announce_every_s": 30},
        })
        service = TelephonyService(runtime, cfg)
        await service.start()
        assert service.daemon is not None and service.calls is not None
        # Render the menu prompt once before the load (a cold cache is not the point).
        await service.media.speak("Welcome to Switchboard. For sales, press 1.", "en")  # type: ignore[union-attr]
        print(json.dumps({"sip_port": service.sip_port, "pid": os.getpid(),
                          "rtpengine_pid": service.daemon.pid}), flush=True)
        peak = 0
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
        while not stop.done():
            peak = max(peak, len(service.calls.calls))
            await asyncio.sleep(0.2)
        figures = {**service.calls.stats, "peak_live_calls": peak}
        await service.stop()
        runtime.stop()
        print(json.dumps(figures), flush=True)

    asyncio.run(main())


# ---------------------------------------------------------------------- one phase
def sipp_stats(path: Path) -> dict[str, Any]:
    rows = list(csv.DictReader(path.open(), delimiter=";")) if path.exists() else []
    if not rows:
        return {}
    last = rows[-1]
    return {"successful": int(last["SuccessfulCall(C)"]), "failed": int(last["FailedCall(C)"]),
            "peak_concurrent": max(int(r["CurrentCall(P)"] if "CurrentCall(P)" in r
                                       else r["CurrentCall"]) for r in rows),
            "retransmissions": int(last.get("Retransmissions(C)", 0) or 0)}


def rtts(directory: Path) -> list[float]:
    out: list[float] = []
    for f in directory.glob("*_rtt.csv"):
        for row in csv.reader(f.open(), delimiter=";"):
            with contextlib.suppress(ValueError, IndexError):
                out.append(float(row[1]))
    return out


def phase(rate: float, calls: int, hold_s: float, profile: Path | None = None) -> dict[str, Any]:
    agents = math.ceil(rate * hold_s * 1.3) + 20
    with tempfile.TemporaryDirectory(prefix="sb-voice-bench-") as t:
        tmp = Path(t)
        voice_c = tone(tmp / "caller.al", 500, 4)
        voice_a = tone(tmp / "agent.al", 400, 4)
        sdp = _SDP
        (tmp / "caller.xml").write_text(CALLER.format(
            sdp=sdp, dtmf=PCAPS / "dtmf_2833_1.pcap", voice=voice_c,
            talk_ms=int(hold_s * 1000) - 1000))
        (tmp / "agent.xml").write_text(AGENT.format(sdp=sdp, voice=voice_a))
        uas_port = free_udp_port()
        procs: list[subprocess.Popen[Any]] = []
        server_log = (tmp / "server.log").open("wb")
        caller_log = (tmp / "caller.out").open("wb")
        try:
            uas = subprocess.Popen(
                ["sipp", "-sf", str(tmp / "agent.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
                 "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-nostdin", "-trace_err",
                 "-error_file", str(tmp / "uas_errors.log")],
                cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                start_new_session=True)
            procs.append(uas)
            server = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve", "--workdir", str(tmp),
                 "--agents", str(agents), "--uas-port", str(uas_port)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=server_log, text=True)
            procs.append(server)
            assert server.stdout is not None and server.stdin is not None
            line = server.stdout.readline()
            if not line:
                raise RuntimeError(f"the server did not start: "
                                   f"{(tmp / 'server.log').read_text()[-2000:]}")
            ready = json.loads(line)
            pids = {"switchboard": ready["pid"], "rtpengine": ready["rtpengine_pid"]}
            caller_argv = [
                "sipp", "-sf", str(tmp / "caller.xml"), "-s", "100",
                f"127.0.0.1:{ready['sip_port']}", "-i", "127.0.0.1", "-p", str(free_udp_port()),
                "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-r", str(rate),
                "-m", str(calls), "-nostdin",
                "-timeout", f"{int(calls / rate + hold_s + 60)}s", "-timeout_error",
                "-trace_stat", "-stf", str(tmp / "stat.csv"), "-fd", "1", "-trace_rtt",
                "-rtt_freq", "1", "-trace_err", "-error_file", str(tmp / "errors.log"),
                "-max_socket", "4096"]
            spy = None
            if profile is not None:  # py-spy's collapsed stacks of the server, load window
                spy = subprocess.Popen(
                    [str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking",
                     "--pid", str(pids["switchboard"]), "--rate", "100",
                     "--format", "raw", "--output", str(profile), "--duration",
                     str(int(calls / rate + hold_s + 5))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(spy)
            before = {k: cpu_seconds(p) for k, p in pids.items()}
            t0 = time.monotonic()
            caller = subprocess.Popen(caller_argv, cwd=tmp, stdout=caller_log,
                                      stderr=subprocess.STDOUT)
            procs.append(caller)
            sipp_cpu0 = 0.0
            try:
                rc = caller.wait(calls / rate + hold_s + 90)
            except subprocess.TimeoutExpired:
                caller.kill()
                rc = caller.wait()
            wall = time.monotonic() - t0
            if spy is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spy.wait(30)
            after = {k: cpu_seconds(p) for k, p in pids.items()}
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):
                sipp_cpu0 = cpu_seconds(uas.pid)
            server.stdin.write("stop\n")
            server.stdin.flush()
            figures = json.loads(server.stdout.readline() or "{}")
            server.wait(30)
            sipp = sipp_stats(tmp / "stat.csv")
            times = sorted(rtts(tmp))
            errors = (tmp / "errors.log").read_text(errors="replace")[-1500:] \
                if (tmp / "errors.log").exists() else ""
            if rc != 0 and not errors:
                caller_log.flush()
                errors = (tmp / "caller.out").read_text(errors="replace")[-1500:]
            return {
                "rate_cps": rate, "calls": calls, "hold_s": hold_s, "agents": agents,
                "sipp_exit": rc, "wall_s": round(wall, 1),
                "completed": sipp.get("successful"), "failed": sipp.get("failed"),
                "retransmissions": sipp.get("retransmissions"),
                "bridged_to_agent": figures.get("answered"),
                "switchboard_failed_setup": figures.get("failed"),
                "peak_concurrent_sipp": sipp.get("peak_concurrent"),
                "peak_concurrent_switchboard": figures.get("peak_live_calls"),
                "invite_to_200_ms": {
                    "p50": round(statistics.median(times), 1) if times else None,
                    "p95": round(times[int(0.95 * (len(times) - 1))], 1) if times else None,
                    "max": round(times[-1], 1) if times else None, "n": len(times)},
                "cpu_share": {k: round((after[k] - before[k]) / wall, 3) for k in pids},
                "uas_sipp_cpu_s": round(sipp_cpu0, 1),
                "errors_tail": errors if sipp.get("failed") or rc != 0 else "",
            }
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        if p is procs[0]:
                            os.killpg(p.pid, signal.SIGKILL)
                        else:
                            p.kill()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        p.wait(10)
            server_log.close()
            caller_log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="10,20", help="calls per second, per phase")
    ap.add_argument("--calls", default="200,600", help="calls per phase")
    ap.add_argument("--hold-s", type=float, default=12.0, help="seconds per call after answer")
    ap.add_argument("--quick", action="store_true", help="a short smoke run (2 calls/s, 10 calls)")
    ap.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the server, "
                    "per phase (FILE.<rate>.txt)")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--agents", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--uas-port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args)
        return
    for exe in ("sipp", "rtpengine", "espeak-ng", "sox"):
        if shutil.which(exe) is None:
            sys.exit(f"{exe} is missing: sh scripts/test-deps.sh installs it")
    rates = [float(r) for r in args.rates.split(",")]
    counts = [int(n) for n in args.calls.split(",")]
    if args.quick:
        rates, counts = [2.0], [10]
    if len(rates) != len(counts):
        sys.exit("--rates and --calls need as many values")
    load = os.getloadavg()
    phases = [phase(r, n, args.hold_s,
                    args.profile.with_suffix(f".{r:g}.txt") if args.profile else None)
              for r, n in zip(rates, counts, strict=True)]
    print(json.dumps({"benchmark": "voice", "cpus": os.cpu_count(),
                      "load_before": [round(x, 2) for x in load],
                      "load_after": [round(x, 2) for x in os.getloadavg()],
                      "phases": phases}, indent=2))


if __name__ == "__main__":
    main()
