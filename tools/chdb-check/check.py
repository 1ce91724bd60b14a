#!/usr/bin/env python3
"""Runs ClickHouse statements through chdb (the in-process engine of a current ClickHouse release).

The stack's server is ClickHouse 18.16; every DDL statement and query the project runs must also
work on a current engine. db/clickhouse/chdb-check.ts calls this script from the tests.

stdin:  {"database": "reports", "setup": ["SQL", ...], "statements": [{"name": "...", "sql": "..."}]}
        setup statements run first (and must succeed), then each statement in order, all in one
        session (so later statements see tables created by earlier ones) with `database` selected.
stdout: {"engine": "<ClickHouse version>", "chdb": "<chdb version>",
         "results": [{"name": "...", "ok": true} | {"name": "...", "ok": false, "error": "..."}]}
exit:   0 when the input was valid (look at "ok" per statement), 2 on bad input or a failed setup.
"""
import json
import re
import sys
import tempfile

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def fail(message):
    print(json.dumps({"error": message}))
    sys.exit(2)


def main():
    try:
        request = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        fail(f"stdin is not JSON: {error}")
    if not isinstance(request, dict):
        fail("stdin must be a JSON object")
    database = request.get("database", "default")
    if not isinstance(database, str) or not IDENTIFIER.match(database):
        fail("database must be a plain identifier")
    setup = request.get("setup", [])
    statements = request.get("statements")
    if not isinstance(setup, list) or not all(isinstance(s, str) for s in setup):
        fail("setup must be a list of SQL strings")
    if not isinstance(statements, list) or not all(
        isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("sql"), str) for s in statements
    ):
        fail('statements must be a list of {"name": str, "sql": str}')

    import chdb
    from chdb import session

    with tempfile.TemporaryDirectory(prefix="chdb-check-") as path:
        db = session.Session(path)
        try:
            engine = str(db.query("SELECT version()", "CSV")).strip().strip('"')
            db.query(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            db.query(f"USE `{database}`")
            for sql in setup:
                try:
                    db.query(sql)
                except Exception as error:  # chdb raises ChdbError (a RuntimeError) with the server message
                    fail(f"setup statement failed: {error}\n{sql[:300]}")
            results = []
            for statement in statements:
                try:
                    db.query(statement["sql"])
                    results.append({"name": statement["name"], "ok": True})
                except Exception as error:
                    results.append({"name": statement["name"], "ok": False, "error": str(error).strip()})
        finally:
            db.close()
    print(json.dumps({"engine": engine, "chdb": chdb.__version__, "results": results}))


if __name__ == "__main__":
    main()
