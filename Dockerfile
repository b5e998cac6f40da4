# BoneRead image: gunicorn web server and Celery worker share it (docker-compose.yml).
# Stage 1 builds the frontend; stage 2 installs the same pinned Python dependencies as the
# Makefile (requirements.txt), with PyTorch's CPU wheel index so that torch==2.13.0 is the CPU build.

FROM node:20-bookworm-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    BONEREAD_VAR_DIR=/data/var \
    MEDIA_ROOT=/data/media
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 curl libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
COPY ml/pyproject.toml ml/pyproject.toml
COPY ml/boneread_ml ml/boneread_ml
RUN pip install -r requirements.txt
COPY backend backend
COPY ml ml
COPY --from=frontend /app/frontend/dist frontend/dist
RUN useradd --create-home --uid 1000 boneread \
    && mkdir -p /data/var /data/media && chown -R boneread /data \
    && SECRET_KEY=build-only python backend/manage.py collectstatic --noinput -v0
USER boneread
WORKDIR /app/backend
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
