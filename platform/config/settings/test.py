"""Test settings: fast hashing, locmem email; the database comes from DATABASE_URL."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests give each test its own folder, and pass it to the worker processes they start.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".test-media")  # noqa: F405
