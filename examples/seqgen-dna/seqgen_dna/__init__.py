"""seqgen-dna: DNA sequences as a seqgen domain (an example third-party plugin)."""

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register):
    from seqgen_dna.domain import DnaDomain

    register(DnaDomain)
