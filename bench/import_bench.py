"""The history import at scale: generate a WordPress export of N comments (default 100,000:
20 per post, published / held / spam / trash, Devanagari, Hinglish and English, one in five a
reply), create a site, then run ``commentmod import wordpress`` as a child process twice (the
import, then the re-import that must change nothing) and print, as its last line, one JSON
object: wall time, comments per second and the child's peak RSS for each run.

    .venv/bin/python bench/import_bench.py [--comments 100000] [--database-url URL]

Without ``--database-url`` (or COMMENTMOD_DATABASE_URL) the database is a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.db.migrate import upgrade  # noqa: E402
from service.domain.privacy import generate_email_key, generate_hash_key  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.usecases.services import build_services  # noqa: E402
from service.usecases.sites import create_site  # noqa: E402

TEXTS = [
    "बहुत अच्छा लेख है, धन्यवाद। टिप्पणी संख्या {n}",
    "Sahi baat hai bhai, sarkar ko jawab dena chahiye ({n})",
    "A balanced piece; I would like more detail on the costs. #{n}",
    "Cheap pills https://pills.example/{n} best price https://pills.example/buy",
    "tu ek number ka gadha hai {n}",
]
STATES = ["1", "1", "0", "spam", "trash"]
PER_POST = 20

HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><link>https://bench.example</link>
"""
COMMENT = """<wp:comment><wp:comment_id>{n}</wp:comment_id>
<wp:comment_author><![CDATA[Reader {a}]]></wp:comment_author>
<wp:comment_author_email><![CDATA[reader{a}@example.com]]></wp:comment_author_email>
<wp:comment_author_url></wp:comment_author_url>
<wp:comment_author_IP><![CDATA[203.0.{b}.{c}]]></wp:comment_author_IP>
<wp:comment_date_gmt><![CDATA[2023-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00]]>
</wp:comment_date_gmt>
<wp:comment_content><![CDATA[{text}]]></wp:comment_content>
<wp:comment_approved><![CDATA[{state}]]></wp:comment_approved>
<wp:comment_type><![CDATA[comment]]></wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>
"""


def write_export(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(1, count + 1):
            if n % PER_POST == 1:
                if n > 1:
                    out.write("</item>\n")
                post = n // PER_POST + 1
                out.write(
                    f"<item><title>Post {post}</title><link>https://bench.example/p/{post}</link>"
                    f"<wp:post_id>{post}</wp:post_id><wp:post_type>post</wp:post_type>\n"
                )
            parent = n - 1 if n % 5 == 0 and n % PER_POST != 1 else 0
            out.write(
                COMMENT.format(
                    n=n,
                    a=n % 5000,
                    b=n % 250,
                    c=n % 200,
                    month=n % 12 + 1,
                    day=n % 28 + 1,
                    hour=n % 24,
                    minute=n % 60,
                    text=TEXTS[n % len(TEXTS)].format(n=n),
                    state=STATES[n % len(STATES)],
                    parent=parent,
                )
            )
        out.write("</item>\n</channel></rss>\n")


def run_import(env: dict[str, str], slug: str, export: Path) -> dict[str, Any]:
    out_path, err_path = export.with_suffix(".out"), export.with_suffix(".err")
    started = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service.cli",
                "import",
                "wordpress",
                "--site",
                slug,
                str(export),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # the child's own peak RSS
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"import failed: {err_path.read_text()[-2000:]}")
    summary = json.loads(out_path.read_text())
    done = summary["imported"] + summary["skipped_duplicate"]
    return {
        "seconds": round(seconds, 1),
        "comments_per_second": round(done / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "imported": summary["imported"],
        "skipped_duplicate": summary["skipped_duplicate"],
        "malformed": summary["malformed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("COMMENTMOD_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            database_url=database_url,
            email_keys=generate_email_key(),
            hash_key=generate_hash_key(),
            var_dir=Path(tmp),
        )
        upgrade(database_url)
        svc = build_services(settings)
        try:
            site, _ = create_site(svc, f"bench-{uuid.uuid4().hex[:8]}")
        finally:
            svc.close()
        export = Path(tmp) / "export.xml"
        write_export(export, args.comments)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTMOD_")}
        env.update(
            COMMENTMOD_DATABASE_URL=database_url,
            COMMENTMOD_EMAIL_KEYS=settings.email_keys.get_secret_value(),  # type: ignore[union-attr]
            COMMENTMOD_HASH_KEY=settings.hash_key.get_secret_value(),  # type: ignore[union-attr]
            COMMENTMOD_VAR_DIR=tmp,
        )
        first = run_import(env, site.slug, export)
        again = run_import(env, site.slug, export)
        print(
            json.dumps(
                {
                    "comments": args.comments,
                    "file_mib": round(export.stat().st_size / 2**20, 1),
                    "database": database_url.split(":", 1)[0],
                    "import": first,
                    "reimport": again,
                }
            )
        )


if __name__ == "__main__":
    main()
