"""`provisioner facts check`: how old the dated cloud facts are, and what is about to lapse."""

from typing import Annotated

import typer

from provisioner.cli._app import new_app
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, info, render

app = new_app(help="The dated cloud facts (versions, support dates, prices) and their age.", no_args_is_help=True)


@app.command("check")
@report_errors
def check(
    *,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge the facts on this date (YYYY-MM-DD); default PROVISIONER_FACTS_AS_OF, else today."),
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List every fact source with its age; exit 1 when one is stale or a default is about to lapse."""
    from provisioner.facts import today
    from provisioner.facts.check import MAX_AGE_DAYS, parse_day
    from provisioner.facts.check import check as check_facts

    on = parse_day(as_of, "--as-of") if as_of is not None else today()
    report = check_facts(on)
    rows = [(f.module, f.title, str(f.recorded), str(f.age_days), "stale" if f.stale else "ok") for f in report.facts]
    render(report, output, f"Dated facts on {on} (stale after {MAX_AGE_DAYS} days)", ["module", "source", "recorded", "age (days)", ""], rows)
    for problem in report.problems:
        info(f"problem: {problem}")
    if not report.ok:
        raise typer.Exit(1)


def warn_if_stale() -> None:
    """One stderr line when the facts behind a simulated or offline plan have a problem today (or as of the env date)."""
    from provisioner.facts import today
    from provisioner.facts.check import stale_warning

    line = stale_warning(today())
    if line:
        info(line)
