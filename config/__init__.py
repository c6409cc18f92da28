"""Settings: one frozen object built from the environment and an optional .env, validated once."""
from .checks import SECRET_KEYS, VENUE_KEYS, venue_keys_table
from .files import read_data_dir, read_dotenv, read_environment
from .lint import lint_environment
from .load import load_settings
from .problems import ConfigError, FileProblem, Problem
from .settings import (
                       API_MIN_PASSWORD,
                       KEYS,
                       MAX_LEVERAGE,
                       Settings,
                       VenueKeys,
                       is_loopback,
                       listen_address,
                       parse_listen,
                       venue_env_keys,
)
from .values import is_production_host, normalize_symbol

__all__ = ["API_MIN_PASSWORD", "ConfigError", "FileProblem", "KEYS", "MAX_LEVERAGE", "Problem",
           "SECRET_KEYS", "Settings", "VENUE_KEYS", "VenueKeys", "is_loopback",
           "is_production_host", "lint_environment", "listen_address", "load_settings",
           "normalize_symbol", "parse_listen", "read_data_dir", "read_dotenv",
           "read_environment", "venue_env_keys", "venue_keys_table"]
