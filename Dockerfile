# One image for every process: web, worker, beat, the one-shot migration and the doctor.
# The build stage installs the locked, hash-checked dependencies and the project into a
# virtual environment; the runtime stage holds that environment alone (no build files, no
# pip cache) and runs as an unprivileged user. The widget's bundle comes from a node stage
# (esbuild as package-lock.json pins it); node goes no further.
FROM node:20-slim AS widget
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY widget/ widget/
RUN npm run build


FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/engagement/bin:$PATH

RUN python -m venv /opt/engagement
WORKDIR /src

# The dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the project: whatever .dockerignore lets through (sources, templates, packaging files).
COPY . .
<<<<<<< HEAD
# The catalogs are compiled here (.mo files are built, never committed) and ship in the package.
RUN python -c "from engagement.i18n.extraction import compile_all; compile_all()" \
    && pip install --no-deps . && find /opt/engagement -name __pycache__ -prune -exec rm -rf {} +
=======
COPY --from=widget /src/engagement/web/static/widget.js engagement/web/static/widget.js
RUN pip install --no-deps . && find /opt/engagement -name __pycache__ -prune -exec rm -rf {} +
>>>>>>> main


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/engagement/bin:$PATH \
    ENGAGEMENT_DATA_DIR=/data

RUN groupadd --system engagement \
    && useradd --system --gid engagement --home-dir /data --no-create-home --shell /usr/sbin/nologin engagement \
    && mkdir -p /data \
    && chown engagement:engagement /data

COPY --from=build /opt/engagement /opt/engagement

WORKDIR /data
USER engagement
VOLUME ["/data"]
EXPOSE 8000

# The web process answers /healthz; worker and beat containers set their own check (compose).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

ENTRYPOINT ["engagement"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
