# One image for every process: web, worker, beat and the one-shot migration.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENGAGEMENT_DATA_DIR=/data

RUN groupadd --system engagement \
    && useradd --system --gid engagement --home-dir /app --no-create-home --shell /usr/sbin/nologin engagement \
    && mkdir -p /app /data \
    && chown engagement:engagement /data

WORKDIR /app

# The locked, hash-checked dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY engagement ./engagement
COPY templates ./templates
COPY workers ./workers
RUN pip install --no-deps . && rm -rf build ./*.egg-info

USER engagement
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["engagement"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
