"""The configuration every command reads, wherever the shell that runs it stands.

``make run`` starts ``serve`` from the project root with ``var/secrets.env`` sourced; a
second shell (any directory, nothing sourced) must reach the same database with the same
secrets. So, in a source checkout (the directory holding ``pyproject.toml`` above this
package):

- secrets missing from the environment are read from ``<root>/var/secrets.env`` (the file
  ``make run`` generates; the environment always wins; ``COMMENTMOD_SECRETS_FILE`` names
  another file);
- ``config/commentmod.toml`` is found at the root when the working directory has none;
- relative SQLite paths (database, broker) and ``var_dir`` resolve against the root, the
  directory ``make run`` works in, and are exported so the processes ``serve`` starts agree.

Outside a checkout (an installed package, e.g. the container) nothing is rewritten.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

from sqlalchemy.engine import make_url

from service.settings import DEFAULT_CONFIG_FILE, Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET_VARIABLES = ("COMMENTMOD_EMAIL_KEYS", "COMMENTMOD_HASH_KEY")


def project_root() -> Path | None:
    """The source checkout this package runs from, or None when installed elsewhere."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else None


def load_secrets_file(environ: MutableMapping[str, str]) -> Path | None:
    """Fill missing secrets from the development secrets file; returns the file read."""
    named = environ.get("COMMENTMOD_SECRETS_FILE")
    root = project_root()
    path = Path(named) if named else (root / "var" / "secrets.env" if root else None)
    if path is None or not path.is_file() or all(environ.get(v) for v in SECRET_VARIABLES):
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name in SECRET_VARIABLES and not environ.get(name):
            environ[name] = value.strip().strip("'\"")
    return path


def find_config_file(environ: MutableMapping[str, str]) -> None:
    """Point ``COMMENTMOD_CONFIG`` at the root's config file when the cwd has none."""
    root = project_root()
    if environ.get("COMMENTMOD_CONFIG") or DEFAULT_CONFIG_FILE.is_file() or root is None:
        return
    if (root / DEFAULT_CONFIG_FILE).is_file():
        environ["COMMENTMOD_CONFIG"] = str(root / DEFAULT_CONFIG_FILE)


def _absolute_sqlite(url: str, root: Path) -> str | None:
    """``url`` with its relative SQLite path made absolute under ``root``; None if unchanged."""
    prefix, sep, path = url.partition(":///")
    if not sep or not prefix.endswith("sqlite") or not path or path.startswith(("/", ":")):
        return None
    return f"{prefix}:///{(root / path).as_posix()}"


def anchor_paths(settings: Settings, environ: MutableMapping[str, str]) -> Settings:
    """Relative SQLite paths and ``var_dir`` resolved against the project root (and exported,
    so the children of ``serve`` use the same files)."""
    root = project_root()
    if root is None:
        return settings
    update: dict[str, object] = {}
    for field, variable in (
        ("database_url", "COMMENTMOD_DATABASE_URL"),
        ("broker_url", "COMMENTMOD_BROKER_URL"),
    ):
        absolute = _absolute_sqlite(getattr(settings, field), root)
        if absolute:
            update[field] = environ[variable] = absolute
    if not settings.var_dir.is_absolute():
        update["var_dir"] = root / settings.var_dir
        environ["COMMENTMOD_VAR_DIR"] = str(update["var_dir"])
    return settings.model_copy(update=update) if update else settings


def where(database_url: str) -> str:
    """The database's location for an error message (file path, or URL without password)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or ":memory:").resolve())
    return url.render_as_string(hide_password=True)


def check_secrets(settings: Settings) -> None:
    """Both secrets present and usable, or ``PrivacyConfigError`` naming the variable."""
    from service.domain.privacy import PrivacyConfigError, Vault

    for variable, value in zip(
        SECRET_VARIABLES, (settings.email_keys, settings.hash_key), strict=True
    ):
        if value is None or not value.get_secret_value().strip():
            raise PrivacyConfigError(
                f"{variable} is not set (make run writes var/secrets.env; "
                "or export the output of `commentmod keys generate`)"
            )
    Vault(settings.email_keys.get_secret_value() if settings.email_keys else None, None).check()
