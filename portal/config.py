"""Settings, read from the environment once (SecureDrop ``sdconfig``, Zulip secrets)."""
from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portal.oidc_settings import OidcProvider, providers_from_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_MARKER = "dev-insecure-"  # noqa: S105 - a prefix marking generated dev secrets


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete for the chosen mode."""


def _instance_dir() -> Path:
    return Path(os.environ.get("PORTAL_INSTANCE", PROJECT_ROOT / "instance"))


def instance_dir() -> Path:
    """The directory of this checkout's generated files (``PORTAL_INSTANCE``)."""
    return _instance_dir()


def _dev_secret(name: str) -> str:
    """A per-checkout development secret, kept under ``instance/`` (never in the repo)."""
    path = _instance_dir() / f"{name}.secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = DEV_SECRET_MARKER + secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass
class Config:
    """All settings of one portal process. Field names are the Flask config keys."""

    ENV: str = "development"  # development | production | testing
    SECRET_KEY: str = ""
    # Separate key for personal codes and TOTP secrets at rest: rotating the session key must
    # not make stored data unreadable.
    DATA_KEY: str = ""
    DATABASE_URL: str = ""
    REDIS_URL: str | None = None
    MAIL_URL: str | None = None
    MAIL_FROM: str = "portals@cvk.lv"
    PORTAL_GNUPGHOME: str = ""
    BASE_URL: str = "http://127.0.0.1:5000"
    SESSION_COOKIE_SECURE: bool = False
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_NAME: str = "portal_session"
    # Idle and absolute limits of a signed-in session.
    SESSION_IDLE_MINUTES: int = 30
    PERMANENT_SESSION_LIFETIME: timedelta = timedelta(hours=12)
    # The cookie is re-sent only when the session changes (its last-seen time at most once a
    # minute, see portal.app), not re-signed on every request.
    SESSION_REFRESH_EACH_REQUEST: bool = False
    WTF_CSRF_ENABLED: bool = True
    WTF_CSRF_TIME_LIMIT: int | None = 3600 * 12
    MAX_CONTENT_LENGTH: int = 25 * 1024 * 1024
    # /register/import alone takes register extracts (500 000 rows are ~30 MB).
    REGISTER_IMPORT_MAX_BYTES: int = 512 * 1024 * 1024
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_HEADERS_ENABLED: bool = True
    # Redis down: count attempts per process instead of failing every sign-in (docs/deploy.md).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: bool = True
    # Ballot casts and audits per signed-in voter (portal.voting.ballot_limits). Load tests,
    # where a few synthetic voters cast far more often than people do, raise it.
    VOTER_BALLOT_RATE_LIMIT: str = "20 per 10 minutes; 100 per day"
    # Accepted ballot casts answered by portal.voting.lean_cast, in front of Flask (anything
    # else it hands to the full app). Off: every cast takes the full Flask request.
    LEAN_CAST: bool = True
    # Online initiative signatures taken by portal.initiatives.lean_sign, in front of Flask
    # (anything else it hands to the full app). Off: every signature takes the full request.
    LEAN_SIGN: bool = True
    # Failed sign-in attempts (password or second factor) per account, counted apart for
    # browsers that carry the account's device cookie from an earlier sign-in: a stranger
    # failing on purpose slows down other browsers only (portal/accounts/throttle.py).
    LOGIN_ACCOUNT_LIMIT: str = "5 per 15 minutes"
    LOGIN_DEVICE_LIMIT: str = "10 per 15 minutes"
    # The person is e-mailed once this many attempts failed since their last sign-in.
    LOGIN_NOTIFY_AFTER_FAILURES: int = 5
    # Invitation links (account activation) stay valid this long.
    INVITATION_LIFETIME_HOURS: int = 72
    # Hours before each key-generation round's deadline when trustees who still owe the round
    # get a reminder (one per lead time).
    DKG_REMINDER_HOURS: tuple[float, ...] = (24.0, 2.0)
    BABEL_DEFAULT_LOCALE: str = "lv"
    BABEL_DEFAULT_TIMEZONE: str = "Europe/Riga"
    LANGUAGES: tuple[str, ...] = ("lv", "en")
    # Voter sign-in: "otp" (built-in one-time code) and/or "oidc" (the OpenID Connect
    # providers of OIDC_PROVIDERS: the national authentication gateway, an eIDAS node).
    VOTER_IDENTITY_PROVIDERS: tuple[str, ...] = ("otp",)
    OTP_SHOW_CODE_ON_SCREEN: bool = False
    OIDC_PROVIDERS: tuple[OidcProvider, ...] = ()
    # Seconds to wait for a provider's discovery, keys and token endpoints.
    OIDC_TIMEOUT: float = 10.0
    # Messaging.
    NOTIFY_UNREAD_AFTER_MINUTES: int = 15
    MESSAGE_EDIT_WINDOW_MINUTES: int = 10
    MAX_ATTACHMENT_BYTES: int = 10 * 1024 * 1024
    # Cases: service-level figures are reused for this long per scope (0 = never).
    CASE_DASHBOARD_CACHE_SECONDS: int = 30
    # The counts beside the navigation are reused for this long per person (0 = never); the
    # person's own writes show at once, others' within this period.
    WORK_COUNTS_CACHE_SECONDS: int = 10
    # Voting: home-voting requests (Art. 19) close at this Riga time on referendum
    # day. The law names no cut-off: open rule, default 12:00.
    HOME_VOTING_CUTOFF: str = "12:00"
    # Socket.IO / Celery channel names on Redis (distinct per deployment or test run).
    SOCKETIO_CHANNEL: str = "portal-socketio"
    CELERY_QUEUE: str = "portal"
    # Operations (docs/deploy.md). LOG_FORMAT "json" | "text" | "" (leave logging alone).
    LOG_FORMAT: str = ""
    LOG_LEVEL: str = "INFO"
    # /metrics: only these networks (empty = any address) and, when set, only with this token.
    METRICS_ALLOW: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    METRICS_TOKEN: str | None = None
    # /readyz fails (503) when no Celery worker answers; off by default (pages work without one).
    READYZ_REQUIRE_WORKER: bool = False
    # Retention (SECURITY.md "Retention"): personal data is deleted this long after the
    # work it served is final, by the daily task or `referendum-portal retention run`.
    # Signatures: after the initiative's final state; covers the Art. 13(6)-(7) appeals and the
    # referendum that follows within 4 months (Art. 13(4)).
    SIGNATURE_RETENTION_DAYS: int = 365
    # The fewest entries of a kind a signature board's batch publishes while signatures may
    # still be added (docs/spec/signature-board.md §6).
    SIGNATURE_BOARD_MIN_BATCH: int = 10
    # Voter sign-in codes, after use or expiry (they sign no one in by then).
    ONE_TIME_CODE_RETENTION_HOURS: int = 24
    # Settled notification outbox rows (sent, cancelled, failed); pending rows are never deleted.
    NOTIFICATION_RETENTION_DAYS: int = 30
    # Register import history (report by line, file name) and leftover staging rows.
    REGISTER_IMPORT_RETENTION_DAYS: int = 90
    # Home-voting address and reason (health), after the results are approved (Art. 20(7), 31).
    HOME_VOTING_RETENTION_DAYS: int = 90
    # ETVR marks and registration envelopes (who voted where), after the results are approved.
    VOTER_MARK_RETENTION_DAYS: int = 365
    # Signed checkpoints (docs/spec/checkpoints.md): the Ed25519 master key (PKCS#8 PEM, never in
    # the database; production: required, made by `openssl genpkey -algorithm ed25519`), the
    # append-only file every checkpoint is copied to, and an optional RFC 3161 time-stamping
    # service (off unless set).
    CHECKPOINT_KEY_FILE: str = ""
    CHECKPOINT_LOG_FILE: str = ""
    CHECKPOINT_TSA_URL: str | None = None
    CHECKPOINT_TSA_TIMEOUT: float = 10.0
    # The commission's PAdES signing key and certificate chain (PKCS#12) for the PDFs it issues
    # (results protocols, signature-check decisions); production: required, from a qualified
    # trust service provider; elsewhere a local test CA is made there on first use.
    COMMISSION_SIGNING_PKCS12: str = ""
    COMMISSION_SIGNING_PASSPHRASE: str = ""
    # The demo clock (README "Try it in ten minutes"): "" (real time), "auto" / "online" (the
    # Tuesday of this week, online voting open), "polling" (this week's Saturday 10:00) or an ISO
    # date / aware date-time. Real time shifted, advancing; refused in production.
    DEMO_CLOCK: str = ""
    TESTING: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    def as_flask(self) -> dict[str, Any]:
        data = asdict(self)
        data["OIDC_PROVIDERS"] = self.OIDC_PROVIDERS  # kept as objects, not dicts
        extra = data.pop("extra")
        data.update(extra)
        data["SQLALCHEMY_URL"] = self.DATABASE_URL
        return data

    def validate(self) -> None:
        """Refuse unsafe production settings.

        Raises:
            ConfigError: production without a real secret key, data key or HTTPS cookies.
        """
        self._validate_demo_clock()
        problems = [p for provider in self.OIDC_PROVIDERS
                    for p in provider.problems(self.is_production)]
        if problems:
            raise ConfigError("; ".join(problems))
        if not self.is_production:
            return
        for name in ("SECRET_KEY", "DATA_KEY"):
            value = getattr(self, name)
            if not value or value.startswith(DEV_SECRET_MARKER) or len(value) < 32:
                raise ConfigError(f"{name} must be set to a random value of 32+ characters in production")
        if not self.SESSION_COOKIE_SECURE:
            raise ConfigError("production requires HTTPS cookies (SESSION_COOKIE_SECURE)")
        if not self.BASE_URL.startswith("https://"):
            raise ConfigError("production requires an https:// BASE_URL")
        if "otp" in self.VOTER_IDENTITY_PROVIDERS:
            raise ConfigError("the built-in one-time-code sign-in is for demos; use the eID gateway "
                              "(VOTER_IDENTITY_PROVIDERS=oidc) in production")
        if self.OTP_SHOW_CODE_ON_SCREEN:
            raise ConfigError("OTP_SHOW_CODE_ON_SCREEN is a demo setting and is refused in production")
        if not self.CHECKPOINT_KEY_FILE or not os.path.isfile(self.CHECKPOINT_KEY_FILE):
            raise ConfigError("production requires CHECKPOINT_KEY_FILE: the Ed25519 key (PEM) that "
                              "signs audit and board checkpoints, kept outside the database")
        if not self.CHECKPOINT_LOG_FILE:
            raise ConfigError("production requires CHECKPOINT_LOG_FILE (the append-only copy of "
                              "the checkpoints)")
        if not self.COMMISSION_SIGNING_PKCS12 or not os.path.isfile(
                self.COMMISSION_SIGNING_PKCS12):
            raise ConfigError("production requires COMMISSION_SIGNING_PKCS12: the commission's "
                              "signing certificate and key (PKCS#12) for PAdES-signed PDFs")


    def _validate_demo_clock(self) -> None:
        from referendum_core.clock import demo_now

        if not self.DEMO_CLOCK:
            return
        if self.is_production:
            raise ConfigError("DEMO_CLOCK shifts the portal's time for demonstrations and is "
                              "refused in production; unset it")
        try:
            demo_now(datetime.now(UTC), self.DEMO_CLOCK)
        except ValueError as err:
            raise ConfigError(f"DEMO_CLOCK: {err} (use auto, online, polling, an ISO date or "
                              "an ISO date-time with a time zone)") from None


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _demo_clock_setting(value: str | None) -> str:
    """``DEMO_CLOCK`` as given; empty for unset, ``off``, ``0`` or ``false``."""
    value = (value or "").strip()
    if value.lower() in ("", "off", "0", "false", "no"):
        return ""
    return value.lower() if value.lower() in ("auto", "online", "polling") else value


def from_env(environ: dict[str, str] | None = None, **overrides: Any) -> Config:
    """Build the configuration from environment variables (and explicit overrides)."""
    env = dict(os.environ if environ is None else environ)
    mode = env.get("PORTAL_ENV", "development")
    production = mode == "production"
    instance = _instance_dir()
    cfg = Config(
        ENV=mode,
        SECRET_KEY=env.get("SECRET_KEY") or ("" if production else _dev_secret("secret_key")),
        DATA_KEY=env.get("DATA_KEY") or ("" if production else _dev_secret("data_key")),
        DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}",
        REDIS_URL=env.get("REDIS_URL") or None,
        MAIL_URL=env.get("MAIL_URL") or None,
        MAIL_FROM=env.get("MAIL_FROM", "portals@cvk.lv"),
        PORTAL_GNUPGHOME=env.get("PORTAL_GNUPGHOME") or str(instance / "gnupg"),
        BASE_URL=env.get("BASE_URL", "https://" if production else "http://127.0.0.1:5000"),
        SESSION_COOKIE_SECURE=_bool(env.get("SESSION_COOKIE_SECURE"), production),
        OTP_SHOW_CODE_ON_SCREEN=_bool(env.get("OTP_SHOW_CODE_ON_SCREEN"), not production),
        VOTER_IDENTITY_PROVIDERS=tuple(
            p.strip() for p in env.get("VOTER_IDENTITY_PROVIDERS", "otp").split(",") if p.strip()),
        OIDC_PROVIDERS=providers_from_env(env),
        OIDC_TIMEOUT=float(env.get("OIDC_TIMEOUT", "10")),
        NOTIFY_UNREAD_AFTER_MINUTES=int(env.get("NOTIFY_UNREAD_AFTER_MINUTES", "15")),
        MESSAGE_EDIT_WINDOW_MINUTES=int(env.get("MESSAGE_EDIT_WINDOW_MINUTES", "10")),
        MAX_ATTACHMENT_BYTES=int(env.get("MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024))),
        REGISTER_IMPORT_MAX_BYTES=int(env.get("REGISTER_IMPORT_MAX_BYTES",
                                              str(512 * 1024 * 1024))),
        CASE_DASHBOARD_CACHE_SECONDS=int(env.get("CASE_DASHBOARD_CACHE_SECONDS", "30")),
        WORK_COUNTS_CACHE_SECONDS=int(env.get("WORK_COUNTS_CACHE_SECONDS", "10")),
        HOME_VOTING_CUTOFF=env.get("HOME_VOTING_CUTOFF", "12:00"),
        VOTER_BALLOT_RATE_LIMIT=env.get("VOTER_BALLOT_RATE_LIMIT",
                                        "20 per 10 minutes; 100 per day"),
        LEAN_CAST=_bool(env.get("LEAN_CAST"), True),
        LEAN_SIGN=_bool(env.get("LEAN_SIGN"), True),
        LOGIN_ACCOUNT_LIMIT=env.get("LOGIN_ACCOUNT_LIMIT", "5 per 15 minutes"),
        LOGIN_DEVICE_LIMIT=env.get("LOGIN_DEVICE_LIMIT", "10 per 15 minutes"),
        INVITATION_LIFETIME_HOURS=int(env.get("INVITATION_LIFETIME_HOURS", "72")),
        DKG_REMINDER_HOURS=tuple(float(h) for h in env.get("DKG_REMINDER_HOURS", "24,2")
                                 .split(",") if h.strip()),
        SOCKETIO_CHANNEL=env.get("SOCKETIO_CHANNEL", "portal-socketio"),
        CELERY_QUEUE=env.get("CELERY_QUEUE", "portal"),
        LOG_FORMAT=env.get("LOG_FORMAT", "json" if production else "text").strip().lower(),
        LOG_LEVEL=env.get("LOG_LEVEL", "INFO").strip().upper(),
        METRICS_ALLOW=tuple(n.strip() for n in env.get(
            "METRICS_ALLOW", "127.0.0.1/32,::1/128").split(",") if n.strip()),
        METRICS_TOKEN=env.get("METRICS_TOKEN") or None,
        READYZ_REQUIRE_WORKER=_bool(env.get("READYZ_REQUIRE_WORKER"), False),
        SIGNATURE_RETENTION_DAYS=int(env.get("SIGNATURE_RETENTION_DAYS", "365")),
        SIGNATURE_BOARD_MIN_BATCH=int(env.get("SIGNATURE_BOARD_MIN_BATCH", "10")),
        ONE_TIME_CODE_RETENTION_HOURS=int(env.get("ONE_TIME_CODE_RETENTION_HOURS", "24")),
        NOTIFICATION_RETENTION_DAYS=int(env.get("NOTIFICATION_RETENTION_DAYS", "30")),
        REGISTER_IMPORT_RETENTION_DAYS=int(env.get("REGISTER_IMPORT_RETENTION_DAYS", "90")),
        HOME_VOTING_RETENTION_DAYS=int(env.get("HOME_VOTING_RETENTION_DAYS", "90")),
        VOTER_MARK_RETENTION_DAYS=int(env.get("VOTER_MARK_RETENTION_DAYS", "365")),
        CHECKPOINT_KEY_FILE=env.get("CHECKPOINT_KEY_FILE")
        or ("" if production else str(instance / "checkpoint-signing.pem")),
        CHECKPOINT_LOG_FILE=env.get("CHECKPOINT_LOG_FILE")
        or ("" if production else str(instance / "checkpoints.jsonl")),
        CHECKPOINT_TSA_URL=env.get("CHECKPOINT_TSA_URL") or None,
        CHECKPOINT_TSA_TIMEOUT=float(env.get("CHECKPOINT_TSA_TIMEOUT", "10")),
        COMMISSION_SIGNING_PKCS12=env.get("COMMISSION_SIGNING_PKCS12")
        or ("" if production else str(instance / "commission-signing.p12")),
        COMMISSION_SIGNING_PASSPHRASE=env.get("COMMISSION_SIGNING_PASSPHRASE", ""),
        DEMO_CLOCK=_demo_clock_setting(env.get("DEMO_CLOCK")),
    )
    if cfg.REDIS_URL:
        cfg.RATELIMIT_STORAGE_URI = cfg.REDIS_URL
    for key, value in overrides.items():
        if hasattr(cfg, key):
            setattr(cfg, key, value)
        else:
            cfg.extra[key] = value
    return cfg
