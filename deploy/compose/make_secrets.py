"""Write deploy/compose/{owner,app}.env from their ``.example`` templates with fresh secrets.

Every ``@@token@@`` in a template becomes a random value, the same value for the same token in
both files (the owner's app-role password and the services' APP_DATABASE_URL must agree).
``@@fernet_key@@`` becomes a Fernet key. Existing files are left alone, so secrets survive
``make down`` / ``make up``; delete them (and the volumes) to start over. Standard library only:
it runs before anything is installed.
"""

import base64
import re
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("owner.env", "app.env")
TOKEN = re.compile(r"@@(\w+)@@")


def _secret(name: str) -> str:
    if name == "fernet_key":
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(24)  # hex: safe inside URLs without quoting


def main() -> int:
    present = [name for name in FILES if (HERE / name).exists()]
    if len(present) == len(FILES):
        return 0
    if present:
        # Half a set would hold passwords that disagree with the other half.
        sys.stderr.write(f"deploy/compose: {present} exist but not all of {FILES}; remove them\n")
        return 1
    values: dict[str, str] = {}
    for name in FILES:
        template = (HERE / f"{name}.example").read_text()
        text = TOKEN.sub(lambda m: values.setdefault(m[1], _secret(m[1])), template)
        target = HERE / name
        target.write_text(text)
        target.chmod(0o600)
        sys.stderr.write(f"wrote deploy/compose/{name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
