"""``commentmod import wordpress|disqus|csv``: a site's history, streamed in batches, with a
progress line on stderr and a JSON summary on stdout."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from service.cli.common import fail, print_json
from service.domain.imports.csvfile import CsvHeaderMissing, parse_label_csv
from service.domain.imports.disqus import parse_disqus
from service.domain.imports.records import Entry, ExportRefused, Malformed, TrashAs
from service.domain.imports.wordpress import parse_wordpress
from service.settings import Settings
from service.usecases.imports import ImportOptions, ImportSummary, import_history
from service.usecases.services import NotFound, build_services, utcnow

Parse = Callable[[], Iterator[Entry | Malformed]]


def _parser(args: argparse.Namespace) -> Parse:
    path = Path(args.file)
    started_at = utcnow()

    def entries() -> Iterator[Entry | Malformed]:
        if args.format == "csv":
            with path.open(encoding="utf-8-sig", newline="") as text:
                yield from parse_label_csv(text, started_at)
            return
        with path.open("rb") as raw:
            if args.format == "wordpress":
                yield from parse_wordpress(raw, keep_pingbacks=args.keep_pingbacks)
            else:
                yield from parse_disqus(raw)

    return entries


class Progress:
    """``import: 12,000/100,000 (12%)`` on stderr: rewritten in place on a terminal, one
    line per tenth otherwise."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.is_tty = sys.stderr.isatty()
        self.last_tenth = -1
        self.started = time.monotonic()

    def __call__(self, summary: ImportSummary) -> None:
        done = summary.seen
        tenth = done * 10 // self.total
        if not self.is_tty and tenth == self.last_tenth:
            return
        self.last_tenth = tenth
        line = f"import: {done:,}/{self.total:,} ({done * 100 // self.total}%)"
        line += f" {time.monotonic() - self.started:.0f}s"
        print(
            ("\r" + line) if self.is_tty else line, end="" if self.is_tty else "\n", file=sys.stderr
        )


# A batch is one multi-row INSERT: 26 parameters a comment, under SQLite's 32,766.
MAX_BATCH = 1000


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.batch_size <= MAX_BATCH:
        return fail(f"--batch-size must be between 1 and {MAX_BATCH}")
    entries = _parser(args)
    try:
        total = sum(1 for _ in entries())  # the whole file is read once before any write
    except (ExportRefused, CsvHeaderMissing, UnicodeDecodeError) as exc:
        return fail(f"cannot import {args.file}: {exc}")
    except OSError as exc:
        return fail(f"cannot read {args.file}: {type(exc).__name__}")
    options = ImportOptions(
        source=args.format,
        trash_as=TrashAs(args.trash_as),
        recheck=args.recheck,
        batch_size=args.batch_size,
    )
    svc = build_services(settings)
    progress = Progress(total)
    try:
        summary = import_history(svc, args.site, entries(), options, progress)
        if progress.is_tty:
            print(file=sys.stderr)
        if options.recheck:
            svc.producer.flush()
    except NotFound:
        return fail(f"no site {args.site!r}")
    finally:
        svc.close()
    print_json({"file": args.file, **summary.as_dict()})
    return 0


def add_commands(sub: Any) -> None:
    group = sub.add_parser("import", help="import a site's comment history").add_subparsers(
        dest="import_format", required=True
    )
    helps = {
        "wordpress": "a WordPress WXR export (FILE.xml)",
        "disqus": "a Disqus export (FILE.xml)",
        "csv": "labelled comments: text,label[,lang,created_at,thread_id] (FILE.csv)",
    }
    for name, help_text in helps.items():
        cmd = group.add_parser(name, help=help_text)
        cmd.add_argument(
            "--site", required=True, help="the slug of the site the history belongs to"
        )
        cmd.add_argument("file", help="the export file to read")
        cmd.add_argument(
            "--trash-as",
            choices=[t.value for t in TrashAs],
            default=TrashAs.TOXIC.value,
            help="the label of a trashed/deleted comment (default: toxic, for the toxicity check)",
        )
        cmd.add_argument(
            "--recheck",
            action="store_true",
            help="comments awaiting moderation enter as pending and go through the checks",
        )
        cmd.add_argument("--batch-size", type=int, default=500, help="comments per transaction")
        if name == "wordpress":
            cmd.add_argument(
                "--keep-pingbacks",
                action="store_true",
                help="import pingbacks and trackbacks too (skipped by default)",
            )
        cmd.set_defaults(func=cmd_import, format=name)
