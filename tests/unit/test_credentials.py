"""Credentials: Mosquitto's own hash format, private files, writes that change only what changed."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from smartclass.credential_store import CredentialStore
from smartclass.credentials import (
    Credential,
    CredentialError,
    Deployment,
    RoomSpec,
    check_password,
    hash_password,
    new_password,
    parse_password_file,
)

# `mosquitto_passwd -c -b FILE alice secret` (Mosquitto 2.0.11) wrote this line
MOSQUITTO_PASSWD_LINE = (
    "alice:$7$101$1fL0kOgV5BFFLDmg$j9oWap40dw9b5KSEx8q6unciui1s1E2fvziFMPZh7jyUdC+PSrqNnkxGlDpE1L"
    "ZC6d2YFYWxhh2kuk5ig19JrQ=="
)

DEPLOYMENT = Deployment(
    "sc", rooms=(RoomSpec("s1", "6a1"), RoomSpec("s1", "6a2"), RoomSpec("s2", "lab")), hubs=("h1",)
)


def snapshot(root: Path) -> dict[str, list[str]]:
    return {
        str(p.relative_to(root)): p.read_text().splitlines()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, set[str]]:
    """Per file, the lines that one side has and the other has not."""
    out = {}
    for name in before.keys() | after.keys():
        diff = set(before.get(name, [])) ^ set(after.get(name, []))
        if diff:
            out[name] = diff
    return out


def test_hash_is_what_mosquitto_passwd_writes_for_the_same_salt() -> None:
    user, _, hashed = MOSQUITTO_PASSWD_LINE.partition(":")
    salt = base64.b64decode(hashed.split("$")[3])
    assert f"{user}:{hash_password('secret', salt=salt)}" == MOSQUITTO_PASSWD_LINE
    assert check_password("secret", hashed)
    assert not check_password("Secret", hashed)
    assert not check_password("secret", "$6$abc$def")
    assert not check_password("secret", "garbage")


def test_hashes_have_a_fresh_salt_and_passwords_are_long_and_random() -> None:
    assert hash_password("x") != hash_password("x")
    _, kind, iterations, salt, digest = hash_password("x").split("$")
    assert (kind, iterations) == ("7", "101")
    assert (len(base64.b64decode(salt)), len(base64.b64decode(digest))) == (12, 64)
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 43 for p in passwords)  # 256 bits of token_urlsafe


def test_a_credential_unpacks_and_never_shows_its_password() -> None:
    cred = Credential("edge-sc-s1-6a1", "hunter2")
    user, password = cred
    assert (user, password) == ("edge-sc-s1-6a1", "hunter2")
    assert "hunter2" not in repr(cred)
    assert "hunter2" not in str(cred)


def test_files_are_private_and_env_files_name_the_settings(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "out")
    report = store.write(DEPLOYMENT.identities())
    assert len(report.created) == 4
    for path in [store.path, *store.path.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    agent = store.env_file("edge-sc-s1-6a1").read_text().splitlines()
    assert agent[0] == "SMARTCLASS_EDGE_MQTT_USERNAME=edge-sc-s1-6a1"
    assert agent[1].startswith("SMARTCLASS_EDGE_MQTT_PASSWORD=")
    hub = store.env_file("hub-sc-h1").read_text().splitlines()
    assert hub[0] == "SMARTCLASS_HUB_MQTT_USERNAME=hub-sc-h1"
    assert "SMARTCLASS_HUB_HUB_ID=h1" in hub
    hashes = parse_password_file(store.password_file.read_text())
    assert sorted(hashes) == sorted(i.username for i in DEPLOYMENT.identities())
    for user, hashed in hashes.items():
        assert check_password(store.credential(user).password, hashed)
    passwords = [store.credential(u).password for u in hashes]
    assert len(set(passwords)) == len(passwords)  # never shared
    assert "allow_anonymous false" in store.config_file.read_text().splitlines()


def test_writing_again_changes_nothing(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.write(DEPLOYMENT.identities())
    before = snapshot(tmp_path)
    report = store.write(DEPLOYMENT.identities())
    assert (report.created, report.rotated, len(report.kept)) == ([], [], 4)
    assert snapshot(tmp_path) == before


def test_rotating_one_agent_changes_only_its_password_lines(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.write(DEPLOYMENT.identities())
    before = snapshot(tmp_path)
    old = store.credential("edge-sc-s1-6a2")
    report = store.write(DEPLOYMENT.identities(), rotate={"edge-sc-s1-6a2"})
    assert report.rotated == ["edge-sc-s1-6a2"]
    new = store.credential("edge-sc-s1-6a2")
    assert new.password != old.password
    diff = changed(before, snapshot(tmp_path))
    assert set(diff) == {"broker/passwd", "env/edge-sc-s1-6a2.env"}
    assert {line.split(":")[0] for line in diff["broker/passwd"]} == {"edge-sc-s1-6a2"}
    assert diff["env/edge-sc-s1-6a2.env"] == {
        f"SMARTCLASS_EDGE_MQTT_PASSWORD={old.password}",
        f"SMARTCLASS_EDGE_MQTT_PASSWORD={new.password}",
    }


def test_adding_a_room_adds_only_its_lines(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.write(DEPLOYMENT.identities())
    before = snapshot(tmp_path)
    bigger = Deployment("sc", rooms=(*DEPLOYMENT.rooms, RoomSpec("s1", "6a3")), hubs=("h1",))
    report = store.write(bigger.identities())
    assert report.created == ["edge-sc-s1-6a3"]
    after = snapshot(tmp_path)
    diff = changed(before, after)
    assert set(diff) == {"broker/passwd", "broker/acl", "env/edge-sc-s1-6a3.env"}
    assert {line.split(":")[0] for line in diff["broker/passwd"]} == {"edge-sc-s1-6a3"}
    assert all(set(before[n]) <= set(after[n]) for n in before)  # nothing else went
    assert "user edge-sc-s1-6a3" in diff["broker/acl"]
    assert all("6a3" in line for line in diff["broker/acl"])


def test_a_room_taken_out_leaves_passwd_and_acl_but_keeps_its_env_file(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.write(DEPLOYMENT.identities())
    smaller = Deployment("sc", rooms=DEPLOYMENT.rooms[1:], hubs=("h1",))
    report = store.write(smaller.identities())
    assert report.dropped == ["edge-sc-s1-6a1"]
    assert "edge-sc-s1-6a1" not in parse_password_file(store.password_file.read_text())
    assert "user edge-sc-s1-6a1" not in store.acl_file.read_text()
    assert store.env_file("edge-sc-s1-6a1").exists()


def test_rotating_an_unknown_identity_is_refused(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    with pytest.raises(CredentialError, match="edge-sc-nope-1"):
        store.write(DEPLOYMENT.identities(), rotate={"edge-sc-nope-1"})
    assert not tmp_path.joinpath("broker").exists()


def test_a_lost_password_file_is_written_again_from_the_env_files(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.write(DEPLOYMENT.identities())
    cred = store.credential("hub-sc-h1")
    store.password_file.unlink()
    store.write(DEPLOYMENT.identities())
    assert store.credential("hub-sc-h1") == cred
    assert check_password(
        cred.password, parse_password_file(store.password_file.read_text())[cred.username]
    )
