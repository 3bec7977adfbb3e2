"""``seqgen speech-eval``: MCD, CER and pitch of generated speech on held-out sentences.

For each held-out utterance of the run's corpus (the engine's validation split: every 10th
document), the model speaks its transcript; we measure the MCD (dB, DTW-aligned) between the
generated log-mel frames and the reference, next to the MCD of a Griffin-Lim resynthesis of the
reference (the renderer's own floor); the pitch (``librosa.pyin``: f0 median, range, voiced
fraction) of the generated audio and of the reference's Griffin-Lim resynthesis, both heard
through the same renderer; and the character error rate of the run's own CTC recogniser
(``seqgen_speech.intelligibility``) on the generated frames, next to its rate on the held-out
real frames (the floor). A sample with no frames has no MCD or pitch: it is counted
(``empty_samples``) and left out of those means, and it reads as nothing (all deletions) in
the CER.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from seqgen.errors import SeqgenError

#: the pitch figures, per utterance (pitch.pitch_stats) and as means over utterances
PITCH_KEYS = ("f0_median_hz", "f0_range_semitones", "voiced_fraction")


def held_out_utterances(model: Any, num: int) -> list[Any]:
    """The first ``num`` documents of the run's validation split that have a transcript: the
    engine's rule (``seqgen.engine.holdout``) over the documents its text-conditioned corpus
    keeps (a transcript and some frames)."""
    from seqgen_speech.intelligibility import split_utterances

    return split_utterances(model)[2][:num]


def generate(model: Any, doc: Any, seed: int, bias: float) -> np.ndarray:
    """The model's log-mel frames for one held-out utterance: speech-eval's one sampling call,
    kept alone so that what a sample is conditioned on (its text, a voice) changes here only.
    A speaker-conditioned model speaks in the reference's voice."""
    voice = doc.voice if doc.voice in model.voices() else None
    got = model.sample(text=doc.text, seed=seed, bias=bias, voice=voice)
    return np.asarray(got[0].frames, np.float32)


def evaluate_speech(model: Any, num: int = 10, bias: float = 1.0, seed: int = 1,
                    images: Path | None = None, ctc_seconds: float | None = None,
                    pitch: bool = True) -> dict[str, Any]:
    """MCD of speech generated for held-out transcripts against their recordings, the pitch
    of both (``pitch``), and the CER of the run's own CTC recogniser trained for
    ``ctc_seconds`` (None: not measured); ``images``: spectrograms of the first three."""
    if model.vocab is None and model.domain.options.mode != "phonemes":
        raise SeqgenError("speech-eval needs a model that speaks a text (-o mode=phonemes "
                          "or synthesis)")
    docs = held_out_utterances(model, num)
    if not docs:
        raise SeqgenError("the run's corpus has no held-out utterances with a transcript")
    from seqgen.engine.status import counted

    spoken = [_speak(model, doc, seed + i, bias, pitch,
                     images / f"speech-eval-{i + 1}.png" if images is not None and i < 3
                     else None)
              for i, doc in enumerate(counted(docs, "speech-eval", unit="utterances",
                                              at_once=True))]
    rows = [row for row, _ in spoken]
    out = _summary(rows, bias)
    if pitch:
        out.update(_pitch_summary(rows))
    if ctc_seconds is not None:
        from seqgen_speech.intelligibility import read_back

        out.update(read_back(model, rows, [d.frames for d in docs], [g for _, g in spoken],
                             ctc_seconds))
    out["rows"] = rows
    return out


def _mean(values: list[Any]) -> float | None:
    """The mean of the values that are there (None for none: JSON stays strict)."""
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _summary(rows: list[dict[str, Any]], bias: float) -> dict[str, Any]:
    """The MCD and length figures over the utterances; empty samples counted, not averaged."""
    return {
        "utterances": len(rows), "bias": bias,
        "empty_samples": sum(r["gen_frames"] == 0 for r in rows),
        "mcd_db": _mean([r["mcd_gen"] for r in rows]),
        "mcd_griffin_lim_floor_db": _mean([r["mcd_gl"] for r in rows]),
        # an empty sample counts here as 0: speaking nothing is the stop rule's failure too
        "frames_ratio": float(np.mean([r["gen_frames"] / r["ref_frames"] for r in rows])),
    }


def _pitch_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over utterances of each pitch figure, for the samples and for the references.
    f0 figures average over the utterances with a voiced frame (voiced_utterances_*, said
    since a mean of few is weak); voiced fractions over every non-empty one."""
    stats = {"samples": [r["pitch_sample"] for r in rows if r["pitch_sample"] is not None],
             "references": [r["pitch_reference"] for r in rows]}
    out: dict[str, Any] = {f"voiced_utterances_{who}": sum(s["f0_median_hz"] is not None
                                                          for s in kept)
                           for who, kept in stats.items()}
    for key in PITCH_KEYS:  # each figure's samples line above its references line
        for who, kept in stats.items():
            out[f"{key}_{who}"] = _mean([s[key] for s in kept])
    return out


def _speak(model: Any, doc: Any, seed: int, bias: float, pitch: bool,
           image: Path | None) -> tuple[dict[str, Any], np.ndarray]:
    """One held-out utterance spoken by the model: its row of figures (and a spectrogram)
    and the generated log-mel frames."""
    from seqgen_speech.features import log_mel
    from seqgen_speech.invert import to_audio
    from seqgen_speech.mcd import mcd

    ref = doc.frames
    ref_audio_gl = to_audio(ref)
    gen = generate(model, doc, seed, bias)
    row: dict[str, Any] = {"text": doc.text, "voice": doc.voice,
                           "ref_frames": len(ref), "gen_frames": len(gen),
                           "mcd_gen": mcd(gen, ref) if len(gen) else None,
                           "mcd_gl": mcd(log_mel(ref_audio_gl), ref)}
    if pitch:
        from seqgen_speech.pitch import pitch_stats

        # the reference through Griffin-Lim as the sample is, so that the renderer's blur of
        # the harmonics (it lowers the voiced fraction pyin hears) is on both sides
        row["pitch_sample"] = pitch_stats(to_audio(gen)) if len(gen) else None
        row["pitch_reference"] = pitch_stats(ref_audio_gl)
    if image is not None:
        from seqgen_speech.render import plot_spectrograms

        image.parent.mkdir(parents=True, exist_ok=True)
        plot_spectrograms([(f"generated: {doc.text!r}", gen),
                           (f"held-out reference ({doc.name})", ref)], image)
    return row, gen


def print_figures(res: dict[str, Any]) -> None:
    """speech-eval's table: one line a figure (n/a: nothing to average), then what the
    recogniser read in the first five utterances."""
    for k, v in res.items():
        if k != "rows":
            shown = "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else v
            print(f"{k:30s} {shown}")
    for row in res["rows"][:5] if "cer_real" in res else []:
        print(f"{row['text']!r:30s} read_real={row['read_real']!r}  "
              f"read_sample={row['read_sample']!r}")


def add_command(cli: Any) -> None:
    from seqgen.cli.commands import handles_errors

    @cli.command("speech-eval")
    @handles_errors
    def speech_eval(
        domain: Annotated[str, typer.Option("--domain", "-d", help="Latest run of this domain.")]
        = "speech",
        run: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
        num: Annotated[int, typer.Option(help="Held-out sentences to speak.")] = 10,
        bias: Annotated[float, typer.Option(help="Sampling bias (Graves 2013).")] = 1.0,
        seed: Annotated[int, typer.Option(help="Random seed of the first sample.")] = 1,
        images: Annotated[Path | None, typer.Option(
            help="Write spectrograms of generated vs reference to this folder.")] = None,
        ctc: Annotated[bool, typer.Option(
            "--ctc/--no-ctc", help="CER of the run's own CTC recogniser (trained once per "
            "corpus and cached) on the samples and on held-out real frames (the floor).")]
        = True,
        train_seconds: Annotated[float, typer.Option(
            help="The CTC recogniser's training time.")] = 180.0,
        pitch: Annotated[bool, typer.Option(
            "--pitch/--no-pitch", help="f0 median, range and voiced fraction (librosa.pyin) "
            "of the samples and the references: about 0.3 s per second of audio.")] = True,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here.")]
        = None,
    ) -> None:
        """Speech: MCD (dB) of generated vs held-out speech, Griffin-Lim floor, CER of the
        run's own CTC recogniser (floor: held-out real frames), pitch of samples and
        references."""
        from seqgen import models
        from seqgen.inference import Model

        if num < 1:
            raise SeqgenError("--num must be at least 1")
        if train_seconds <= 0:
            raise SeqgenError("--train-seconds must be positive")
        model = Model(models.resolve(run, domain), domain)
        res = evaluate_speech(model, num, bias, seed, images, train_seconds if ctc else None,
                              pitch)
        print_figures(res)
        if json_out is not None:
            from seqgen.fileio import write_json

            write_json(json_out, res)
