# The Leda image: the `leda` CLI, which runs as a worker, a migration job or an operator's shell.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
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
COPY worker.py settings.py observability.py ./
RUN pip install --no-cache-dir . && useradd --system leda
USER leda
ENTRYPOINT ["leda"]
CMD ["worker"]
