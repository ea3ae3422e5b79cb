# syntax=docker/dockerfile:1
# One image for every process: `docker run IMAGE run ingest-api`, `... migrate`, `... topics create`.
# Build stage: uv installs exactly what uv.lock pins (no dev group) into /app/.venv.
# Web stage: Node builds the agents' inbox (web/) from package-lock.json into static files.
# Final stage: the same slim Python, the virtualenv and the inbox's built assets, nothing else
# (no uv, no compilers, no Node), running as an unprivileged user.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.8
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
# Dependencies first (cached while only source changes), then the project itself, not editable.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python
COPY libs ./libs
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable --python /usr/local/bin/python

FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="omnichannel-realtime" \
      org.opencontainers.image.description="Omnichannel Realtime: every entry point, run as omni COMMAND"
RUN groupadd --system --gid 10001 omni \
    && useradd --system --uid 10001 --gid omni --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin omni
COPY --from=build --chown=root:root /app/.venv /app/.venv
# The gateway serves the inbox at / on the API's origin (GATEWAY_WEB_DIR).
COPY --from=web --chown=root:root /web/dist /app/web
ENV PATH=/app/.venv/bin:$PATH \
    GATEWAY_WEB_DIR=/app/web \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
# HTTP services listen on 8080; workers serve /healthz /readyz /metrics on OPS_PORT (9000).
EXPOSE 8080 9000
ENTRYPOINT ["omni"]
CMD ["--help"]
