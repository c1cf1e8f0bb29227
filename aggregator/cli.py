"""Command line: `aggregator fetch|serve|demo|migrate|sources check`."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aggregator.model import RefreshResult
from aggregator.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from aggregator.scheduler import Scheduler
    from aggregator.sources_edit import Change
from aggregator.sources import SourcesError, SourcesFile, load_sources_file

EXIT_CONFIG = 2
EXIT_ALL_FAILED = 1


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"Configuration invalide : {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def _sources_file(settings: Settings) -> SourcesFile:
    try:
        return load_sources_file(settings.sources_path)
    except SourcesError as exc:
        click.echo(f"sources.toml refusé :\n{exc}", err=True)
        sys.exit(EXIT_CONFIG)


def format_result(result: RefreshResult, width: int = 20) -> str:
    head = f"{result.source_id:<{width}} {result.outcome:<12} {result.http_status or '-':>3}"
    if result.outcome == "failed":
        return f"{head}  {result.events} événements conservés — {result.error}"
    text = f"{head}  {result.events} événements"
    if result.outcome == "ok":
        text += f" (+{result.added} ~{result.updated} -{result.removed})"
        if result.skipped:
            text += f", {result.skipped} éléments sans date ignorés"
    if result.warnings:
        text += f", {len(result.warnings)} avertissement(s)"
    return text


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log each refresh (structured lines).")
def main(verbose: bool) -> None:
    """Agenda partagé de l'ESS des Hautes-Alpes."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


@main.command()
@click.option("--source", "only", multiple=True, metavar="ID", help="Only this source (repeat).")
def fetch(only: tuple[str, ...]) -> None:
    """Fetch and ingest the sources now."""
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.store import open_engine

    settings = _settings()
    sources_file = _sources_file(settings)
    configs = sources_file.sources
    unknown = set(only) - {c.id for c in configs}
    if unknown:
        click.echo(f"Source(s) inconnue(s) : {', '.join(sorted(unknown))}", err=True)
        sys.exit(EXIT_CONFIG)
    engine = open_engine(settings.database_url)
    width = max((len(c.id) for c in configs), default=10)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, result: RefreshResult) -> None:
        if tty:
            click.echo(f"\r[{done}/{total}] {result.source_id[:40]:<40}", nl=False, err=True)

    options = RefreshOptions.from_settings(settings, sources_file.aliases)
    results = refresh(engine, configs, options, only, progress)
    if tty and results:
        click.echo("\r" + " " * 50 + "\r", nl=False, err=True)
    for result in results:
        click.echo(format_result(result, width))
        for warning in result.warnings[:5]:
            click.echo(f"{'':<{width}}   ! {warning}")
    if results and all(r.outcome == "failed" for r in results):
        sys.exit(EXIT_ALL_FAILED)


def _scheduler(settings: Settings) -> Scheduler:
    from aggregator.pipeline import RefreshOptions
    from aggregator.scheduler import Scheduler
    from aggregator.store import open_engine

    _sources_file(settings)  # refuse an invalid file before starting
    engine = open_engine(settings.database_url)
    options = RefreshOptions.from_settings(settings)
    return Scheduler(engine, settings.sources_path, options, chores=_chores(engine, settings))


def _chores(engine: Any, settings: Settings) -> tuple[tuple[str, float, Callable[[], object]], ...]:
    """The scheduler's jobs besides the sources: the admins' digest of what the public sent
    within the hour (at most one an hour), and the proposed events' recurrences brought
    into the moving window twice a day."""
    from aggregator import notices, proposals
    from aggregator.mail import make_mailer

    mailer = make_mailer(settings.smtp_url, settings.mail_dir)
    queue_url = settings.base_url + "/admin/propositions/"

    def digest() -> None:
        notices.send_digest_if_due(engine, mailer, settings.mail_from, settings.admin_emails,
                                   queue_url)  # fmt: skip

    def publish() -> None:
        from aggregator.pipeline import RefreshOptions

        proposals.publish(engine, RefreshOptions.from_settings(settings))

    return (("digest", 600.0, digest), ("proposals", 12 * 3600.0, publish))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--scheduler/--no-scheduler", default=True, show_default=True,
    help="Also refresh the sources on schedule, in a process of its own (one-machine set-up).",
)  # fmt: skip
@click.option("--debug", is_flag=True, help="Flask's development server, reloading on change.")
def serve(host: str, port: int, scheduler: bool, debug: bool) -> None:
    """Serve the agenda website with gunicorn (and, by default, run the scheduler)."""
    import subprocess

    settings = _settings()
    _sources_file(settings)  # refuse an invalid sources.toml before starting anything
    from aggregator.store import open_engine

    open_engine(settings.database_url).dispose()  # migrate once, before the workers start
    helper = None
    if scheduler:
        # Its own process: forking web workers beside a running scheduler thread could copy
        # a lock it holds; a second process is what the container runs too.
        helper = subprocess.Popen([sys.executable, "-m", "aggregator", "scheduler"])
    click.echo(f"Agenda servi sur http://{host}:{port}/", err=True)
    try:
        if debug:
            from webapp import create_app

            create_app().run(host=host, port=port, debug=True, threaded=True)
        else:
            from webapp.serving import Server, options

            Server(options(f"{host}:{port}")).run()
    finally:
        if helper is not None:
            helper.terminate()
            helper.wait(30)


@main.command()
def scheduler() -> None:
    """Run only the scheduler (with web replicas: one of these, anywhere)."""
    logging.getLogger("aggregator").setLevel(logging.INFO)
    _scheduler(_settings()).run_forever()


@main.command()
@click.option(
    "--out",
    default="var/demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder the demo feeds are written to (sources.toml points there).",
)
def demo(out: Path) -> None:
    """Write the demo feeds, dated from today, for the shipped sources.toml."""
    from aggregator.demo import write_demo

    for path in write_demo(out):
        click.echo(f"écrit {path}")


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from aggregator.store import open_engine

    open_engine(_settings().database_url)
    click.echo("Schéma à jour.")


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create-user")
@click.argument("username")
@click.password_option("--password", help="Asked twice when not given (use the prompt).")
def admin_create_user(username: str, password: str) -> None:
    """Create an admin account (password hashed; 10 characters at least)."""
    import datetime as dt

    from aggregator.store import open_engine
    from aggregator.store.admin import AccountError, create_admin

    try:
        create_admin(open_engine(_settings().database_url), username, password,
                     dt.datetime.now(dt.UTC))  # fmt: skip
    except AccountError as exc:
        click.echo(f"Refusé : {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Compte {username} créé.")


@admin.command("passwd")
@click.argument("username")
@click.password_option("--password", help="Asked twice when not given (use the prompt).")
def admin_passwd(username: str, password: str) -> None:
    """Set a new password; every open session of the account ends."""
    from aggregator.store import open_engine
    from aggregator.store.admin import AccountError, set_password

    try:
        ended = set_password(open_engine(_settings().database_url), username, password)
    except AccountError as exc:
        click.echo(f"Refusé : {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Mot de passe de {username} changé ; {ended} session(s) fermée(s).")


@admin.command("remove")
@click.argument("username")
def admin_remove(username: str) -> None:
    """Remove an account; its open sessions end at once."""
    from aggregator.store import open_engine
    from aggregator.store.admin import AccountError, remove_admin

    try:
        remove_admin(open_engine(_settings().database_url), username)
    except AccountError as exc:
        click.echo(f"Refusé : {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Compte {username} supprimé.")


@admin.command("list")
def admin_list() -> None:
    """List the accounts and their open sessions."""
    from aggregator.store import open_engine
    from aggregator.store.admin import list_admins

    for username, created, sessions in list_admins(
        open_engine(_settings().database_url), dt.datetime.now(dt.UTC)
    ):
        click.echo(f"{username:<24} créé le {created:%Y-%m-%d}  {sessions} session(s) ouverte(s)")


@main.group()
def dedup() -> None:
    """Correct the deduplication: merge a missed duplicate, split a wrong merge."""


def _override(kind: str, first: str, second: str, who: str) -> None:
    import datetime as dt

    from aggregator.store import open_engine
    from aggregator.store.clusters import UnknownEvent, recluster, record_override

    settings = _settings()
    engine = open_engine(settings.database_url)
    now = dt.datetime.now(dt.UTC)
    try:
        pairs = record_override(engine, kind, first, second, who, now)
    except UnknownEvent as exc:
        click.echo(f"Événement inconnu : {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    from zoneinfo import ZoneInfo

    window_start = now - dt.timedelta(days=settings.window_past_days)
    recluster(engine, window_start, ZoneInfo(settings.timezone),
              processes=settings.parse_processes)  # fmt: skip
    click.echo(f"{pairs} paire(s) enregistrée(s) ({kind}).")


@dedup.command("merge")
@click.argument("first")
@click.argument("second")
@click.option("--by", "who", default="cli", help="Who decides (logged).")
def dedup_merge(first: str, second: str, who: str) -> None:
    """Merge two events (ids of events or of their occurrences); survives refreshes."""
    _override("merge", first, second, who)


@dedup.command("split")
@click.argument("first")
@click.argument("second")
@click.option("--by", "who", default="cli", help="Who decides (logged).")
def dedup_split(first: str, second: str, who: str) -> None:
    """Keep two occurrences apart (e.g. an occurrence id and its event's id)."""
    _override("split", first, second, who)


@dedup.command("export")
def dedup_export() -> None:
    """Admins' merge/split decisions as labelled pairs, in the format of
    tests/data/dedup-publishers.psv (one record per line, two per group), on stdout."""
    from zoneinfo import ZoneInfo

    from aggregator.store import open_engine
    from aggregator.store.pairs import labelled

    settings = _settings()
    tz = ZoneInfo(settings.timezone)
    engine = open_engine(settings.database_url)

    def when(value: dt.datetime | None, all_day: bool, end: bool = False) -> str:
        if value is None:
            return ""
        local = value.astimezone(tz)
        if all_day:  # the set writes an all-day record's last day, records hold its end
            return (local - dt.timedelta(days=1 if end else 0)).date().isoformat()
        return local.strftime("%Y-%m-%d %H:%M")

    def clean(text: str) -> str:
        return " ".join(text.replace("|", "/").split())

    click.echo("group|label|kind|source|title|start|end|location|url")
    for n, (same, *records) in enumerate(labelled(engine), start=1):
        for event in records:
            click.echo("|".join((
                f"admin{n:04d}", "same" if same else "different", "admin",
                event.sources[0].id, clean(event.title), when(event.start, event.all_day),
                when(event.end, event.all_day, end=True), clean(event.location),
                clean(event.url or ""),
            )))  # fmt: skip


@main.group()
def sources() -> None:
    """Inspect sources.toml."""


def _edit(settings: Settings, change: Change, done: str) -> None:
    from aggregator.sources_edit import EditError, edit_sources

    try:
        edit_sources(settings.sources_path, change)
    except (EditError, SourcesError) as exc:
        click.echo(f"Refusé : {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(done)


@sources.command("list")
def sources_list() -> None:
    """The sources, with their health."""
    from aggregator.store import open_engine
    from aggregator.store.read import source_health

    settings = _settings()
    configured = _sources_file(settings).sources
    health = {h.id: h for h in source_health(open_engine(settings.database_url))}
    for config in configured:
        state = health.get(config.id)
        status = "désactivée" if not config.enabled else (
            state.last_outcome or "jamais récupérée") if state else "jamais récupérée"  # fmt: skip
        events = state.events_count if state else 0
        click.echo(f"{config.id:<28} {status:<14} {events:>5} événements  {config.url}")


@sources.command("add")
@click.argument("url")
@click.option("--id", "source_id", required=True, help="Slug: a-z, 0-9, -.")
@click.option("--name", required=True)
@click.option("--territory", default=None)
@click.option("--tag", "tags", multiple=True)
@click.option("--website", default=None)
@click.option("--refresh", default="1h", show_default=True)
def sources_add(
    url: str, source_id: str, name: str, territory: str | None, tags: tuple[str, ...],
    website: str | None, refresh: str,
) -> None:  # fmt: skip
    """Test-fetch URL, show what it gives, and add it to sources.toml."""
    from aggregator.preview import preview_url
    from aggregator.sources_edit import add_source

    settings = _settings()
    preview = preview_url(url, settings.allow_hosts, settings.timezone, territory)
    if preview.error:
        click.echo(f"Refusé : {preview.error}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"{preview.kind} : {preview.total} événements à venir, "
               f"{len(preview.warnings)} avertissement(s)")  # fmt: skip
    for event in preview.events[:5]:
        click.echo(f"  {event.start:%Y-%m-%d %H:%M} UTC  {event.title}  [{event.territory}]")
    values = {"id": source_id, "name": name, "url": preview.url, "kind": preview.kind,
              "territory": territory, "tags": list(tags), "website": website,
              "refresh": refresh}  # fmt: skip
    _edit(settings, add_source(values), f"Source {source_id} ajoutée.")


@sources.command("disable")
@click.argument("source_id")
def sources_disable(source_id: str) -> None:
    """Stop fetching a source (its events stay until they pass)."""
    from aggregator.sources_edit import update_source

    _edit(_settings(), update_source(source_id, {"enabled": False}), f"{source_id} désactivée.")


@sources.command("enable")
@click.argument("source_id")
def sources_enable(source_id: str) -> None:
    from aggregator.sources_edit import update_source

    _edit(_settings(), update_source(source_id, {"enabled": True}), f"{source_id} activée.")


@sources.command("remove")
@click.argument("source_id")
def sources_remove(source_id: str) -> None:
    """Remove a source from sources.toml (a backup is kept as sources.toml.bak)."""
    from aggregator.sources_edit import remove_source

    settings = _settings()
    _edit(settings, remove_source(source_id), f"{source_id} retirée.")
    _retire(settings, source_id)


def _retire(settings: Settings, source_id: str) -> None:
    """Its events leave the agenda now, not at the next refresh."""
    from zoneinfo import ZoneInfo

    from aggregator.store import open_engine
    from aggregator.store.clusters import retire

    engine = open_engine(settings.database_url)
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=settings.window_past_days)
    removed = retire(engine, [source_id], now, since, ZoneInfo(settings.timezone))
    if removed:
        click.echo(f"{removed} événement(s) retiré(s) de l'agenda.")
    engine.dispose()


@sources.command("check")
def sources_check() -> None:
    """Validate sources.toml; exit 2 with the line and key at fault."""
    loaded = _sources_file(_settings())
    click.echo(f"{len(loaded.sources)} sources valides, {len(loaded.aliases)} alias de lieux.")


if __name__ == "__main__":
    main()
