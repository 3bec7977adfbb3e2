"""seqgen-dna: DNA sequences as a seqgen domain (an example third-party plugin)."""

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register):
    from seqgen_dna.domain import DnaDomain

    register(DnaDomain)


@hookimpl
def register_models(register):
    # a pretrained model in the package: `seqgen sample --domain dna` works before any training
    from pathlib import Path

    from seqgen.models import ShippedModel

    register(ShippedModel("dna-tiny", "dna", Path(__file__).parent / "models" / "dna-tiny"))
