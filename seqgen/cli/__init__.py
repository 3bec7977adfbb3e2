"""The seqgen command line: a thin typer layer over seqgen.api."""
