# The Leda image: the `leda` CLI, which runs as a worker, the HTTP API, a migration job or an operator's shell.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY adapters adapters
COPY eventstore eventstore
COPY database database
COPY directory directory
COPY devstack devstack
COPY cli cli
COPY pilots pilots
COPY programmes programmes
COPY reports reports
COPY projections projections
COPY api api
COPY access access
COPY web web
COPY worker.py settings.py observability.py temporal_connection.py ./
RUN pip install --no-cache-dir . && useradd --system leda
USER leda
# The API (`leda api`) and the worker's Prometheus metrics (LEDA_METRICS_BIND_ADDRESS, set by docker-compose.yml).
EXPOSE 8000 9464
ENTRYPOINT ["leda"]
CMD ["worker"]
