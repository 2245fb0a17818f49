"""``python -m bench [--full] [--only NAME ...]``: run the benchmarks and print one table.

Quick mode (the default, ``make bench``) keeps to small sizes and stays under two minutes on a
2-core machine; ``--full`` (``make bench-full``) adds the large sizes (1,000,000 open cases for
the tick). ``--markdown FILE`` also writes the table, the notes and the machine to FILE (for
``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench import BENCHMARKS
from bench.common import Context, machine_info, progress, silence_logs
from bench.table import Row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="large sizes too (slow: minutes)")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)}); repeatable")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the results as Markdown")
    args = parser.parse_args(argv)

    silence_logs()
    os.chdir(Path(__file__).resolve().parent.parent)  # config.yaml's relative paths, as `make` runs it
    names = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    failed = False
    with Context.open(full=args.full, with_postgres=not args.no_postgres) as ctx:
        info = machine_info(ctx.postgres)  # before the run: the commit measured is the one at the start
        for name in names:
            t0 = time.perf_counter()
            progress(f"{name}: start ({'full' if args.full else 'quick'} mode)")
            try:
                BENCHMARKS[name](ctx)
            except Exception as exc:  # one broken benchmark must not hide the others' rows
                failed = True
                traceback.print_exc()
                ctx.add(Row(name, f"FAILED: {type(exc).__name__}: {exc}"[:160], None, ""))
            progress(f"{name}: done in {time.perf_counter() - t0:.1f}s")
        elapsed = time.perf_counter() - started
        ctx.table.note("machine", "\n".join(f"{k}: {v}" for k, v in info)
                       + f"\nmode: {'full' if args.full else 'quick'}; wall time of the run: {elapsed:.0f} s")
        ctx.table.print()
        if args.markdown:
            args.markdown.write_text(ctx.table.markdown(), encoding="utf-8")
            progress(f"wrote {args.markdown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
