#!/bin/sh
# Container start: migrate once, start the scheduler unless told not to (web replicas),
# then serve with gunicorn. With several replicas, the scheduler's database lock lets only
# one of them fetch; the others' schedulers just wait.
set -e
aggregator migrate
if [ "${AGENDA_RUN_SCHEDULER:-1}" = "1" ]; then
    aggregator scheduler &
fi
exec gunicorn --config /app/deploy/gunicorn.conf.py
