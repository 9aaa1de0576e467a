"""The app factory wires configuration, folders and extensions as documented."""

from pathlib import Path

import pytest

from local_offer import create_app
from local_offer.config import PROJECT_ROOT, ConfigError

from support import make_test_config


def test_top_level_folders_are_wired_absolutely(app):
    """Static files and translations come from the repository's top-level folders."""
    assert Path(app.static_folder) == PROJECT_ROOT / "static"
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(PROJECT_ROOT / "translations")
    assert Path(app.static_folder).is_absolute()


def test_instance_path_follows_the_environment(app, instance_path):
    """LOCAL_OFFER_INSTANCE_PATH moves all runtime state."""
    assert Path(app.instance_path) == instance_path
    assert instance_path.is_dir()


def test_secret_key_is_generated_once_into_the_instance(migrated_database, instance_path):
    """Without a configured key, one is generated into the instance and reused."""
    config = make_test_config(migrated_database)
    del config["SECRET_KEY"]
    first = create_app(config)
    key_file = instance_path / "secret_key"
    assert key_file.is_file()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64


def test_settings_come_from_prefixed_environment(migrated_database, instance_path, monkeypatch):
    """LOCAL_OFFER_* variables configure the council; JSON values are parsed."""
    monkeypatch.setenv("LOCAL_OFFER_COUNCIL_NAME", "Northshire Council")
    monkeypatch.setenv("LOCAL_OFFER_PROXIES", "1")
    monkeypatch.setenv("LOCAL_OFFER_POSTCODE_AREAS", "NE, DH")
    app = create_app(make_test_config(migrated_database))
    assert app.config["COUNCIL_NAME"] == "Northshire Council"
    assert app.config["PROXIES"] == 1
    assert app.config["POSTCODE_AREAS"] == ["NE", "DH"]
    assert "Northshire Council" in app.test_client().get("/").get_data(as_text=True)


def test_instance_config_file_is_read(migrated_database, instance_path):
    """A config.py in the instance folder configures the council too."""
    instance_path.mkdir(parents=True, exist_ok=True)
    (instance_path / "config.py").write_text('COUNCIL_NAME = "Southvale Council"\n')
    app = create_app(make_test_config(migrated_database))
    assert app.config["COUNCIL_NAME"] == "Southvale Council"


def test_plain_postgresql_urls_use_psycopg(migrated_database, instance_path):
    """A postgresql:// URL is given the installed psycopg 3 driver."""
    app = create_app(make_test_config("postgresql://db.example/lo"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.example/lo"


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("BRAND_COLOUR", "teal", "must be a colour"),
        ("LINK_COLOUR", "#ffff00", "contrast"),
        ("PROXIES", -1, "PROXIES"),
        ("LANGUAGES", {"pl": "Polski"}, "LANGUAGES"),
    ],
)
def test_wrong_settings_stop_the_app_with_a_clear_message(migrated_database, instance_path,
                                                         setting, value, message):
    """Settings that would break the site are refused at start-up, naming the setting."""
    with pytest.raises(ConfigError, match=message):
        create_app(make_test_config(migrated_database, **{setting: value}))


def test_blueprints_and_commands_are_registered(app):
    """Every area of the site and every command group is wired in."""
    assert {"directory", "pages", "site"} <= set(app.blueprints)
    assert {"content", "users", "translate", "db"} <= set(app.cli.commands)
