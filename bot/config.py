"""The one Settings object, read from the environment and `.env`, built in main() and passed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Product.md section 9. Secrets have no defaults: unset means the transport is off."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///vangnet.db"
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Microsoft Teams: a single-tenant Azure bot (its app id, client secret and tenant)
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    port: int = 3000
    vangnet_region_file: Path | None = None
    vangnet_language: Literal["nl", "en"] = "nl"
    vangnet_sweep_seconds: int = Field(default=60, ge=1)
    # Fernet keys for the personal fields, comma-separated, newest first (bot/store/secret_key.py)
    vangnet_secret_key: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        """Accept the usual `postgres://` and `postgresql://` forms; we ship psycopg 3."""
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def teams_enabled(self) -> bool:
        """Teams runs when its app id, client secret and tenant are all set."""
        return not self.teams_missing and self.teams_app_id is not None

    @property
    def teams_missing(self) -> list[str]:
        """The Teams variables still unset when some are set (none set: Teams is off)."""
        given = {
            "TEAMS_APP_ID": bool(self.teams_app_id),
            "TEAMS_APP_PASSWORD": self.teams_app_password is not None,
            "TEAMS_TENANT_ID": bool(self.teams_tenant_id),
        }
        if not any(given.values()):
            return []
        return [name for name, set_ in given.items() if not set_]

    @property
    def platform_enabled(self) -> bool:
        return self.slack_enabled or self.telegram_enabled or self.teams_enabled

    @property
    def uses_demo_region(self) -> bool:
        return self.vangnet_region_file is None
