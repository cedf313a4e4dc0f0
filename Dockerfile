# syntax=docker/dockerfile:1
# monitor: docker run -d -v "$PWD/config.yaml:/config/config.yaml:ro" -v monitor-data:/data IMAGE
# Datasette on the same archive: docker run -p 8001:8001 -v "$PWD/config.yaml:/config/config.yaml:ro" \
#   -v monitor-data:/data IMAGE monitor serve --host 0.0.0.0
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN python -m venv /opt/monitor \
    && /opt/monitor/bin/pip install --no-cache-dir -c constraints.txt '.[web,postgres]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data monitor \
    && mkdir -p /data /config \
    && chown monitor /data
COPY --from=build /opt/monitor /opt/monitor
ENV PATH="/opt/monitor/bin:$PATH" \
    MONITOR_CONFIG=/config/config.yaml \
    MONITOR_ARCHIVE=/data/monitor.db \
    PYTHONUNBUFFERED=1
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9108 8001
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 CMD ["monitor", "check"]
STOPSIGNAL SIGTERM
CMD ["monitor", "run", "--metrics", "0.0.0.0:9108"]
