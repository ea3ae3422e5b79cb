import pytest

from credentials import CredentialError, Vault, new_key


def test_sealed_credentials_open_and_do_not_show_the_secret() -> None:
    vault = Vault([new_key()])
    token = vault.seal({"access_token": "EAAG-secret"})
    assert b"EAAG-secret" not in token
    assert vault.open(token) == {"access_token": "EAAG-secret"}


def test_rotation_old_key_still_decrypts_then_rotate_moves_to_new_key() -> None:
    old, new = new_key(), new_key()
    token = Vault([old]).seal({"k": "v"})
    both = Vault([new, old])
    assert both.open(token) == {"k": "v"}
    rotated = both.rotate(token)
    assert Vault([new]).open(rotated) == {"k": "v"}
    with pytest.raises(CredentialError):
        Vault([new]).open(token)
