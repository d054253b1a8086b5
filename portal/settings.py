"""Project settings. Every value that differs between machines comes from the
environment through portal.config, which names the setting when it is wrong."""

from pathlib import Path

from portal import config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

SECRET_KEY = config.read_secret_key(VAR_DIR / "secret_key")
FIELD_ENCRYPTION_KEY = config.read_fernet_key(VAR_DIR / "field_encryption_key")
DEBUG = config.read_bool("DEBUG", default=False)
ALLOWED_HOSTS = config.read_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", required=True)
# Behind an HTTPS reverse proxy the browser's origin differs from ours.
CSRF_TRUSTED_ORIGINS = config.read_list("CSRF_TRUSTED_ORIGINS", "")
REDIS_URL = config.read_redis_url()

# Behind a reverse proxy that terminates HTTPS (docs/nginx-portal.conf): cookies
# only over HTTPS, HSTS, the proxy's X-Forwarded-Proto trusted, plain HTTP
# redirected. `manage.py check --deploy` is clean with it.
BEHIND_HTTPS_PROXY = config.read_bool("BEHIND_HTTPS_PROXY", default=False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # monitoring may ask over plain HTTP on the inside
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = config.read_seconds("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    # The portal has a host name of its own: its subdomains (if any) are its own too.
    # "preload" only allows submitting the name to the browsers' list; it submits nothing.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "channels",
    "core",
    "inventory",
    "accounts",
    "vms",
    "consoles",
    "selfservice",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": config.read_database(VAR_DIR / "db.sqlite3")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, workers) write to it: wait for a lock, not fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Host monitoring has its own queue and worker: a long disk copy must never
# delay noticing that a host stopped answering.
CELERY_TASK_ROUTES = {
    name: {"queue": "monitor"}
    for name in ("hosts.check", "storagedomains.refresh", "vms.reconcile", "hosts.maintenance_resume", "clusters.balance")
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HOST_CHECK_INTERVAL_SECONDS = config.read_seconds("HOST_CHECK_INTERVAL_SECONDS", 15)
STORAGE_REFRESH_INTERVAL_SECONDS = config.read_seconds("STORAGE_REFRESH_INTERVAL_SECONDS", 60)
# Catches VM state changes whose libvirt event was missed (the watcher delivers the rest at once).
VM_RECONCILE_INTERVAL_SECONDS = config.read_seconds("VM_RECONCILE_INTERVAL_SECONDS", 30)
# A non responsive host with power management is fenced (power-cycled through its
# BMC) after this long, and at most once per FENCE_QUIET_SECONDS (oVirt's quiet time).
FENCE_GRACE_SECONDS = config.read_seconds("FENCE_GRACE_SECONDS", 60)
FENCE_QUIET_SECONDS = config.read_seconds("FENCE_QUIET_SECONDS", 180)
# How often each cluster's balancer takes one step (its scheduling policy's; oVirt: every minute).
BALANCE_INTERVAL_SECONDS = config.read_seconds("BALANCE_INTERVAL_SECONDS", 60)
# How long the password in a downloaded remote-viewer (.vv) file opens the VM's console.
CONSOLE_CLIENT_PASSWORD_SECONDS = config.read_seconds("CONSOLE_CLIENT_PASSWORD_SECONDS", 120)
# A VM's snapshot chain deeper than this is shown with a warning (each level slows its qcow2 disks).
SNAPSHOT_CHAIN_WARNING_DEPTH = config.read_positive("SNAPSHOT_CHAIN_WARNING_DEPTH", 8, "snapshots")
# /healthz names hosts, their URIs and libvirt's errors to anonymous callers too (else to system admins only).
HEALTHZ_DETAILS = config.read_bool("HEALTHZ_DETAILS", default=False)
# The largest image or ISO an upload may bring (held in FILE_UPLOAD_TEMP_DIR while it is checked and sent to the host).
IMAGE_UPLOAD_MAX_BYTES = config.read_positive("IMAGE_UPLOAD_MAX_BYTES", 64 * 1024**3, "bytes")

# A console ticket opens a VM's console once, within this many seconds of being issued.
CONSOLE_TICKET_SECONDS = config.read_seconds("CONSOLE_TICKET_SECONDS", 120)
# Where the console proxy (manage.py console_proxy, websockify) listens; daphne
# relays the browser's /websockify there, so the console is on the portal's origin.
CONSOLE_PROXY_URL = config.read_websocket_url("CONSOLE_PROXY_URL", "ws://127.0.0.1:6080")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        # Filters, ?q= search and ?ordering= all come from the list's FilterSet
        # (core/filters.py), which its page uses too.
        "django_filters.rest_framework.DjangoFilterBackend",
    ],
    # ?format= is a field's filter (images), not a switch of the response's format.
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "core.api.exceptions.handle_exception",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portal API",
    "DESCRIPTION": "Data centers, clusters, hosts, storage, VMs, jobs and events.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "ENUM_NAME_OVERRIDES": {
        "AttachmentStatusEnum": "inventory.choices.ATTACHMENT_STATUS_CHOICES",
        "DiskImageStatusEnum": "vms.choices.DISK_IMAGE_STATUS_CHOICES",
        "DiskInterfaceEnum": "vms.choices.DISK_INTERFACE_CHOICES",
        "NicModelEnum": "vms.choices.NIC_MODEL_CHOICES",
        "ConsoleTypeEnum": "vms.choices.CONSOLE_TYPE_CHOICES",
        "MigrationPolicyEnum": "inventory.choices.MIGRATION_POLICY_CHOICES",
        "DiskAllocationEnum": "vms.choices.DISK_ALLOCATION_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
