"""Split a SQL script into statements, so migrations can keep readable multi-statement SQL while
the asyncpg driver (prepared statements: one command each) runs them one at a time.

Understands what our migrations use: ``--`` comments, '...' strings and $$ / $tag$ bodies.
"""

import re

_DOLLAR = re.compile(r"\$[A-Za-z_]*\$")


def split_statements(script: str) -> list[str]:
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(script)
    dollar: str | None = None
    quote = False
    while i < n:
        ch = script[i]
        if dollar is not None:
            if script.startswith(dollar, i):
                buf.append(dollar)
                i += len(dollar)
                dollar = None
                continue
        elif quote:
            if ch == "'":
                quote = False
        elif ch == "'":
            quote = True
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end == -1 else end
            continue
        elif ch == "$" and (m := _DOLLAR.match(script, i)):
            dollar = m.group(0)
            buf.append(dollar)
            i += len(dollar)
            continue
        elif ch == ";":
            statement = "".join(buf).strip()
            if statement:
                statements.append(statement)
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if tail:
        statements.append(tail)
    return statements
