"""What PostgreSQL plans for a list's page query, taken as the view sends it (through the client, filters applied)."""

import json
import re
from collections.abc import Iterator

from django.db import connection
from django.test.utils import CaptureQueriesContext

PAGE_LIMIT = re.compile(r" LIMIT \d+( OFFSET \d+)?$")


def page_query(client, url: str, table: str) -> str:
    """The SQL of the page `url` reads from `table`: the first query reading that table, ordered, under a LIMIT (the
    count before it has no ORDER BY; the prefetches after it have no LIMIT). An admin changelist that redirects to
    its default filter is followed."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    for query in queries.captured_queries:
        sql = query["sql"]
        if f'FROM "{table}"' in sql and " ORDER BY " in sql and PAGE_LIMIT.search(sql):
            return sql
    raise AssertionError(f"{url} sent no page query on {table}: {[q['sql'] for q in queries.captured_queries]}")


def plan_of(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (document,) = cursor.fetchone()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def index_reads(plan: dict) -> set[str]:
    """The indexes the plan reads (index, index-only and bitmap index scans)."""
    return {n["Index Name"] for n in nodes(plan) if "Index Name" in n}


def page_nodes(plan: dict) -> Iterator[dict]:
    """The nodes that make the page's rows, leaving out subplans run once per page row (e.g. an enrollment's first
    demo lesson, read among that enrollment's own few lessons)."""
    yield plan
    for child in plan.get("Plans", []):
        if child.get("Parent Relationship") != "SubPlan":
            yield from page_nodes(child)


def full_sorts(plan: dict) -> list[dict]:
    """Sort nodes of the page (not an Incremental Sort, which sorts only ties of an index's order): a Sort of the
    whole table is what an index on the list's order saves."""
    return [n for n in page_nodes(plan) if n["Node Type"] == "Sort"]
