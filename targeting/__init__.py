"""Core20PLUS targeting: statistics, suppression and population-weighted measures."""
