"""One typed Settings object, loaded once per composition root.

Precedence (highest first): ``COMMENTMOD_*`` environment variables, then the TOML file named by
``COMMENTMOD_CONFIG`` (default: ``config/commentmod.toml`` when it exists), then the defaults
below. Every key is documented in ``config/commentmod.toml``. Secrets (``email_keys``,
``hash_key``) are read from the environment only: a config file that sets them is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from service.domain.checks import CHECKS

SECRET_KEYS = frozenset({"email_keys", "hash_key"})
DEFAULT_CONFIG_FILE = Path("config/commentmod.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMMENTMOD_", extra="forbid")

    # --- storage and broker -------------------------------------------------------------
    database_url: str = "sqlite:///var/commentmod.db"
    broker_url: str = "sqla+sqlite:///var/broker.db"
    db_pool_size: int = Field(default=5, ge=1)
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)

    # --- secrets (environment only) -----------------------------------------------------
    email_keys: SecretStr | None = None
    hash_key: SecretStr | None = None

    # --- submission rules ---------------------------------------------------------------
    max_body_bytes: int = Field(default=65_536, ge=1024)
    max_text_chars: int = Field(default=10_000, ge=1)
    check_email_deliverability: bool = False
    flood_interval_seconds: float = Field(default=15.0, ge=0)
    auth_cache_seconds: float = Field(default=10.0, ge=0)
    idempotency_ttl_hours: int = Field(default=24, ge=1)

    # --- pipeline -----------------------------------------------------------------------
    # NoDecode: the env form is "spam,toxicity", not JSON.
    checks: Annotated[tuple[str, ...], NoDecode] = ("spam", "toxicity")
    relay_interval_seconds: float = Field(default=5.0, gt=0)
    relay_grace_seconds: float = Field(default=10.0, ge=0)
    relay_stale_seconds: float = Field(default=60.0, gt=0)
    relay_max_sends: int = Field(default=4, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    check_max_retries: int = Field(default=3, ge=0)
    check_retry_backoff_max_seconds: int = Field(default=60, ge=1)
    # A site with fewer labels for a check keeps the default model (`commentmod train --site`).
    site_model_min_labels: int = Field(default=200, ge=2)
    # The scheduler retrains a site's model for a check once this many labels arrived since
    # the last training (docs/models.md, "Scheduled retraining"); it looks every interval
    # (0: never) and a training holds its (site, check) lease at most lease seconds.
    site_retrain_min_new_labels: int = Field(default=100, ge=1)
    site_retrain_interval_seconds: float = Field(default=3600.0, ge=0)
    site_retrain_lease_seconds: int = Field(default=1800, ge=10)
    task_soft_time_limit_seconds: int = Field(default=30, ge=1)
    task_time_limit_seconds: int = Field(default=60, ge=2)
    broker_visibility_timeout_seconds: int = Field(default=300, ge=10)
    broker_timeout_seconds: float = Field(default=1.0, gt=0)
    worker_concurrency: int = Field(default=2, ge=1)
    # check name -> "module:factory" returning a Detector; replaces the built-in detector.
    detector_plugins: dict[str, str] = Field(default_factory=dict)
    # Redis only: how often a worker sweeps for unacknowledged messages older than the
    # visibility timeout (kombu's restore; its default sweep is ~100 s).
    broker_restore_interval_seconds: int = Field(default=10, ge=1)

    # --- rate limits on POST /v1/comments (service/ratelimit.py) -------------------------
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    rate_limit_site_requests: int = Field(default=600, ge=0)
    rate_limit_ip_requests: int = Field(default=20, ge=0)
    rate_limit_redis_url: str | None = None

    # --- default moderation policy (a site may override) --------------------------------
    policy_max_links: int = Field(default=2, ge=1)
    policy_premoderation: Literal["off", "all", "first_time"] = "off"

    # --- webhooks -----------------------------------------------------------------------
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=20)
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_max_interval_seconds: float = Field(default=3600.0, gt=0)
    webhook_retry_window_hours: float = Field(default=24.0, gt=0)

    # --- web ----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_workers: int = Field(default=2, ge=1)
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)
    public_page_cache_seconds: float = Field(default=1.0, ge=0)
    log_level: str = "INFO"
    var_dir: Path = Path("var")

    # --- moderators' console (service/console, docs/console.md) --------------------------
    console_session_minutes: float = Field(default=480.0, gt=0)
    console_cookie_secure: bool = False

    @model_validator(mode="after")
    def _redelivery_after_everything(self) -> Settings:
        # acks_late on Redis: a message is redelivered once it stayed unacknowledged this
        # long, so a healthy task (hard time limit) or a retry waiting for its countdown must
        # always finish first, or it would run twice.
        longest = max(self.task_time_limit_seconds, self.check_retry_backoff_max_seconds)
        if self.broker_visibility_timeout_seconds <= longest:
            raise ValueError(
                "broker_visibility_timeout_seconds must exceed task_time_limit_seconds and "
                "check_retry_backoff_max_seconds"
            )
        return self

    @field_validator("checks", mode="before")
    @classmethod
    def _split_checks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, (tuple, list)):
            unknown = [name for name in value if name not in CHECKS]
            if unknown:  # only checks of the registry (service/domain/checks.py)
                raise ValueError(f"unknown check: {', '.join(map(str, unknown))}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(_TomlWithoutSecrets(settings_cls, toml_file=config_file))
        return tuple(sources)


class _TomlWithoutSecrets(TomlConfigSettingsSource):
    """The config file source; refuses secrets so they can only come from the environment."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        leaked = SECRET_KEYS & set(data)
        if leaked:
            raise ValueError(
                f"secrets must come from the environment, not the config file: {sorted(leaked)}"
            )
        return data


def _config_file() -> Path | None:
    named = os.environ.get("COMMENTMOD_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"COMMENTMOD_CONFIG names a missing file: {path}")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from env + config file; ``overrides`` win (tests and the CLI use them)."""
    return Settings(**overrides)
