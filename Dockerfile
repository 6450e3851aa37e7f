# BlackBull serving the Autobahn/h2spec echo app on port 9001 (see docker-compose.yml).
# Build: docker build -t blackbull .   Run: docker run -p 9001:9001 blackbull
FROM python:3.11-slim

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app

# The package first (its metadata may name a README; the [d] glob copies it when present).
COPY pyproject.toml README.m[d] ./
COPY blackbull ./blackbull
RUN pip install --no-cache-dir ".[speed]"

# The conformance apps are imported from /app (PYTHONPATH), not installed.
COPY conformance ./conformance

EXPOSE 9001
CMD ["blackbull", "conformance.autobahn.echo_app:app", "--bind", "0.0.0.0:9001"]
