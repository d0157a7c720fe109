# syntax=docker/dockerfile:1
# Build stage: compilers and pip live here only.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools

# Runtime stage: slim, non-root, no compilers, no pip or setuptools.
FROM python:3.11-slim
# json logs unless the operator sets SELLBOT_LOG_FORMAT=console; 0 disables the ops port
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SELLBOT_LOG_FORMAT=json \
    SELLBOT_HTTP_PORT=8080
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 sellbot \
    && useradd --system --uid 10001 --gid sellbot --home-dir /app sellbot
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
COPY alembic.ini ./
RUN mkdir -p /app/data && chown 10001:10001 /app/data
USER 10001:10001
EXPOSE 8080
# Healthy when /healthz answers 200; with the ops port disabled (0) there is nothing to ask
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request as u; p=os.environ.get('SELLBOT_HTTP_PORT','8080'); sys.exit(0 if p=='0' or u.urlopen('http://127.0.0.1:%s/healthz' % p, timeout=4).status==200 else 1)"]
ENTRYPOINT ["sellbot"]
CMD ["run"]
