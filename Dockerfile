# One image for every component; the Deployments in deploy/ pick the command:
#   tuner operator | tuner server | tuner suggestion-server   (and `tuner run`, `tuner serve` ...)
# Build: docker build -t tuner-hpo:0.1.0 .
# The base is pinned to an exact release; pin its digest too where your registry policy asks for it.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TUNER_HOME=/var/lib/tuner

WORKDIR /src
COPY pyproject.toml README.md ./
COPY tuner ./tuner
COPY controllers ./controllers
COPY suggestions ./suggestions
COPY pipelines ./pipelines
COPY serving ./serving
# The `cluster` extra adds the Kubernetes client (operator) and s3fs (S3-compatible artifact stores).
RUN pip install ".[cluster]" \
 && rm -rf /src \
 && useradd --uid 10001 --create-home --home-dir /home/tuner tuner \
 && mkdir -p /var/lib/tuner \
 && chown tuner /var/lib/tuner

WORKDIR /home/tuner
USER 10001
EXPOSE 8080 8081 6789
ENTRYPOINT ["tuner"]
CMD ["server"]
