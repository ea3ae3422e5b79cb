"""``omni webhook parse``: JSON lines for events, exit 2 with the rejection otherwise."""

import json
import subprocess
import sys
from pathlib import Path

from omnicli.main import main
from tests.providers.payloads import fixture


def run(
    tmp_path: Path, provider: str, body: bytes, capsys: object
) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "body.json"
    path.write_bytes(body)
    code = main(["webhook", "parse", "--provider", provider, str(path)])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    return code, [json.loads(line) for line in out.splitlines()]


def test_messages_print_as_json_lines(tmp_path: Path, capsys: object) -> None:
    code, lines = run(tmp_path, "meta", fixture("meta", "batch_two_entries"), capsys)
    assert code == 0
    kinds = [line["kind"] for line in lines]
    assert kinds == ["message", "message", "ignored"]
    assert lines[0]["message"]["text"] == "Olá! Preciso de ajuda"  # type: ignore[index]


def test_statuses_print_with_the_ids(tmp_path: Path, capsys: object) -> None:
    code, lines = run(tmp_path, "zapi", fixture("zapi", "status_read_many"), capsys)
    assert code == 0 and lines[0]["kind"] == "status" and len(lines[0]["provider_message_ids"]) == 2  # type: ignore[arg-type]


def test_rejection_exits_2(tmp_path: Path, capsys: object) -> None:
    code, lines = run(tmp_path, "evolution", b"not json", capsys)
    assert code == 2 and lines == [
        {"kind": "rejection", "reason": "body is not a JSON object", "status": 400}
    ]


def test_stdin_through_the_installed_command() -> None:
    omni = Path(sys.executable).parent / "omni"
    done = subprocess.run(
        [str(omni), "webhook", "parse", "--provider", "evolution", "-"],
        input=fixture("evolution", "message_group"),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0
    line = json.loads(done.stdout)
    assert line["kind"] == "message" and line["message"]["chat"]["kind"] == "group"
    bad = subprocess.run(
        [str(omni), "webhook", "parse", "--provider", "zapi", "-"],
        input=b"[]",
        capture_output=True,
        timeout=60,
    )
    assert bad.returncode == 2


def test_edits_deletions_and_quiet_accounts_are_named(tmp_path: Path, capsys: object) -> None:
    code, lines = run(tmp_path, "meta", fixture("meta", "message_edit"), capsys)
    assert code == 0 and [line["kind"] for line in lines] == ["edit"]
    assert lines[0]["message"]["edit"]["text"] == "Olá! Preciso de ajuda, por favor"  # type: ignore[index]
    code, lines = run(tmp_path, "evolution", fixture("evolution", "event_deleted"), capsys)
    assert code == 0 and [line["kind"] for line in lines] == ["revoke"]
    history = fixture("meta", "smb_message_echoes").replace(b"smb_message_echoes", b"history")
    code, lines = run(tmp_path, "meta", history, capsys)
    assert code == 0 and [line["kind"] for line in lines] == ["ignored", "recorded"]
    assert lines[1]["account_ref"] == "106540352242922"


def test_coexistence_kinds_are_named(tmp_path: Path, capsys: object) -> None:
    code, lines = run(tmp_path, "meta", fixture("meta", "smb_message_echoes"), capsys)
    assert code == 0 and [line["kind"] for line in lines] == ["message"]
    assert lines[0]["message"]["direction"] == "outbound_echo"  # type: ignore[index]
    code, lines = run(tmp_path, "meta", fixture("meta", "smb_app_state_sync"), capsys)
    assert code == 0 and [line["kind"] for line in lines] == ["contact", "contact"]
    assert (lines[0]["action"], lines[0]["name"]) == ("add", "Maria Silva (loja)")
    code, lines = run(tmp_path, "meta", fixture("meta", "message_order"), capsys)
    assert lines[0]["message"]["type"] == "order"  # type: ignore[index]
