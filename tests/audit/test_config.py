"""Configuration files and presets: flags > config file > preset > defaults."""

import pytest

from audit.cli.run import config_from_args, main, parse_args
from audit.config import AuditConfig, load_config_file, write_config_toml
from audit.errors import AuditInputError


def test_config_file_sets_options_and_flags_override_it(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('models_per_regime = 4\nflood_levels = [0.2, 0.5]\nrun_name = "from file"\n')
    config = config_from_args(parse_args(["--config", str(path)]))
    assert (config.models_per_regime, config.flood_levels, config.run_name) == (4, (0.2, 0.5), "from file")
    config = config_from_args(parse_args(["--config", str(path), "--models-per-regime", "6"]))
    assert config.models_per_regime == 6 and config.run_name == "from file"


def test_preset_then_config_then_flags(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text("epochs = 3\n")
    config = config_from_args(parse_args(["--preset", "cifar10-cpu", "--config", str(path), "--pool-size", "100"]))
    assert config.architecture == "cnn"  # from the preset
    assert config.epochs == 3  # the file beats the preset
    assert config.pool_size == 100  # the flag beats both


def test_unknown_keys_are_an_error_listing_the_valid_ones(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text("model_per_regime = 4\n")
    with pytest.raises(AuditInputError, match="unknown keys model_per_regime; valid keys: .*models_per_regime"):
        load_config_file(path)
    assert main(["--config", str(path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_invalid_toml_and_missing_file_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = = 3\n")
    for path in (bad, tmp_path / "absent.toml"):
        assert main(["--config", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(path) in err[0]


def test_effective_configuration_round_trips_through_toml(tmp_path):
    config = AuditConfig(run_name='quote " and <tag>', flood_levels=(0.05, 0.7), regimes=("standard", "dp:4+iflood:0.2"))
    write_config_toml(tmp_path / "config.toml", config)
    values = load_config_file(tmp_path / "config.toml")
    again = AuditConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    assert again == config
