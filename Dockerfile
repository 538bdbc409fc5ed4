# One image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 tiebreak
COPY requirements.txt pyproject.toml ./
RUN pip install -r requirements.txt
COPY . .
# Installs the `config` package from platform/config (see pyproject.toml) and collects
# static files with a throwaway key (collectstatic reads settings but serves nothing). The
# media volume (queued import uploads) takes the owner of /app/media when it is created.
RUN pip install --no-deps -e . \
    && SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_urlsafe(64))") \
       python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown tiebreak:tiebreak /app/media
USER tiebreak
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
