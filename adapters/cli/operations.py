"""``kntc db upgrade``, ``kntc audit verify``, ``kntc daemon`` and ``kntc demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.common import (
    JsonOpt,
    app,
    audit_app,
    configure_logging,
    db_app,
    engine,
    fail,
    local,
    parse_now,
    print_value,
    settings,
)

__all__ = ["audit_verify", "daemon", "db_upgrade", "demo"]


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Create or migrate the database schema (Alembic)."""
    from adapters.bootstrap import build_store
    from adapters.sql.migrate import head_revision
    configured = settings()
    configure_logging(configured)
    build_store(configured, auto_migrate=True).close()
    revision = head_revision()
    print_value({"revision": revision}, as_json, f"database at schema {revision}")


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Check the hash chain of every case's history."""
    report = engine().verify_audit()
    if as_json:
        print_value({"ok": report.ok, "cases": report.cases, "rows": report.rows,
                     "problems": list(report.problems)}, True, "")
        if not report.ok:
            raise typer.Exit(1)
        return
    for problem in report.problems:
        typer.echo(problem, err=True)
    if not report.ok:
        fail(f"audit found {len(report.problems)} problem(s) in {report.cases} cases")
    typer.echo(f"audit ok: {report.cases} cases, {report.rows} history rows, chains intact")


@app.command()
def daemon(once: Annotated[bool, typer.Option("--once", help="Run one tick and exit (cron).")] = False,
           now: Annotated[str | None, typer.Option(help="Simulated ISO date-time.")] = None,
           as_json: JsonOpt = False) -> None:
    """Run the escalation daemon: tick due timers, dispatch the outbox."""
    from adapters.channels import build_channels, router
    from adapters.clock import OffsetClock, SystemClock
    from adapters.daemon import Daemon
    configured = settings()
    moment = parse_now(now, configured.timezone)
    clock = OffsetClock(SystemClock(), moment) if moment and not once else None
    channels = build_channels(configured)  # a missing secret: refused before anything runs
    eng = engine(clock)
    runner = Daemon(eng, tick_seconds=configured.escalation.tick_seconds, channels=channels,
                    router=router(configured))
    if once:
        try:
            report = runner.run_once(moment)
        finally:
            runner.close()
        print_value(report, as_json, f"tick at {local(report.now)}: claimed {report.claimed}, fired "
                                     f"{report.fired}, events {report.events}, lag {report.max_lag_seconds:.0f}s")
        return
    runner.run_forever()


@app.command()
def demo(seed: Annotated[int, typer.Option(help="Seed of the season's random draws (same seed, same summary).")] = 2026,
         letters: Annotated[int, typer.Option("--letters", min=0, help="Background letters to simulate.")] = 300,
         database: Annotated[Path | None, typer.Option(help="SQLite file (recreated). Default: OUT_DIR/kntc-demo.db.")]
         = None,
         out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the feed, report, schedule and log.")]
         = Path("kntc-demo")) -> None:
    """Simulate the 2026 election season on SQLite: letters, officers, the daemon; then a summary and files."""
    import time

    from adapters.demo import run_demo
    started = time.perf_counter()
    run_demo(settings(), database=database or out_dir / "kntc-demo.db", out_dir=out_dir, letters=letters, seed=seed)
    typer.echo(f"elapsed: {time.perf_counter() - started:.1f}s")
