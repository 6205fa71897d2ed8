"""PostgreSQL access shared by every package: schema migrations and connection pools."""

from database.migrate import MigrationError, migrate
from database.pool import create_pool
from database.urls import redacted

__all__ = ["MigrationError", "create_pool", "migrate", "redacted"]
