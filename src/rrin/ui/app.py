"""The page: a Gradio ``Blocks`` with a Video tab and a Two images tab.

Every handler is a thin layer over :class:`~rrin.ui.jobs.JobRunner` (itself the library's
``convert``/``Interpolator`` calls). A user's error (:class:`rrin.errors.RRINError`) becomes one
line in the page (``gr.Error``) with the private folder's paths cut to file names. The model
work of all tabs shares one queue slot (``concurrency_id="cpu"``): jobs run one at a time
and waiting users see their place in the queue. Long handlers are coroutines that run the job
in a thread; when Gradio cancels them (the Cancel button, or ``Job.cancel()`` from
``gradio_client``) they set the job's cancel event, and the job stops at its next frame.

API endpoints (see docs/ui.md): ``/convert``, ``/facts``, ``/preview``, ``/pair``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from fractions import Fraction

import gradio as gr

from ..errors import InputError, RRINError
from ..io.video_writer import CODECS
from .facts import MAX_FACTOR, format_duration
from .jobs import OUTPUT_EXTENSIONS, Cancelled, JobRunner, VideoRequest
from .workspace import INPUT_VIDEO_EXTENSIONS

__all__ = ["build_app", "FACTORS", "CSS"]

FACTORS = [2, 3, 4, 6, 8, 16]
_MODE_FACTOR, _MODE_FPS = "×N frames", "target fps"
_CANCELLED = "Cancelled. Nothing the job wrote was kept."

CSS = """
#facts, #status { min-height: 1.5em; }
"""


def _readable(runner: JobRunner, exc: BaseException) -> str:
    return runner.workspace.relative_message(str(exc)) or type(exc).__name__


def _page_error(runner: JobRunner, exc: BaseException) -> gr.Error:
    """A user's error as one line for the page; anything else is logged in full on the
    server and named in one line."""
    if isinstance(exc, RRINError):
        return gr.Error(_readable(runner, exc), duration=None, print_exception=False)
    traceback.print_exception(exc, file=sys.stderr)
    return gr.Error(f"unexpected error: {type(exc).__name__}: {_readable(runner, exc)}", duration=None,
                    print_exception=False)


def _video_request(mode: str, factor, fps: str, model: str | None, codec: str, crf) -> VideoRequest:
    """The page's choices as a :class:`VideoRequest` (:class:`InputError` for bad ones)."""
    from ..inference.schedule import parse_rate

    if mode == _MODE_FPS:
        rate: Fraction | None = parse_rate((fps or "").strip())
        number = None
    else:
        rate = None
        try:
            number = int(factor)
        except (TypeError, ValueError):
            raise InputError(f"the factor must be a whole number, got {factor!r}") from None
    if codec not in CODECS:
        raise InputError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})")
    quality = None
    if str(crf if crf is not None else "").strip():
        try:
            quality = int(str(crf).strip())
        except ValueError:
            raise InputError(f"the quality (CRF) must be a whole number, got {crf!r}") from None
        if not 0 <= quality <= 63:
            raise InputError(f"the quality (CRF) must be between 0 and 63, got {quality}")
    return VideoRequest(factor=number if rate is None else None, fps=rate, model_key=model or None,
                        codec=codec, crf=quality)


async def _in_thread(function, *args):
    """Run a job in a worker thread; if Gradio cancels the handler, tell the job to stop."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(function, *args, cancel=cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise


async def _job(runner: JobRunner, function, *args):
    """:func:`_in_thread`, with a cancelled job or any failure shown in the page as one line."""
    try:
        return await _in_thread(function, *args)
    except Cancelled:
        raise gr.Error(_CANCELLED, print_exception=False) from None
    except Exception as exc:  # noqa: BLE001 - shown as one line, logged in full when unexpected
        raise _page_error(runner, exc) from None


def build_app(runner: JobRunner, max_upload_mb: int | None = None) -> gr.Blocks:
    """The page for ``runner``'s workspace and models (not launched).

    ``max_upload_mb`` is only shown; ``launch(max_file_size=…)`` enforces it.
    """
    models = runner.models
    workspace = runner.workspace
    limit = f" Uploads up to {max_upload_mb} MB." if max_upload_mb else ""

    def facts(video, mode, factor, fps, model):
        if not video:
            return "Upload a video (or pick one from the shared folder)."
        shown = []
        try:
            found = runner.probe(video)
            shown.append(found.markdown())
            shown.append(runner.estimate(found, _video_request(mode, factor, fps, model, "libx264", None)))
        except RRINError as exc:
            shown.append(f"**Error:** {_readable(runner, exc)}")
        except Exception as exc:  # noqa: BLE001 - shown as one line, logged in full
            traceback.print_exception(exc, file=sys.stderr)
            shown.append(f"**Error:** unexpected {type(exc).__name__}: {_readable(runner, exc)}")
        return "\n\n".join(shown)

    def position_range(video):
        try:
            found = runner.probe(video) if video else None
        except Exception:  # noqa: BLE001 - the facts line says what is wrong
            found = None
        end = max(found.duration or 0.0, 0.0) if found else 0.0
        return round(end / 2, 2)

    async def convert(video, mode, factor, fps, model, codec, crf, progress=gr.Progress()):
        if not video:
            raise gr.Error("Upload a video first.", print_exception=False)
        try:
            request = _video_request(mode, factor, fps, model, codec, crf)
        except RRINError as exc:
            raise _page_error(runner, exc) from None

        def report(done, total, left):
            text = f"{done}/{total} frames" if total else f"{done} frames"
            if left is not None:
                text += f", {format_duration(left)} left"
            progress((done, total) if total else None, desc=text, unit="frames")

        progress(0, desc="starting")
        outcome = await _job(runner, runner.convert_video, video, request, report)
        status = (f"Done: {outcome.frames_out} frames from {outcome.frames_in} in "
                  f"{format_duration(outcome.seconds)} → {outcome.path.name}")
        for warning in outcome.warnings:
            status += f"\n\nwarning: {workspace.relative_message(warning)}"
        if outcome.error:
            status += (f"\n\n**Error:** {workspace.relative_message(outcome.error)}; "
                       f"the result has the {outcome.frames_in} frames that decoded")
        return str(outcome.path), str(outcome.path), status

    async def preview(video, position, mode, factor, fps, model):
        if not video:
            raise gr.Error("Upload a video first.", print_exception=False)
        try:
            request = _video_request(mode, factor, fps, model, "libx264", None)
        except RRINError as exc:
            raise _page_error(runner, exc) from None
        outcome = await _job(runner, runner.preview, video, position or 0.0, request)
        caption = (f"The new frame at t = {outcome.t:.2f} between the frames at {outcome.time_s:.2f} s and the next "
                   f"(model time {outcome.seconds:.2f} s; the estimate above now uses it).")
        return str(outcome.before), str(outcome.middle), str(outcome.after), caption, facts(video, mode, factor, fps, model)

    async def pair(image0, image1, t, count, model):
        if not image0 or not image1:
            raise gr.Error("Give two images.", print_exception=False)
        count = int(count or 1)
        times = [float(t)] if count <= 1 else [k / (count + 1) for k in range(1, count + 1)]
        outcome = await _job(runner, runner.pair, image0, image1, times, model or None, True)
        frames = [(str(path), f"t = {t:.3f}") for path, t in zip(outcome.frames, outcome.times)]
        pictures = [(str(path), path.stem) for path in outcome.explanation]
        return frames, pictures

    def pick_shared(name):
        if not name:
            return gr.update()
        try:
            return str(workspace.shared_file(name))
        except RRINError as exc:
            raise _page_error(runner, exc) from None

    with gr.Blocks(title="rrin", analytics_enabled=False, delete_cache=(1800, 4 * 3600)) as app:
        gr.Markdown("# rrin: video frame interpolation\nNew in-between frames for smooth slow motion or a "
                    "higher frame rate. Everything runs on this computer; jobs run one at a time." + limit)
        gr.Markdown(models.table(), elem_id="models")
        choices = models.dropdown()
        with gr.Tab("Video"):
            with gr.Row():
                with gr.Column():
                    video = gr.Video(label="Input", sources=["upload"], elem_id="input-video")
                    if workspace.share_dir is not None:
                        shared = gr.Dropdown(workspace.shared_videos(), value=None, label="…or a video from the shared folder",
                                             elem_id="shared")
                        shared.change(pick_shared, shared, video, api_visibility="private")
                with gr.Column():
                    result = gr.Video(label="Result", interactive=False, elem_id="result-video")
                    download = gr.File(label="Download", interactive=False, elem_id="download")
            info = gr.Markdown("Upload a video (or pick one from the shared folder).", elem_id="facts")
            with gr.Row():
                mode = gr.Radio([_MODE_FACTOR, _MODE_FPS], value=_MODE_FACTOR, label="Make")
                factor = gr.Dropdown(FACTORS, value=2, label=f"×N: N−1 new frames between each pair (2…{MAX_FACTOR})",
                                     allow_custom_value=True)
                fps = gr.Textbox("60", label="target fps (60, 59.94, 24000/1001)")
            with gr.Row():
                model = gr.Dropdown(choices, value=models.default_key, label="Model", interactive=bool(choices))
                codec = gr.Dropdown(list(OUTPUT_EXTENSIONS), value="libx264", label="Codec (ffv1: lossless .mkv)")
                crf = gr.Textbox("", label="Quality: CRF, lower is better", elem_id="crf",
                                 placeholder="empty: the codec's default (x264/x265 18, VP9 31, AV1 30)")
            with gr.Accordion("Preview one pair before a long job", open=False):
                position = gr.Number(0, minimum=0, label="at (seconds from the start)", elem_id="position")
                preview_button = gr.Button("Preview", elem_id="preview")
                with gr.Row():
                    before = gr.Image(label="frame before", interactive=False, type="filepath")
                    middle = gr.Image(label="new frame", interactive=False, type="filepath", elem_id="preview-new")
                    after = gr.Image(label="frame after", interactive=False, type="filepath")
                preview_caption = gr.Markdown()
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="start")
                stop = gr.Button("Cancel", variant="stop", elem_id="cancel")
            status = gr.Markdown(elem_id="status")

            facts_inputs = [video, mode, factor, fps, model]
            video.change(facts, facts_inputs, info, api_name="facts", concurrency_id="facts", concurrency_limit=4,
                         show_progress="hidden")
            for trigger in (mode.change, factor.change, fps.change, model.change):
                trigger(facts, facts_inputs, info, api_visibility="private", concurrency_id="facts",
                        concurrency_limit=4, show_progress="hidden", trigger_mode="always_last")
            video.change(position_range, video, position, api_visibility="private", show_progress="hidden")
            job = start.click(convert, [video, mode, factor, fps, model, codec, crf], [result, download, status],
                              api_name="convert", concurrency_id="cpu", concurrency_limit=1)
            look = preview_button.click(preview, [video, position, mode, factor, fps, model],
                                        [before, middle, after, preview_caption, info], api_name="preview",
                                        concurrency_id="cpu", concurrency_limit=1)
            stop.click(lambda: _CANCELLED, None, status, cancels=[job, look], queue=False, api_visibility="private")

        with gr.Tab("Two images"):
            with gr.Row():
                image0 = gr.Image(label="first image (t = 0)", type="filepath", sources=["upload"], elem_id="image0")
                image1 = gr.Image(label="second image (t = 1)", type="filepath", sources=["upload"], elem_id="image1")
            with gr.Row():
                t = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="t (with one frame)")
                count = gr.Slider(1, 7, value=1, step=1, label="frames between (more than 1: evenly spaced)")
                pair_model = gr.Dropdown(choices, value=models.default_key, label="Model", interactive=bool(choices))
            go = gr.Button("Interpolate", variant="primary", elem_id="interpolate")
            frames = gr.Gallery(label="in-between frames", columns=4, elem_id="pair-frames")
            pictures = gr.Gallery(label="what the network did: flows (colour = direction, legend in the corner), "
                                        "weight maps, warped frames, blend, residue", columns=5, elem_id="explain")
            go.click(pair, [image0, image1, t, count, pair_model], [frames, pictures], api_name="pair",
                     concurrency_id="cpu", concurrency_limit=1)
        gr.Markdown(f"Accepted videos: {' '.join(INPUT_VIDEO_EXTENSIONS)}. The same conversion is an API "
                    "(see *Use via API* below and docs/ui.md).")
        if workspace.share_dir is not None:
            app.load(lambda: gr.update(choices=workspace.shared_videos()), None, shared, api_visibility="private")
    app.queue(default_concurrency_limit=1)
    return app
