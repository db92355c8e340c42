"""Importing an existing school from spreadsheets (CSV or XLSX) in the admin: families with their guardians and
children, teachers with their instruments and weekly hours, and each child's weekly lesson.

Wiring: it writes the rows of accounts and scheduling, each through that app's services. `columns` names the
header presets, `reading` turns a file into rows, `rows` reads one row's values, `run` writes them (a dry run
writes nothing), `admin` is the owner's page.
"""
