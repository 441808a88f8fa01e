# The gateway, the action server and the dispatcher: one image, three commands (deploy/compose.yml).
# Built from the repository's root: docker build -f deploy/Dockerfile.app -t wuye-app .
FROM python:3.11-slim
WORKDIR /app
COPY requirements/app.lock requirements/app.lock
RUN python -m venv /app/.venv \
 && /app/.venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements/app.lock
COPY actions actions
COPY backend_bridge backend_bridge
COPY bot bot
COPY common common
COPY connectors connectors
COPY console console
COPY content content
COPY ops ops
COPY rasa_sdk_plugins rasa_sdk_plugins
ENV PATH=/app/.venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 WUYE_VAR_DIR=/app/var
# Chat text is personal data: nothing runs as root, and what the processes write only they read.
RUN useradd --uid 10001 --no-create-home wuye && mkdir -p /app/var && chown wuye /app/var && chmod 700 /app/var
USER 10001
CMD ["python", "-m", "connectors"]
