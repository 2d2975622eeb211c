# One image for every role (web, worker, scheduler, migrate); compose picks the command.
# With --build-arg EXTRAS=train it is the trainer's image (the training stack, scipy and
# scikit-learn, for the scheduler's site model retraining): the web's image never has it.
FROM python:3.11-slim AS base
ARG EXTRAS=

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
COPY config ./config
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
 && useradd --system --uid 10001 --home /app commentmod \
 && mkdir -p /app/var /tmp/prometheus \
 && chown -R commentmod /app/var /tmp/prometheus

USER commentmod
ENV COMMENTMOD_CONFIG=/app/config/commentmod.toml \
    COMMENTMOD_VAR_DIR=/app/var
EXPOSE 8000
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "--bind", "0.0.0.0:8000", "service.api:create_app_from_env()"]
