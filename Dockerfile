# Agenda ESS 05: the site (gunicorn) and, by default, the scheduler, in one container.
#   docker build -t agenda-ess05 .
#   docker run -p 8000:8000 -v agenda-data:/data agenda-ess05
# With PostgreSQL and several web replicas: see deploy/compose.example.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AGENDA_SOURCES=/data/sources.toml \
    AGENDA_DATABASE_URL=sqlite:////data/agenda.sqlite3 \
    AGENDA_CACHE_DIR=/data/cache

RUN useradd --create-home --uid 10001 agenda
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aggregator ./aggregator
COPY webapp ./webapp
COPY deploy ./deploy
RUN pip install --no-cache-dir . \
    && mkdir -p /data && chown agenda /data
COPY --chown=agenda sources.toml /data/sources.toml
USER agenda
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
