"""Signed checkpoints anchor the chain outside the database: a rewrite of the log before a
checkpoint is found whoever made it, with or without the audit key, and a checkpoint that
does not verify is rejected, never used."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from audit_tampering import real_key, rewrite
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from pingan.audit import anchor, keys
from pingan.audit.log import record, verify
from pingan.audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def checkpoint_dir(tmp_path, settings) -> Path:
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "anchors"
    return settings.AUDIT_CHECKPOINT_DIR


def _entries(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        record("test_event", target=f"thing:{i}", client_code="PA234567", n=i)


def _run(*args: str) -> tuple[str, str, int]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), str(exc), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def _verify(*files: Path, extra: tuple[str, ...] = ()) -> tuple[str, int]:
    args = ["verify", "--no-progress", *extra]
    for f in files:
        args += ["--checkpoint", str(f)]
    out, _, code = _run(*args)
    return out, code


def test_a_checkpoint_is_signed_appended_outside_the_database_and_verifies(checkpoint_dir):
    _entries(4)
    out, err, code = _run("checkpoint")
    assert code == 0 and "entry 4" in err
    path = checkpoint_dir / anchor.FILENAME
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == json.loads(out)
    saved = json.loads(lines[0])
    last = AuditEntry.objects.get(seq=4)
    assert (saved["seq"], saved["entry"], saved["head"]) == (4, last.pk, last.hash)
    assert saved["key"] == keys.public_hex(keys.signing_key().public_key())
    assert path.stat().st_mode & 0o777 == 0o600

    _entries(2, start=4)
    assert _run("checkpoint")[2] == 0
    assert len(path.read_text().splitlines()) == 2
    out, code = _verify(path)
    assert code == 0, out
    assert out.splitlines() == [
        "chain region: 6 entries, intact",
        "audit chain intact: 6 entries, agrees with 2 signed checkpoint(s)",
    ]


def test_whole_chain_rewrite_with_the_real_key_is_found_against_the_checkpoint(checkpoint_dir):
    _entries(10)
    _run("checkpoint")
    # The attacker holds the audit key: they delete entries 4 and 5, renumber and re-link
    # everything after them, and move the head. The chain is consistent in itself...
    rewrite(delete=[4, 5], key=real_key())
    assert verify() == []
    assert _verify()[1] == 0
    # ...but no longer passes through the link the checkpoint signed.
    out, code = _verify(checkpoint_dir / anchor.FILENAME)
    assert code == 1
    assert (
        "break at entry 10: named by the signed checkpoint of" in out
        and "entries were removed at or before it" in out
    ), out


def test_the_rewrite_is_placed_between_the_checkpoints_it_falls_between(checkpoint_dir):
    _entries(5)
    _run("checkpoint")
    _entries(5, start=5)
    _run("checkpoint")
    _entries(2, start=10)
    rewrite(edit={7: "thing:7, edited"}, key=real_key())
    assert verify() == []
    out, code = _verify(checkpoint_dir / anchor.FILENAME)
    assert code == 1
    breaks = [line for line in out.splitlines() if line.startswith("break")]
    assert len(breaks) == 1 and breaks[0].startswith("break at entry 10: differs from the")
    assert "rewritten after entry 5, which the checkpoint of" in breaks[0]
    assert "at or before this entry" in breaks[0]


def test_whole_chain_rewrite_without_the_key_is_found_where_it_starts(checkpoint_dir):
    _entries(10)
    _run("checkpoint")
    # Without the key the attacker re-links with a key of their own: every re-linked entry
    # fails its MAC, from the first one they touched.
    rewrite(delete=[4], key=None)
    breaks = verify()
    assert breaks and breaks[0].seq == 1
    out, code = _verify(checkpoint_dir / anchor.FILENAME)
    assert code == 1
    assert "break at entry 1: entry content changed after it was written" in out
    assert "break at entry 10: named by the signed checkpoint" in out


def test_a_rewrite_after_the_last_checkpoint_is_not_blamed_on_it(checkpoint_dir):
    _entries(5)
    _run("checkpoint")
    _entries(3, start=5)
    rewrite(delete=[7], key=real_key())
    out, code = _verify(checkpoint_dir / anchor.FILENAME)
    assert code == 0, out  # the checkpoint covers entries 1..5 only


def _tampered(path: Path, change) -> Path:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    change(lines)
    forged = path.with_name("forged.jsonl")
    forged.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return forged


def test_a_tampered_checkpoint_file_is_rejected(checkpoint_dir):
    _entries(6)
    _run("checkpoint")
    path = checkpoint_dir / anchor.FILENAME
    # The attacker rewrites the log with the key and edits the checkpoint to match.
    rewrite(delete=[2], key=real_key())
    new_end = AuditEntry.objects.get(seq=5)

    def to_the_rewrite(lines):
        lines[0].update(seq=5, entry=new_end.pk, head=new_end.hash)

    out, code = _verify(_tampered(path, to_the_rewrite))
    assert code == 1
    assert "rejected checkpoint: forged.jsonl line 1" in out
    assert "the signature does not verify: the checkpoint was forged or altered" in out

    # A checkpoint signed with a key of the attacker's own is not trusted either.
    other = Ed25519PrivateKey.generate()

    def resigned(lines):
        checkpoint = anchor._parse(json.dumps(lines[0]))
        checkpoint = anchor.Checkpoint(
            **{**checkpoint.__dict__, "seq": 5, "entry": new_end.pk, "head": new_end.hash}
        )
        checkpoint = anchor.Checkpoint(
            **{**checkpoint.__dict__, "key": keys.public_hex(other.public_key())}
        )
        lines[0] = json.loads(anchor.sign(checkpoint, other).line())

    out, code = _verify(_tampered(path, resigned))
    assert code == 1 and "which is not a trusted checkpoint key" in out

    garbage = path.with_name("garbage.jsonl")
    garbage.write_text("{not json\n")
    out, code = _verify(garbage)
    assert code == 1 and "garbage.jsonl line 1: not a valid checkpoint (not JSON)" in out


def test_a_checkpoint_from_another_centre_verifies_with_its_public_key(checkpoint_dir):
    _entries(3)
    _run("checkpoint")
    public = _run("public-key")[0].strip()
    path = checkpoint_dir / anchor.FILENAME
    with pytest.MonkeyPatch.context() as patch:
        # Here, no signing key of our own: only the one given.
        patch.setattr(keys, "signing_key", _no_key)
        out, code = _verify(path, extra=("--public-key", public))
        assert code == 0, out
        _, message, code = _run("verify", "--no-progress", "--checkpoint", str(path))
        assert code == 1 and message == "PINGAN_AUDIT_SIGNING_KEY is not set"


def _no_key():
    raise keys.AuditKeyError("PINGAN_AUDIT_SIGNING_KEY is not set")


def test_a_checkpoint_is_not_signed_over_a_broken_chain(checkpoint_dir):
    _entries(4)
    _run("checkpoint")
    _entries(2, start=4)
    rewrite(edit={5: "edited"}, key=None)
    out, err, code = _run("checkpoint")
    assert code == 1 and "does not hold; nothing was signed" in err
    assert len((checkpoint_dir / anchor.FILENAME).read_text().splitlines()) == 1


def test_a_checkpoint_is_not_added_to_a_file_with_a_bad_line(checkpoint_dir):
    _entries(2)
    _run("checkpoint")
    path = checkpoint_dir / anchor.FILENAME
    line = json.loads(path.read_text())
    line["head"] = "0" * 64
    path.write_text(json.dumps(line) + "\n")
    out, err, code = _run("checkpoint")
    assert code == 1 and "do not verify; nothing was added" in err
    assert len(path.read_text().splitlines()) == 1


def test_a_copy_goes_wherever_asked_and_an_empty_log_can_be_anchored(checkpoint_dir, tmp_path):
    copy = tmp_path / "region" / "centre-7.jsonl"
    copy.parent.mkdir()
    out, err, code = _run("checkpoint", "--out", str(copy))
    assert code == 0 and json.loads(out)["seq"] == 0
    _entries(2)
    assert _run("checkpoint", "--out", str(copy))[2] == 0
    assert copy.read_text() == (checkpoint_dir / anchor.FILENAME).read_text()
    out, code = _verify(copy)
    assert code == 0 and "agrees with 2 signed checkpoint(s)" in out
    out, code = _verify(copy, checkpoint_dir / anchor.FILENAME)  # a copy counts once
    assert code == 0 and "agrees with 2 signed checkpoint(s)" in out


def test_a_missing_checkpoint_file_is_a_clear_error(tmp_path):
    out, message, code = _run("verify", "--no-progress", "--checkpoint", str(tmp_path / "nope"))
    assert code == 1 and message == f"no checkpoint file at {tmp_path / 'nope'}"


def test_the_audit_screen_checks_against_the_centres_checkpoints(client_as, users):
    _entries(3)
    _run("checkpoint")
    web = client_as("manager")
    page = web.post("/audit/verify/", HTTP_HX_REQUEST="true").content.decode()
    assert "badge ok" in page
    rewrite(delete=[1], key=real_key())
    page = web.post("/audit/verify/", HTTP_HX_REQUEST="true").content.decode()
    assert "badge ok" not in page and "refusal" in page
    assert "与 " in page and "的签名检查点" in page  # the manager reads the break in Chinese
