"""Profile the end-to-end ingest with py-spy over the whole process tree (issue 8: profile before optimising).

    .venv/bin/python benchmarks/profile_ingest.py                   # 20 outlets x 20 articles
    .venv/bin/python benchmarks/profile_ingest.py --outlets 100 -o stacks.txt  # keep py-spy's raw stacks

Starts the simulator (its own process, not profiled), runs ``probe.py`` (monitor's real ``run_once``) under
``py-spy record --subprocesses`` and prints where the samples fell: the main process (event loop, HTTP,
SQLite) against the fork server and its extraction workers, the share inside ``extract_article``, and the
top functions, inclusive, of each side outside extraction. py-spy (in the ``dev`` extra) needs ptrace:
in a container, run it with ``--cap-add SYS_PTRACE``.

py-spy samples the wall-clock time of threads that are running or runnable. On a loaded 2-core machine a
runnable main process waiting for a core still collects samples, so its share here is larger than its
share of CPU time (``benchmarks/ingest.py`` measures that, with CPU clocks). Use this for *where*, and
``ingest.py`` for *how much*.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulator import MissingPages, SimulatorProcess

HERE = Path(__file__).resolve().parent
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function file.py``."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} {match['file'].rsplit('/', 1)[-1]}"


def summarise(raw: str, top: int = 12, *, articles: int = 0, rate: int = 0) -> str:
    """The report for py-spy's raw output (one ``frame;frame;... count`` line per distinct stack): per side
    (main process, fork server and workers), outside ``extract_article``, monitor's own functions inclusive
    (the stages) and every function by its own samples (the leaves). With ``articles`` and the sampling
    ``rate``, each line also shows sampled milliseconds per article (wall time running or runnable)."""
    total = extraction = 0
    sides: Counter[str] = Counter()
    stages: dict[str, Counter[str]] = {"main": Counter(), "workers": Counter()}
    leaves: dict[str, Counter[str]] = {"main": Counter(), "workers": Counter()}
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = stack.split(";")[1:]  # the first frame names the probe process itself
        side = "workers" if frames and frames[0].startswith("process ") else "main"
        frames = [f for f in frames if not f.startswith("process ")]
        total += samples
        sides[side] += samples
        names = [frame_name(f) for f in frames]
        if any(name.startswith("extract_article ") for name in names):
            extraction += samples
            continue
        own = {frame_name(f) for f in frames if (m := _FRAME.match(f)) and m["file"].startswith("monitor/")}
        for name in own:
            stages[side][name] += samples
        if names:
            leaves[side][names[-1]] += samples
    if not total:
        return "no samples"

    def line(n: int, name: str) -> str:
        ms = f"{1000 * n / rate / articles:6.2f} ms/art  " if articles and rate else ""
        return f"  {n / total:6.1%}  {ms}{name[:100]}"

    lines = [
        f"samples: {total:,}; main process {sides['main'] / total:.1%}, fork server and workers "
        f"{sides['workers'] / total:.1%}; inside extract_article {extraction / total:.1%}",
    ]
    if articles and rate:
        per = 1000 / rate / articles
        lines.append(
            f"per article ({articles}): main {sides['main'] * per:.2f} ms, fork server and workers "
            f"{sides['workers'] * per:.2f} ms, inside extract_article {extraction * per:.2f} ms "
            "(sampled wall time: running or waiting for a core)"
        )
    for side in ("main", "workers"):
        lines.append(f"\n{side}, outside extract_article: monitor's functions, inclusive (% of all samples)")
        lines += [line(n, name) for name, n in stages[side].most_common(top)]
        lines.append(f"{side}, outside extract_article: leaf functions (% of all samples)")
        lines += [line(n, name) for name, n in leaves[side].most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--articles", type=int, default=20, help="per outlet")
    parser.add_argument("--rate", type=int, default=200, help="samples per second (default 200)")
    parser.add_argument("-o", "--output", type=Path, help="also keep py-spy's raw stacks here")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("profile: py-spy is not installed (pip install py-spy, or the dev extra)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="monitor-profile-") as tmp:
        config, raw = Path(tmp) / "config.yaml", args.output or Path(tmp) / "stacks.txt"
        simulator_args = ["--outlets", str(args.outlets), "--articles", str(args.articles)]
        try:
            with SimulatorProcess("ingest", *simulator_args, "--config", str(config)) as simulator:
                simulator.stats()
                command = [py_spy, "record", "--subprocesses", "--nonblocking", "-r", str(args.rate)]
                command += [
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                    "--",
                    sys.executable,
                    str(HERE / "probe.py"),
                    str(config),
                ]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
        except MissingPages as exc:
            print(f"profile: {exc}; skipped", file=sys.stderr)
            return 0
        if done.returncode != 0 or not raw.exists():
            print(f"profile: py-spy failed ({done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        text = raw.read_text(encoding="utf-8")
        print(summarise(text, args.top, articles=args.outlets * args.articles, rate=args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
