"""Structured logs: one JSON object per line, each carrying the request id."""

import logging
import logging.config
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

from app.errors import where_raised

LogFormat = Literal["json", "text"]


class WithoutExceptionText(logging.Filter):
    """Every exception reaches the logs as its kind and the frames it passed through, never
    its message: a database's message can quote the row it refused (a patient's name, a
    message's text), and uvicorn logs what escapes the app with its full text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}"
            record.args = None
            record.stack = where_raised(error)
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(*, level: str = "INFO", log_format: LogFormat = "json") -> None:
    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "correlation_id": "request_id",
            },
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            # uvicorn adds an ANSI-coloured copy of some messages; it is noise in JSON.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
    else:
        formatter = {
            "format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s %(message)s"
        }
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {
                    "()": "asgi_correlation_id.CorrelationIdFilter",
                    "default_value": "-",
                },
                "without_exception_text": {"()": WithoutExceptionText},
            },
            "formatters": {"default": formatter},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "default",
                    "filters": ["request_id", "without_exception_text"],
                }
            },
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {
                # Our access log replaces uvicorn's, which is neither JSON nor timed.
                "uvicorn.access": {"handlers": [], "propagate": False},
                "uvicorn.error": {"level": level},
                # These log request parameters or bodies (resource JSON, message text)
                # at DEBUG: never let them, whatever the level asked for.
                "httpx": {"level": "WARNING"},
                "httpcore": {"level": "WARNING"},
                "aiosqlite": {"level": "WARNING"},
                "psycopg": {"level": "WARNING"},
                "sqlalchemy.engine": {"level": "WARNING"},
                "multipart": {"level": "WARNING"},
            },
        }
    )
