# syntax=docker/dockerfile:1
# Core20PLUS targeting: one image with the app and the national atlas built in (docs/deploy.md).
#
#   docker build -t core20plus .                          downloads the official files from their publishers
#   docker build --build-arg DATA=local -t core20plus .   uses the files put in deploy/data-in/ (no internet)
#
# The builder fetches the data and builds the atlas and every precomputed answer; the runtime stage is
# python:3.12-slim with the virtual environment and the built cache copied in: no compilers, no Chromium, no npm,
# no raw data. It runs as a non-root user, with a read-only root file system if wanted: only /tmp (a tmpfs) is
# written, and only with Streamlit's own needs and the sign-in settings (see docs/deploy.md).

ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS builder
# DATA=fetch: `python -m targeting fetch` (and, with FETCH_LATEST=true, `fetch --latest` for the newest month);
# DATA=local: read the published files as they are from deploy/data-in/ (e.g. a copy of the bundled data folder)
ARG DATA=fetch
ARG FETCH_LATEST=true
# the ICB's own package index, if PyPI is not reachable: --build-arg PIP_INDEX_URL=https://…/simple
ARG PIP_INDEX_URL
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CORE20_RAW=/build/raw \
    CORE20_CACHE=/app/data/cache
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY geo/ geo/
COPY targeting/ targeting/
RUN pip install --no-compile . && python -m compileall -q /opt/venv
COPY deploy/data-in/ /build/data-in/
RUN set -e; \
    if [ "$DATA" = local ]; then \
        export CORE20_DATA=/build/data-in; \
    else \
        python -m targeting fetch; \
        if [ "$FETCH_LATEST" = true ]; then python -m targeting fetch --latest; fi; \
    fi; \
    python -m targeting sources; \
    python -m targeting build --quiet; \
    python -c "from geo.months import months_built; from targeting.precompute import open_answers; \
[open_answers(build_if_missing=True, registrations=m) for m in months_built()[0]]"; \
    rm -rf /build/raw
WORKDIR /app
COPY streamlit_app.py ./
COPY app_pages/ app_pages/
COPY docs/ docs/
COPY .streamlit/config.toml .streamlit/config.toml
COPY deploy/entrypoint.py deploy/healthcheck.py deploy/
# Leaflet's files, which streamlit_app.py would otherwise copy into static/ at start, are put there now
RUN python -c "from targeting.render.assets import install_static_assets; install_static_assets('/app/static')" \
    && python -m compileall -q /app

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Core20PLUS targeting" \
      org.opencontainers.image.description="Core20PLUS neighbourhoods, PCN gaps and outreach plans for England's NHS" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 core20 \
    && useradd --system --uid 10001 --gid core20 --home-dir /tmp/home --no-create-home \
       --shell /usr/sbin/nologin core20
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
# Settings come from the environment (deploy/entrypoint.py lists them). Everything written at run time goes to /tmp.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp/home \
    TMPDIR=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    XDG_CACHE_HOME=/tmp/cache \
    CORE20_CACHE=/app/data/cache \
    PORT=8501
USER 10001:10001
WORKDIR /app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]
CMD ["python", "/app/deploy/entrypoint.py"]
