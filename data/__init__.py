"""The catalogue of named datasets (catalogue.toml), shipped with seqgen as package data."""
