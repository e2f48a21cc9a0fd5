"""``ecgscope data``: list, describe, download and verify public ECG databases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich import box
from rich.table import Table

from ._common import console, err_console, progress

__all__ = ["register"]

ROOT_HELP = "Data root holding <root>/<name> (default: $ECGSCOPE_DATA, else the user cache folder)."


def _split_names(values: list[str] | None) -> list[str] | None:
    """``["100,101", "102"]`` -> ``["100", "101", "102"]``; ``None`` stays ``None``."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _local_status(db, root) -> str:
    from ..datasets.paths import data_root, local_records

    directory = data_root(root) / db.name
    if not directory.is_dir():
        return "-"
    n = len(local_records(db, directory))
    return f"{n}/{db.n_records}" if n else "empty"


def _rows(root) -> list[dict]:
    from ..datasets.registry import DATABASES

    return [
        {
            "name": db.name, "physionet": f"{db.slug}/{db.version}", "fs": db.fs, "leads": db.n_leads,
            "records": db.n_records, "size_mb": db.size_mb, "licence": db.licence,
            "local": _local_status(db, root),
        }
        for db in DATABASES.values()
    ]


def _list(root: Optional[Path], as_json: bool) -> None:
    rows = _rows(root)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title="Public ECG databases", box=box.SIMPLE_HEAD,
                  caption="size: estimated; local: records in <root>/<name>; "
                          "details: `ecgscope data info NAME`")
    for col in ("name", "fs", "leads", "records", "size", "licence", "local"):
        justify = "left" if col in ("name", "licence", "local") else "right"
        table.add_column(col, justify=justify, no_wrap=True)
    for r in rows:
        size = "?" if r["size_mb"] is None else (
            f"~{r['size_mb'] / 1000:.1f} GB" if r["size_mb"] >= 1000 else f"~{r['size_mb']:.0f} MB")
        table.add_row(r["name"], f"{r['fs']:g}", str(r["leads"]), str(r["records"]), size,
                      r["licence"], r["local"])
    console.print(table)


def _info(name: str, root: Optional[Path]) -> None:
    from ..datasets.paths import data_root
    from ..datasets.remote import physionet_url
    from ..datasets.registry import get_database

    db = get_database(name)
    table = Table(show_header=False, title=db.title)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    records = ", ".join(db.records[:8]) + (" ..." if len(db.records) > 8 else "") if db.records else \
        f"{db.n_records:,} (listed in {db.records_file})"
    for key, value in (
        ("name", db.name), ("files", f"{physionet_url()}/{db.url_path}"),
        ("fs", f"{db.fs:g} Hz"), ("leads", f"{db.n_leads} ({', '.join(db.leads)})"),
        ("records", records), ("labels", db.labels), ("patients", db.patients),
        ("licence", db.licence), ("cite", db.citation), ("and cite", db.physionet_citation),
        ("notes", db.notes or "-"), ("local copy", str(data_root(root) / db.name)),
    ):
        table.add_row(key, value)
    console.print(table)


def _download(name: str, dest: Optional[Path], records: list[str] | None, base_url: Optional[str]) -> None:
    from ..datasets.remote import physionet_url, plan_download, run_download

    err_console.print(f"fetching the file list of {name} from {physionet_url(base_url)} ...", highlight=False)
    plan = plan_download(name, dest, records, base_url)
    with progress() as bar:
        task = bar.add_task(f"{plan.database.name}", total=len(plan.items))
        report = run_download(plan, lambda rel, status: bar.advance(task))
    counts = report.counts()
    fetched = counts.get("downloaded", 0) + counts.get("resumed", 0)
    check = "SHA-256 verified" if plan.has_sums else "no SHA256SUMS.txt published: not verified"
    console.print(
        f"{plan.database.name}: {len(report.records)} records, {len(report.status)} files "
        f"({fetched} fetched, {counts.get('resumed', 0)} resumed, "
        f"{counts.get('present', 0)} already present, "
        f"{counts.get('absent', 0)} optional absent; {check}) in {report.dest}",
        highlight=False,
    )


def _verify(directory: Path, database: Optional[str], show_all: bool) -> None:
    from ..datasets.integrity import verify

    report = verify(directory, database)
    shown = report.checks if show_all or len(report.checks) <= 30 else report.failures()
    what = ("SHA-256 against SHA256SUMS.txt" if report.method == "sha256"
            else "records (header + signal files)")
    if shown:
        table = Table(title=f"{directory}: {what}")
        table.add_column("file" if report.method == "sha256" else "record", no_wrap=True)
        table.add_column("status")
        table.add_column("detail")
        for c in shown:
            table.add_row(c.name, c.status if c.ok else f"[red]{c.status}[/]", c.detail)
        console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items())) or "nothing to check"
    verdict = "OK" if report.ok else "FAILED"
    console.print(f"{verdict}: {counts} ({len(report.checks)} checked)", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group (list, info, download, verify)."""
    data = typer.Typer(help="Public ECG databases: list, describe, download, verify.", no_args_is_help=True)

    @data.command("list")
    def list_(
        root: Optional[Path] = typer.Option(None, "--root", help=ROOT_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """The database registry with local status."""
        _list(root, as_json)

    @data.command("info")
    def info(
        name: str = typer.Argument(..., help="Database name (see `ecgscope data list`)."),
        root: Optional[Path] = typer.Option(None, "--root", help=ROOT_HELP),
    ) -> None:
        """What a database holds, how it is labelled, its licence and citations."""
        _info(name, root)

    @data.command("download")
    def download(
        name: str = typer.Argument(..., help="Database name (see `ecgscope data list`)."),
        dest: Optional[Path] = typer.Option(None, "--dest",
                                            help="Data root; files go to <dest>/<name>. " + ROOT_HELP),
        records: Optional[List[str]] = typer.Option(None, "--records", "-r",
                                                    help="Records to fetch (repeat or comma-separate); "
                                                         "default all."),
        base_url: Optional[str] = typer.Option(None, "--base-url",
                                               help="Files URL instead of https://physionet.org/files "
                                                    "(or set ECGSCOPE_PHYSIONET_URL)."),
    ) -> None:
        """Download a database from PhysioNet: resumable, SHA-256 verified, skips what is already there."""
        _download(name, dest, _split_names(records), base_url)

    @data.command("verify")
    def verify(
        directory: Path = typer.Argument(..., help="Database folder, e.g. <root>/mitdb."),
        database: Optional[str] = typer.Option(None, "--database", "-d",
                                               help="Registry name, when the folder is not named after it."),
        show_all: bool = typer.Option(False, "--all", help="List every file, not only failures."),
    ) -> None:
        """Check a local copy against SHA256SUMS.txt (or its records' files); exit 1 on failure."""
        _verify(directory, database, show_all)

    app.add_typer(data, name="data")
