"""``kntc group split|merge``: an officer's corrections of content groups, audited in each moved case."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.common import JsonOpt, engine, print_value, settings

__all__ = ["group_app", "group_merge", "group_split"]

group_app = typer.Typer(no_args_is_help=True, help="Correct content groups (split a case out, merge two groups).")

ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in each moved case's history).")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who makes the correction.")]
RoleOpt = Annotated[str, typer.Option("--role", help="The actor's role.")]


@group_app.command("split")
def group_split(case_id: str, reason: ReasonOpt, actor: ActorOpt, role: RoleOpt, as_json: JsonOpt = False) -> None:
    """Take a case out of its group into a new group of its own."""
    from engine.groups import split
    eng = engine()
    with eng.runtime.store.reader() as tx:
        old = tx.case_group(case_id)
    new = split(eng.runtime, case_id, actor=actor, role=role, reason=reason, policy=settings().grouping.policy())
    print_value({"case_id": case_id, "group": new, "previous_group": old}, as_json,
                f"case {case_id} moved from group {old} to new group {new}")


@group_app.command("merge")
def group_merge(group_a: str, group_b: str, reason: ReasonOpt, actor: ActorOpt, role: RoleOpt,
                as_json: JsonOpt = False) -> None:
    """Move every case of GROUP_B into GROUP_A."""
    from engine.groups import merge
    eng = engine()
    with eng.runtime.store.reader() as tx:
        moved = [m.case_id for m in tx.group_members(group_b)]
    merge(eng.runtime, group_a, group_b, actor=actor, role=role, reason=reason, policy=settings().grouping.policy())
    print_value({"group": group_a, "previous_group": group_b, "case_ids": moved}, as_json,
                f"{len(moved)} case{'' if len(moved) == 1 else 's'} moved from group {group_b} to group {group_a}: "
                f"{' '.join(moved)}")
