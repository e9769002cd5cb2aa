"""Scenario files in, validated: the key-spec machinery, the scenario tables, data-file readers, named mixes."""
