"""Drivers of many runs: venue/policy comparisons, sweeps over grids and seeds, severity studies."""
