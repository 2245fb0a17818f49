"""``python -m bench.profile_fire [--postgres] [--cases N]``: where one ``Engine.fire`` spends its time.

Opens N complaints, then profiles (pyinstrument) the transitions of ``bench.transitions`` on
them and prints the call tree: the tool behind the causes written in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from bench.common import DEFAULT_PG, START, Context, build_engine, open_sample_case, silence_logs
from bench.transitions import SEQUENCE, _fire_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_fire", description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="profile on PostgreSQL instead of SQLite")
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    silence_logs()
    os.chdir(Path(__file__).resolve().parent.parent)
    with Context.open(full=False, with_postgres=args.postgres) as ctx:
        backend = ctx.postgres if args.postgres else ctx.sqlite
        if backend is None:
            print(f"no PostgreSQL: {ctx.postgres_skip} (server from KNTC_BENCH_DATABASE_URL, else {DEFAULT_PG})")
            return 1
        engine = build_engine(backend.new("profile"))
        ids = [open_sample_case(engine, received_at=START - timedelta(days=i % 20)).id for i in range(args.cases)]
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for r in range(len(SEQUENCE)):
            _fire_all(engine, ids, r)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=sys.stdout.isatty(), show_all=False))
        engine.runtime.store.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
