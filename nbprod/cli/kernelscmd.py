"""``nbprod kernels``: the warm processes that make runs fast — list them, stop them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from .common import print_json


@click.group("kernels")
def kernels_group() -> None:
    """Kernel templates (forked kernels) and the warm nbprod (pre-imported commands).

    Both start on demand, are reused by later commands, restart when the environment or the
    code they loaded changes, and stop by themselves after a while without use.
    """


@kernels_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kernels_list(as_json: bool) -> int:
    """Show running kernel templates (with what they preloaded) and warm nbprod processes."""
    from ..api.kernels import kernel_templates
    from .warm import running

    templates = kernel_templates()
    warm = running()
    if as_json:
        print_json({"templates": templates, "warm": warm})
        return 0
    from rich.table import Table

    from .render import console

    table = Table(show_edge=False, header_style="bold")
    for column in ("kind", "pid", "key", "kernels", "started", "preloaded"):
        table.add_column(column, overflow="fold")
    def started(data: dict[str, Any]) -> str:
        return dt.datetime.fromtimestamp(float(data.get("started", 0))).strftime("%H:%M:%S")

    for data in templates:
        learned = int(data.get("learned") or 0)
        modules = ", ".join(data["modules"]) or "-"
        table.add_row("template", str(data["pid"]), data["key"], str(data.get("kernels", 0)),
                      started(data),
                      f"{modules} (+{learned} submodules on first use)" if learned else modules)
    for data in warm:
        table.add_row("warm nbprod", str(data["pid"]), data["key"], "-", started(data),
                      "the nbprod library")
    console().print(table if templates or warm else "no kernel templates or warm nbprod running")
    return 0


@kernels_group.command("stop")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kernels_stop(as_json: bool) -> int:
    """Stop every kernel template and warm nbprod (they restart on demand)."""
    from ..api.kernels import stop_kernel_templates
    from .warm import stop_all

    templates, warm = stop_kernel_templates(), stop_all()
    if as_json:
        print_json({"templates": templates, "warm": warm})
    else:
        click.echo(f"stopped {templates} kernel template(s) and {warm} warm nbprod process(es)")
    return 0
