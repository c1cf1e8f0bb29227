# Agenda ESS 05: one container serving the site (gunicorn) and refreshing the sources.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AGENDA_SOURCES=/data/sources.toml \
    AGENDA_DATABASE_URL=sqlite:////data/agenda.sqlite3

RUN useradd --create-home --uid 10001 agenda
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aggregator ./aggregator
COPY webapp ./webapp
RUN pip install --no-cache-dir .
COPY sources.toml /data/sources.toml
RUN chown -R agenda /data
USER agenda
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "webapp:create_app()"]
