"""Print a DATABASE_URL for the local PostgreSQL when one answers; print nothing otherwise.

`make test` uses it so the suite runs on PostgreSQL whenever it can.
"""

import os
import sys

import psycopg

URL = os.environ.get("CEDARHEIGHTS_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/cedarheights")

try:
    psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
except psycopg.Error:
    sys.exit(0)
print(URL)
