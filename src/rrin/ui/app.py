"""The page: a Gradio ``Blocks`` with a Video tab and a Two images tab.

What comes first, on a wide screen and a phone alike: the upload, the few settings, the
estimate and Start; the file format, the preview and the models' details are folded away.
Every action is :class:`~rrin.ui.actions.Actions` (itself the library's ``convert`` /
``Interpolator`` calls). In the page nothing raises: a problem is one plain sentence next to
the input or the button (no pop-ups, no red badges). The API endpoints (see docs/ui.md) are
the same actions on hidden triggers, where a problem is raised (``gradio_client`` gets it as
an ``AppError``): ``/facts``, ``/convert``, ``/preview``, ``/pair``.

Every request's files are checked by :class:`_Page` before Gradio opens or copies them:
only uploads of this server pass (:mod:`.guard`). The model work of all tabs shares one queue
slot (``concurrency_id="cpu"``): jobs run one at a time and waiting users see their place.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..errors import InputError
from .actions import CANCELLED, MODE_FACTOR, MODE_FPS, Actions
from .guard import check_request_files
from .jobs import Cancelled, JobRunner
from .messages import CODEC_NAMES
from .sessions import Sessions
from .workspace import Workspace

__all__ = ["build_app", "head", "FACTORS", "CSS"]

FACTORS = [2, 3, 4, 6, 8, 16]
_PROBLEM = "⚠️ "  # before a problem's sentence in the page
_FPS = "fps"  # the "Make" choice that asks for a frame rate

#: Buttons with text contrast of at least 4.5:1 (Gradio's orange primary has 2.8:1), a
#: compact first screen on a phone, pop-ups that show their newest message only. (Gradio
#: scopes this style sheet to its container: the selectors name the page's own elements.)
CSS = """
#tab-video, #tab-pair, .gradio-container { --button-primary-background-fill: #b93d0b;
  --button-primary-background-fill-hover: #8f2f08; --button-primary-text-color: #ffffff;
  --button-primary-text-color-hover: #ffffff; --button-primary-border-color: #b93d0b;
  --button-secondary-text-color: #1f2937; }
button[role="tab"][aria-selected="true"], .tab-wrapper button.selected { color: #b93d0b !important; }
footer a, footer button, span.or { color: #52525b !important; }
.toast-message-item:not(:last-of-type), .toast-separator, .toast-count { display: none !important; }
#pair-frames, #explain, #pair-frames .grid-wrap, #explain .grid-wrap, #pair-frames .gallery-container,
#explain .gallery-container { height: auto !important; max-height: none !important; min-height: 0 !important; }
#intro h1 { margin: 0 0 .2em 0; }
#intro p { margin: 0; }
#facts, #estimate, #status, #done, #pair-status, #preview-caption { min-height: 1.4em; }
#estimate p, #facts p, #done p, #status p { margin: .2em 0; }
@media (max-width: 640px) {
  #tab-video .column, #tab-video .row { gap: 8px !important; }
  #make label, #model label { padding: 4px 8px !important; }
  #make, #model, #shared { padding: 6px 10px !important; }
  #intro h1 { font-size: 1.45em; }
  #intro p { font-size: .85em; line-height: 1.3; }
  #input-video { height: 150px !important; }
  #result-video { height: 200px !important; }
}
"""

def head(max_upload_mb: int | None) -> str:
    """The page's ``<head>`` additions: :file:`page.js` (upload limit in MB, Tab closes a
    drop-down, names for the player's controls, no "Video not playable" pop-up)."""
    script = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")
    limit = int(max_upload_mb) * 1_000_000 if max_upload_mb else 0
    return f"<script>window.RRIN_MAX_UPLOAD_BYTES = {limit};</script>\n<script>\n{script}</script>"


class _Page(gr.Blocks):
    """The app's ``Blocks``: every request's file references are checked (only uploads of
    this server pass) before Gradio opens or copies any of them."""

    def __init__(self, workspace: Workspace, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rrin_workspace = workspace

    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        try:
            check_request_files(inputs, self.rrin_workspace)
        except InputError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def _problem(text: str | None) -> str:
    return f"{_PROBLEM}{text}" if text else ""


def _split(make) -> tuple[str, str | None]:
    """The page's one "Make" choice ("2" … "16" or "fps") as the actions' (mode, factor)."""
    return (MODE_FPS, None) if make == _FPS else (MODE_FACTOR, make)


def build_app(runner: JobRunner, max_upload_mb: int | None = None, sessions: Sessions | None = None) -> gr.Blocks:
    """The page for ``runner``'s workspace and models (not launched).

    ``max_upload_mb`` is only shown; ``launch(max_file_size=…)`` enforces it.
    """
    actions = Actions(runner, sessions)
    models, workspace = runner.models, runner.workspace
    choices = models.dropdown()
    limit = f", up to {max_upload_mb:,} MB" if max_upload_mb else ""
    hint = f"MP4, MKV, WebM, MOV, AVI and most other videos{limit}."

    def api_error(exc: BaseException) -> gr.Error:
        return gr.Error(actions.message(exc), print_exception=False)

    # ---------------------------------------------------------------- handlers: before a job

    def shown(estimate) -> tuple[str, str]:
        """(the line under the video, the line above Start) for an :class:`Estimate`."""
        if estimate.problem and not estimate.facts:
            return _problem(estimate.problem), ""
        info = estimate.facts or hint
        if estimate.problem:
            return info, _problem(estimate.problem)
        line = estimate.plan
        if estimate.measure:
            line += " Measuring this computer's speed on the first frames…"
        return info, line

    def page_facts(video, make, fps, model, codec, crf):
        return shown(actions.estimate(video, *_split(make), fps, model, codec, crf))

    async def page_measure(video, make, fps, model, codec, crf):
        estimate = await actions.measure(video, *_split(make), fps, model, codec, crf)
        estimate.measure = False
        return shown(estimate)

    def api_facts(video, mode, factor, fps, model):
        return actions.estimate(video, mode, factor, fps, model).api_text()

    def midpoint(video):
        try:
            found = runner.probe(video) if video else None
        except Exception:  # noqa: BLE001 - the line under the video says what is wrong
            found = None
        return round(max(found.duration or 0.0, 0.0) / 2, 2) if found else 0.0

    def pick_shared(name):
        if not name:
            return gr.update(), gr.update()
        try:
            return str(workspace.import_shared(name)), gr.update()
        except Exception as exc:  # noqa: BLE001
            return gr.update(), _problem(actions.message(exc))

    # ---------------------------------------------------------------- handlers: the jobs

    def begin(request: gr.Request):
        """A job was asked for; clears the status line under its button."""
        actions.sessions.ask(_session(request))
        return ""

    def begin_convert(request: gr.Request):
        begin(request)
        return None, gr.update(value=None, visible=False), "", ""

    async def page_convert(video, make, fps, model, codec, crf, request: gr.Request, progress=gr.Progress()):
        try:
            path, done = await actions.convert(video, *_split(make), fps, model, codec, crf, progress,
                                               _session(request))
        except Cancelled:
            return gr.update(), gr.update(), "", CANCELLED
        except Exception as exc:  # noqa: BLE001 - one sentence next to Start
            return gr.update(), gr.update(), "", _problem(actions.message(exc))
        return str(path), gr.update(value=str(path), visible=True), done, ""

    async def api_convert(video, mode, factor, fps, model, codec, crf, request: gr.Request, progress=gr.Progress()):
        try:
            path, done = await actions.convert(video, mode, factor, fps, model, codec, crf, progress, _session(request))
        except Exception as exc:  # noqa: BLE001
            raise api_error(exc) from None
        return str(path), str(path), done

    async def page_preview(video, position, make, fps, model, request: gr.Request, progress=gr.Progress()):
        try:
            before, middle, after, caption = await actions.preview(video, position, *_split(make), fps, model,
                                                                   progress, _session(request))
        except Exception as exc:  # noqa: BLE001
            return gr.update(), gr.update(), gr.update(), _problem(actions.message(exc))
        return str(before), str(middle), str(after), caption

    async def api_preview(video, position, mode, factor, fps, model, request: gr.Request):
        try:
            before, middle, after, caption = await actions.preview(video, position, mode, factor, fps, model,
                                                                   None, _session(request))
        except Exception as exc:  # noqa: BLE001
            raise api_error(exc) from None
        return str(before), str(middle), str(after), caption

    async def page_pair(image0, image1, t, count, model, request: gr.Request, progress=gr.Progress()):
        try:
            frames, pictures = await actions.pair(image0, image1, t, count, model, progress, _session(request))
        except Exception as exc:  # noqa: BLE001
            return gr.update(), gr.update(), _problem(actions.message(exc))
        return frames, pictures, ""

    async def api_pair(image0, image1, t, count, model, request: gr.Request):
        try:
            return await actions.pair(image0, image1, t, count, model, None, _session(request))
        except Exception as exc:  # noqa: BLE001
            raise api_error(exc) from None

    def page_cancel(request: gr.Request):
        return CANCELLED if actions.sessions.cancel(_session(request)) else gr.update()

    def closed(request: gr.Request):
        actions.sessions.close(_session(request))

    # ---------------------------------------------------------------- the page

    private = dict(api_visibility="private")
    with _Page(workspace, title="rrin: smoother video", analytics_enabled=False, delete_cache=(1800, 4 * 3600)) as app:
        gr.Markdown("# rrin: smoother video\nNew in-between frames for smooth slow motion or a higher frame rate. "
                    "Everything stays on this computer.", elem_id="intro")
        with gr.Tab("Video", elem_id="tab-video"):
            with gr.Row(equal_height=False):
                with gr.Column(min_width=300, elem_id="input-column"):
                    video = gr.Video(label="Your video", sources=["upload"], height=220, elem_id="input-video")
                    shared = None
                    if workspace.share_dir is not None:
                        shared = gr.Dropdown(workspace.shared_videos(), value=None,
                                             label="…or a video from the shared folder", elem_id="shared")
                    info = gr.Markdown(hint, elem_id="facts")
                with gr.Column(min_width=300, elem_id="settings-column"):
                    make = gr.Radio([(f"×{n}", str(n)) for n in FACTORS] + [("a frame rate", _FPS)], value="2",
                                    label="Make N times as many frames, or a frame rate", elem_id="make")
                    fps = gr.Textbox("60", label="Frames per second (60, 59.94, 24000/1001…)", visible=False,
                                     elem_id="fps")
                    model = gr.Radio(choices, value=models.default_key, label="Model", interactive=bool(choices),
                                     elem_id="model")
                    estimate = gr.Markdown(elem_id="estimate")
                    with gr.Row():
                        start = gr.Button("Start", variant="primary", elem_id="start", min_width=100)
                        stop = gr.Button("Cancel", variant="secondary", elem_id="cancel", min_width=100)
                    status = gr.Markdown(elem_id="status")
                    with gr.Accordion("File format and quality", open=False, elem_id="more"):
                        codec = gr.Radio([(name, key) for key, name in CODEC_NAMES.items()], value="libx264",
                                         label="File format", elem_id="codec")
                        crf = gr.Textbox("", label="Quality number (lower is better; empty: the format's default)",
                                         elem_id="crf", placeholder="empty")
                with gr.Column(min_width=300, elem_id="result-column"):
                    result = gr.Video(label="Result", interactive=False, height=220, elem_id="result-video")
                    done = gr.Markdown(elem_id="done")
                    download = gr.File(label="Download", interactive=False, visible=False, elem_id="download")
            with gr.Accordion("Check one new frame before a long job", open=False, elem_id="preview-box"):
                with gr.Row():
                    position = gr.Number(0, minimum=0, label="At (seconds from the start)", elem_id="position")
                    preview_button = gr.Button("Make one frame", elem_id="preview")
                with gr.Row():
                    before = gr.Image(label="frame before", interactive=False, type="filepath", elem_id="preview-before")
                    middle = gr.Image(label="new frame", interactive=False, type="filepath", elem_id="preview-new")
                    after = gr.Image(label="frame after", interactive=False, type="filepath", elem_id="preview-after")
                caption = gr.Markdown(elem_id="preview-caption")

        with gr.Tab("Two images", elem_id="tab-pair"):
            with gr.Row():
                image0 = gr.Image(label="First image", type="filepath", sources=["upload"], height=220, elem_id="image0")
                image1 = gr.Image(label="Second image", type="filepath", sources=["upload"], height=220, elem_id="image1")
            with gr.Row():
                count = gr.Slider(1, 7, value=1, step=1, label="New frames between them", elem_id="count")
                t = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="Where the new frame is (0: first image, 1: second)",
                              elem_id="t")
            pair_model = gr.Radio(choices, value=models.default_key, label="Model", interactive=bool(choices),
                                  elem_id="pair-model")
            go = gr.Button("Make the frames", variant="primary", elem_id="interpolate")
            pair_status = gr.Markdown(elem_id="pair-status")
            frames = gr.Gallery(label="New frames", columns=4, object_fit="contain", fit_columns=False,
                                preview=False, elem_id="pair-frames")
            gr.Markdown("**How the network made the middle frame.** In the motion pictures the colour is the "
                        "direction things move (the colour wheel in the top-right corner is the key; the number "
                        "under it, the speed that shows as full colour) and white is still.")
            pictures = gr.Gallery(label="How it was made", columns=4, object_fit="contain", fit_columns=False,
                                  preview=False, elem_id="explain")

        with gr.Accordion("About the models", open=False, elem_id="about-models"):
            gr.Markdown(models.details(), elem_id="models")
        gr.Markdown("This page is also an API: see *Use via API* below and docs/ui.md.", elem_id="footer-note")

        # ------------------------------------------------------------ wiring
        settings = [video, make, fps, model, codec, crf]
        for trigger in (video.change, make.change, fps.change, model.change, codec.change, crf.change):
            trigger(page_facts, settings, [info, estimate], concurrency_id="facts", concurrency_limit=4,
                    show_progress="hidden", trigger_mode="always_last", **private).then(
                page_measure, settings, [info, estimate], concurrency_id="measure", concurrency_limit=1,
                show_progress="hidden", trigger_mode="always_last", **private)
        make.change(lambda m: gr.update(visible=m == _FPS), make, fps, queue=False, show_progress="hidden", **private)
        count.change(lambda n: gr.update(visible=int(n or 1) <= 1), count, t, queue=False, show_progress="hidden",
                     **private)
        video.change(midpoint, video, position, show_progress="hidden", **private)
        if shared is not None:
            shared.change(pick_shared, shared, [video, info], show_progress="hidden", **private)
            app.load(lambda: gr.update(choices=workspace.shared_videos()), None, shared, **private)

        cpu = dict(concurrency_id="cpu", concurrency_limit=1)
        job = start.click(begin_convert, None, [result, download, done, status], queue=False, **private).then(
            page_convert, settings, [result, download, done, status], show_progress_on=[status], **cpu, **private)
        look = preview_button.click(begin, None, caption, queue=False, **private).then(
            page_preview, [video, position, make, fps, model], [before, middle, after, caption],
            show_progress_on=[caption], **cpu, **private)
        stop.click(page_cancel, None, status, cancels=[job, look], queue=False, show_progress="hidden", **private)
        go.click(begin, None, pair_status, queue=False, **private).then(
            page_pair, [image0, image1, t, count, pair_model], [frames, pictures, pair_status],
            show_progress_on=[pair_status], **cpu, **private)
        app.unload(closed)

        # The API: the same actions, raising their problems, on hidden triggers (never
        # clicked) with plain inputs, so that the actions check every value themselves.
        with gr.Group(visible=False):
            api = gr.Button(visible=False, elem_id="api-only")
            plain = dict(visible=False)
            api_mode, api_fps = gr.Textbox(label="mode", **plain), gr.Textbox(label="fps", **plain)
            api_factor, api_model = gr.Number(label="factor", **plain), gr.Textbox(label="model", **plain)
            api_codec, api_crf = gr.Textbox(label="codec", **plain), gr.Textbox(label="crf", **plain)
            api_position, api_t, api_count = (gr.Number(label="position", **plain), gr.Number(label="t", **plain),
                                              gr.Number(label="count", **plain))
        choice = [api_mode, api_factor, api_fps, api_model]
        api.click(api_facts, [video, *choice], info, api_name="facts", concurrency_id="facts", concurrency_limit=4)
        api.click(api_convert, [video, *choice, api_codec, api_crf], [result, download, done], api_name="convert", **cpu)
        api.click(api_preview, [video, api_position, *choice], [before, middle, after, caption], api_name="preview",
                  **cpu)
        api.click(api_pair, [image0, image1, api_t, api_count, api_model], [frames, pictures], api_name="pair", **cpu)
    app.queue(default_concurrency_limit=1)
    return app
