"""Settings: environment variables (prefix ``TASKS_CORE_``) over an optional TOML file.

The TOML file is the one named by ``TASKS_CORE_CONFIG``, else ``./tasks-core.toml`` when it
exists. ``configs/tasks-core.toml`` documents every setting with its default. A missing
named file, a file that is not TOML, and a key or ``TASKS_CORE_*`` variable that names no
setting are refused with a `ConfigurationError` (see `tasks_core.settings_sources`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tasks_core.errors import ConfigurationError
from tasks_core.settings_sources import (
    check_environment,
    config_file,
    describe_invalid,
    read_config_file,
    setting_sources,
)

__all__ = ["Settings", "get_settings", "reset_settings"]

_REDIS_URL_SCHEMES = frozenset({"redis", "rediss", "unix"})


class Settings(BaseSettings):
    """Every setting of tasks-core, with its default."""

    model_config = SettingsConfigDict(env_prefix="TASKS_CORE_", extra="ignore")

    redis_url: str | None = Field(
        default=None, description="Redis for records, events and results; unset: embedded Redis"
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker; unset: the Redis URL (amqp:// also works)"
    )
    key_prefix: str = Field(default="tc", description="prefix of every Redis key tasks-core writes")
    data_dir: Path = Field(
        default=Path.home() / ".tasks-core",
        description="embedded Redis data and pid files",
    )
    embedded_port: int = Field(
        default=0,
        description="embedded Redis port; 0: the port it had before (data_dir/redis.port), "
                    "else a free one")
    result_ttl_seconds: int = Field(default=86_400, gt=0, description="how long results live")
    result_max_bytes: int = Field(default=1_000_000, gt=0, description="largest JSON result")
    parameters_max_bytes: int = Field(
        default=1_000_000, gt=0,
        description="largest JSON parameters of a run sent to a queue (every path)")
    parameters_max_depth: int = Field(
        default=100, gt=0,
        description="deepest nesting of a parameter sent to a queue (lists, dicts)")
    run_ttl_seconds: int = Field(
        default=86_400, gt=0,
        description="how long a finished run (Completed, Cached, Cancelled) is kept: record, "
                    "history, logs, children index")
    failed_run_ttl_seconds: int = Field(
        default=7 * 86_400, gt=0,
        description="how long a run that ended Failed, TimedOut or Crashed is kept: record, "
                    "history, logs, error, children index")
    artifact_max_bytes: int = Field(
        default=1_000_000, gt=0, description="largest JSON data of one artifact")
    batch_interval_ms: float = Field(
        default=50.0, gt=0, description="longest a buffered state change waits before a flush"
    )
    batch_linger_ms: float = Field(
        default=0.0, ge=0, description="how long a terminal state waits to share a round trip"
    )
    batch_size: int = Field(
        default=500, gt=0, description="flush as soon as this many are buffered"
    )
    map_chunk_size: int = Field(
        default=100, gt=0, description="runs per Celery message when .map() fans out"
    )
    map_claim_ahead: int = Field(
        default=16, gt=0, description="most runs of a .map() chunk a worker claims in one "
        "round trip while they are short")
    default_pool: str = Field(default="default", description="work pool (queue) of unrouted runs")
    task_routes: dict[str, Any] | list[Any] = Field(
        default_factory=dict,
        description="Celery's task_routes: task name or glob -> queue (or a list of them)")
    heartbeat_interval_seconds: float = Field(
        default=2.0, gt=0, description="how often worker processes prove they are alive"
    )
    heartbeat_timeout_seconds: float = Field(
        default=10.0, gt=0, description="a worker process silent this long is dead"
    )
    pending_resend_seconds: float = Field(
        default=30.0, gt=0, description="a run Pending this long without a claim is re-sent"
    )
    sweep_interval_seconds: float = Field(
        default=5.0, gt=0, description="how often beat's sweeper looks for lost and crashed runs"
    )
    beat_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often beat sends due runs and checks schedules"
    )
    schedule_horizon_seconds: float = Field(
        default=3600.0, gt=0, description="how far ahead beat creates scheduled runs"
    )
    schedule_max_runs: int = Field(
        default=100, gt=0, description="most scheduled runs created ahead per deployment"
    )
    catchup_grace_seconds: float = Field(
        default=1.0, ge=0,
        description="a schedule's run sent later than this after its time: its catchup policy "
                    "decides",
    )
    late_after_seconds: float = Field(
        default=15.0, gt=0, description="a scheduled run not started this long after is Late"
    )
    event_retention: int = Field(
        default=100_000, gt=0, description="events kept on the stream (approximate)"
    )
    event_retention_seconds: int = Field(
        default=7 * 86_400, gt=0,
        description="events older than this are trimmed from the stream (approximate)")
    event_name_max_chars: int = Field(
        default=1024, gt=0, description="longest event name (characters)")
    event_labels_max: int = Field(
        default=500, gt=0, description="most labels on one resource of an event")
    event_related_max: int = Field(
        default=100, gt=0, description="most related resources of one event")
    event_payload_max_bytes: int = Field(
        default=256 * 1024, gt=0, description="largest payload of an event (JSON bytes)")
    event_flush_interval_ms: float = Field(
        default=50.0, gt=0, description="longest an emitted event waits in its buffer")
    event_buffer_max: int = Field(
        default=10_000, gt=0,
        description="events buffered per process before emit_event waits (then raises)")
    automation_max_chain_depth: int = Field(
        default=5, ge=1,
        description="longest causal chain of automation firings; deeper ones are stopped")
    engine_reclaim_idle_seconds: float = Field(
        default=5.0, gt=0,
        description="unacked stream entries idle this long are reclaimed by the trigger engine")
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="CallWebhook actions may call loopback and private addresses")
    webhook_body_max_bytes: int = Field(
        default=1_048_576, gt=0,
        description="largest request body /hooks/<slug> reads (bytes); a longer one gets 413")
    webhook_rate_limit: int = Field(
        default=600, ge=0,
        description="requests a webhook takes per rate window (429 past it); 0: no limit")
    webhook_rate_window_seconds: int = Field(
        default=60, gt=0, description="the fixed window webhook_rate_limit counts in (seconds)")
    api_key: SecretStr | None = Field(
        default=None,
        description="the HTTP API's key (Authorization: Bearer KEY); unset: no key asked, and "
                    "`tasks-core server` binds to loopback only")
    server_port: int = Field(default=4200, ge=1, le=65535,
                             description="port of the HTTP API (`tasks-core server`, `up`)")
    api_stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=3600,
        description="seconds between heartbeat comments on GET /api/events/stream")
    flower_url: str = Field(
        default="http://127.0.0.1:5555", max_length=2000,
        description="Flower's URL: the dashboard links to it while it takes connections "
                    "(empty: no link)")
    deadletter_max: int = Field(
        default=10_000, gt=0,
        description="set-aside messages kept (`tasks-core deadletter ls`); the oldest go first",
    )
    task_time_limit: float = Field(
        default=0.0, ge=0,
        description="Celery's task_time_limit: seconds after which a worker kills a task run's "
                    "attempt, for tasks without a time_limit of their own (0: none)")
    task_soft_time_limit: float = Field(
        default=0.0, ge=0,
        description="Celery's task_soft_time_limit: seconds after which SoftTimeLimitExceeded "
                    "is raised in a task run's body, for tasks without a soft_time_limit or "
                    "timeout_seconds of their own (0: none)")
    task_events: bool = Field(
        default=False,
        description="workers always send Celery task events (a running Flower turns them on)",
    )
    always_eager: bool = Field(
        default=False,
        description="run .delay() and .apply_async() in the calling process, tracked (tests; "
                    "Celery's task_always_eager)")
    beat_schedule: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Celery-style periodic tasks that `tasks-core beat` runs (entry name -> "
                    "task, schedule, args, kwargs, options)")
    connect_retries: int = Field(
        default=5, ge=0, description="attempts to reach Redis before giving up (backoff)"
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_api_key_is_unset(cls, value: object) -> object:
        """An empty or blank key (``TASKS_CORE_API_KEY=`` from an unset variable in a
        compose file) is no key at all, never one that anyone can send."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not text.strip():
            return None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_has_a_scheme(cls, value: str | None) -> str | None:
        # redis-py's own check would only come when connecting, as a traceback
        if value is not None and value.split("://", 1)[0] not in _REDIS_URL_SCHEMES:
            raise ValueError(
                f"{value!r} is not a Redis URL: it must start with redis://, rediss:// or "
                "unix:// (e.g. redis://localhost:6379/0)")
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url_has_a_scheme(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(f"{value!r} is not a broker URL: it must start with a scheme "
                             "such as redis://, rediss:// or amqp://")
        return value

    @field_validator("key_prefix")
    @classmethod
    def _prefix_is_plain(cls, value: str) -> str:
        if not value or any(ch in value for ch in " {}*?"):
            raise ValueError(
                f"key_prefix {value!r} must be non-empty with no spaces, braces or globs")
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
        fields = settings_cls.model_fields
        check_environment(fields)  # a misspelt TASKS_CORE_* variable is refused, not ignored
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(InitSettingsSource(settings_cls, read_config_file(path, fields)))
        return tuple(sources)

    @property
    def effective_broker_url(self) -> str | None:
        """The broker URL, or None when it is the (possibly embedded) Redis URL."""
        return self.broker_url or self.redis_url

    def describe(self) -> dict[str, Any]:
        """Settings as a plain dict, for `tasks-core` status output."""
        return self.model_dump(mode="json")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once.

    Raises:
        ConfigurationError: a bad settings file or TASKS_CORE_* variable (one line naming
            it, see `tasks_core.settings_sources`), or a value that does not validate (the
            setting, its value and where it came from).
    """
    try:
        return Settings()
    except ValidationError as exc:
        path = config_file()
        fields = list(Settings.model_fields)
        data = read_config_file(path, fields) if path is not None else {}
        sources = setting_sources(fields, path, data)
        raise ConfigurationError(describe_invalid(exc.errors(), sources)) from None


def reset_settings() -> None:
    """Forget cached settings (tests, and processes that change the environment)."""
    get_settings.cache_clear()
