FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/parley

# Dependencies first, pinned, so code changes do not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
COPY app/__init__.py app/__init__.py
RUN pip install -c constraints.txt -e .

COPY app app
COPY alembic alembic
COPY alembic.ini ./

RUN useradd --system --uid 10001 parley
USER parley
EXPOSE 8000
# `serve` applies migrations before it listens.
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8000"]
