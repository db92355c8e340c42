"""A database cloned from the test database, for fault injection on the whole system started for real
(tests/live_servers.py)."""

import psycopg
from psycopg import sql

from tests.live_servers import database_url


class ClonedDatabase:
    """A PostgreSQL database made from the test database as a template (its schema and rows, in a second), queried
    and disrupted over the test's own connection, which is never among those it terminates."""

    def __init__(self, source: dict, suffix: str):
        self.source = source
        self.name = f"{source['NAME']}{suffix}"
        self.url = database_url({**source, "NAME": self.name})
        self._own: psycopg.Connection | None = None

    def _server(self, statement: sql.Composable, params: tuple = ()) -> None:
        with psycopg.connect(
            host=self.source["HOST"],
            port=self.source["PORT"],
            user=self.source["USER"],
            password=self.source.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        ) as server:
            server.execute(statement, params)

    def create(self) -> None:
        """A template may have no other session: the test's closed its own, this ends any left by earlier tests."""
        self._server(
            sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"),
            (self.source["NAME"],),
        )
        self.drop()
        self._server(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.name), sql.Identifier(self.source["NAME"])
            )
        )

    def drop(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None
        self._server(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def rows(self, query: str, params: tuple = ()) -> list[tuple]:
        if self._own is None:
            self._own = psycopg.connect(
                host=self.source["HOST"],
                port=self.source["PORT"],
                user=self.source["USER"],
                password=self.source.get("PASSWORD") or None,
                dbname=self.name,
                autocommit=True,
            )
        return self._own.execute(query, params).fetchall()

    def terminate_others(self) -> int:
        """`pg_terminate_backend` on every other connection to this database: the web server's and the worker's."""
        [(ended,)] = self.rows(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return ended
