"""``seqgen speech-eval``: MCD, CER (and WER) of generated speech on held-out sentences.

For each held-out utterance of the run's corpus (the engine's validation split: every 10th
document), the model speaks its transcript; we measure the MCD (dB, DTW-aligned) between the
generated log-mel frames and the reference, next to the MCD of a Griffin-Lim resynthesis of the
reference (the renderer's own floor). With pocketsphinx installed, the word error rate of an
independent recogniser on the generated audio, on the Griffin-Lim resynthesis of the reference
and (for the embedded corpus) on the original eSpeak audio. The character error rate of the
run's own CTC recogniser (``seqgen_speech.intelligibility``) on the generated frames, next to
its rate on the held-out real frames (the floor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from seqgen.errors import SeqgenError


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein distance over words."""
    from seqgen.engine.recognise import edit_distance

    r = ref.split()
    return edit_distance(r, hyp.split()), len(r)


def _normalise(text: str) -> str:
    return " ".join("".join(c if c.isalpha() or c in " '" else " " for c in text.lower()).split())


class Recogniser:
    """pocketsphinx's bundled US English model on 16 kHz audio."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=16000, loglevel="FATAL")

    def __call__(self, audio: np.ndarray) -> str:
        from scipy.signal import resample_poly

        a16 = resample_poly(audio, 320, 441)
        peak = float(np.abs(a16).max()) if len(a16) else 0.0
        a16 = np.concatenate([np.zeros(8000), a16 / max(peak, 1e-6) * 0.7, np.zeros(8000)])
        pcm = (np.clip(a16, -1, 1) * 32767).astype(np.int16)  # half a second of silence around
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return _normalise(hyp.hypstr if hyp is not None else "")


def held_out_utterances(model: Any, num: int) -> list[Any]:
    """The first ``num`` documents of the run's validation split that have a transcript: the
    engine's rule (``seqgen.engine.holdout``) over the documents its text-conditioned corpus
    keeps (a transcript and some frames)."""
    from seqgen.engine.holdout import held_out

    source = model.config["data"]["source"]
    docs = [d for d in model.domain.load_corpus(source).documents if d.text and len(d.frames)]
    val_fraction = float(model.config["train"].get("val_fraction", 0.1))
    return [d for i, d in enumerate(docs) if held_out(i, val_fraction)][:num]


class Listening:
    """Word errors of the recogniser, summed over the utterances for each kind of audio: the
    generated speech (gen), the Griffin-Lim resynthesis of the reference (ref_gl) and, for
    the embedded corpus, the original eSpeak audio (ref)."""

    def __init__(self, recogniser: Recogniser, script: dict[str, tuple[str, str, int, int]]
                 ) -> None:
        self.recogniser, self.script = recogniser, script
        self.errors = {"gen": [0, 0], "ref_gl": [0, 0], "ref": [0, 0]}

    def listen(self, text: str, audios: dict[str, np.ndarray]) -> dict[str, str]:
        """What the recogniser heard in each audio of one utterance (row fields asr_KIND)."""
        from seqgen_speech import corpus

        if text in self.script:
            audios = {**audios, "ref": corpus.speak(*self.script[text])}
        heard = {}
        for key, audio in audios.items():
            hyp = self.recogniser(audio)
            e, n = wer(_normalise(text), hyp)
            self.errors[key][0] += e
            self.errors[key][1] += n
            heard[f"asr_{key}"] = hyp
        return heard

    def rates(self) -> dict[str, float]:
        return {f"wer_{key}": e / n for key, (e, n) in self.errors.items() if n}


def _listening(model: Any, use_wer: bool) -> Listening | None:
    """A recogniser with the embedded corpus' script (None without pocketsphinx or --wer)."""
    from seqgen_speech import corpus

    if not use_wer:
        return None
    try:
        rec = Recogniser()
    except ImportError:
        return None
    script = {}
    if model.config["data"]["source"] is None:  # the embedded corpus: its eSpeak audio too
        opts = model.domain.options
        script = {r[0]: r for r in corpus.script(int(opts.sentences), int(opts.corpus_seed))}
    return Listening(rec, script)


def evaluate_speech(model: Any, num: int = 10, bias: float = 1.0, seed: int = 1,
                    use_wer: bool = True, images: Path | None = None,
                    ctc_seconds: float | None = None) -> dict[str, Any]:
    """MCD of speech generated for held-out transcripts against their recordings (and the
    word error rates, with pocketsphinx; the CER of the run's own CTC recogniser trained for
    ``ctc_seconds``, None: not measured); ``images``: spectrograms of the first three."""
    if model.vocab is None:
        raise SeqgenError("speech-eval needs a text-conditioned model (-o mode=synthesis)")
    docs = held_out_utterances(model, num)
    if not docs:
        raise SeqgenError("the run's corpus has no held-out utterances with a transcript")
    from seqgen.engine.status import counted

    listening = _listening(model, use_wer)
    spoken = [_speak(model, doc, seed + i, bias, listening,
                     images / f"speech-eval-{i + 1}.png" if images is not None and i < 3
                     else None)
              for i, doc in enumerate(counted(docs, "speech-eval", unit="utterances",
                                              at_once=True))]
    rows = [row for row, _ in spoken]
    out: dict[str, Any] = {
        "utterances": len(rows), "bias": bias,
        "mcd_db": float(np.mean([r["mcd_gen"] for r in rows])),
        "mcd_griffin_lim_floor_db": float(np.mean([r["mcd_gl"] for r in rows])),
        "frames_ratio": float(np.mean([r["gen_frames"] / r["ref_frames"] for r in rows])),
    }
    if listening is not None:
        out.update(listening.rates())
    if ctc_seconds is not None:
        from seqgen_speech.intelligibility import read_back

        out.update(read_back(model, rows, [d.frames for d in docs], [g for _, g in spoken],
                             ctc_seconds))
    out["rows"] = rows
    return out


def _speak(model: Any, doc: Any, seed: int, bias: float, listening: Listening | None,
           image: Path | None) -> tuple[dict[str, Any], np.ndarray]:
    """One held-out utterance spoken by the model: its row of figures (and a spectrogram)
    and the generated log-mel frames."""
    from seqgen_speech.features import log_mel
    from seqgen_speech.invert import to_audio
    from seqgen_speech.mcd import mcd
    from seqgen_speech.render import plot_spectrograms

    ref = doc.frames
    ref_audio_gl = to_audio(ref)
    gen = model.sample(text=doc.text, seed=seed, bias=bias)[0].frames
    gen_audio = to_audio(gen)
    row = {"text": doc.text, "ref_frames": len(ref), "gen_frames": len(gen),
           "mcd_gen": mcd(gen, ref), "mcd_gl": mcd(log_mel(ref_audio_gl), ref)}
    if listening is not None:
        row.update(listening.listen(doc.text, {"gen": gen_audio, "ref_gl": ref_audio_gl}))
    if image is not None:
        image.parent.mkdir(parents=True, exist_ok=True)
        plot_spectrograms([(f"generated: {doc.text!r}", gen),
                           (f"held-out reference ({doc.name})", ref)], image)
    return row, gen


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
        wer_: Annotated[bool, typer.Option("--wer/--no-wer",
                                           help="Word error rate with pocketsphinx.")] = True,
        images: Annotated[Path | None, typer.Option(
            help="Write spectrograms of generated vs reference to this folder.")] = None,
        ctc: Annotated[bool, typer.Option(
            "--ctc/--no-ctc", help="CER of the run's own CTC recogniser (trained once per "
            "corpus and cached) on the samples and on held-out real frames (the floor).")]
        = True,
        train_seconds: Annotated[float, typer.Option(
            help="The CTC recogniser's training time.")] = 180.0,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here.")]
        = None,
    ) -> None:
        """Speech: MCD (dB) of generated vs held-out speech, Griffin-Lim floor, CER of the
        run's own CTC recogniser (floor: held-out real frames), WER."""
        from seqgen import models
        from seqgen.inference import Model

        if num < 1:
            raise SeqgenError("--num must be at least 1")
        model = Model(models.resolve(run, domain), domain)
        if train_seconds <= 0:
            raise SeqgenError("--train-seconds must be positive")
        res = evaluate_speech(model, num, bias, seed, wer_, images,
                              train_seconds if ctc else None)
        for k, v in res.items():
            if k != "rows":
                print(f"{k:28s} {v:.4f}" if isinstance(v, float) else f"{k:28s} {v}")
        for row in res["rows"][:5] if "cer_real" in res else []:
            print(f"{row['text']!r:28s} read_real={row['read_real']!r}  "
                  f"read_sample={row['read_sample']!r}")
        if json_out is not None:
            from seqgen.fileio import write_json

            write_json(json_out, res)
