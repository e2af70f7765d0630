"""The web app: upload a clip, see the top-5 and where each pathway looked (Gradio); in its
Detect tab, the actions of each box on the clip's key frame.

    slowfast-edu demo                       # http://127.0.0.1:7860, the embedded default models
    from slowfast_edu.app import launch
    demo = launch(port=7861, prevent_thread_lock=True); ...; demo.close()

`analysis.py` holds everything of the Classify tab but the page (testable without Gradio), and
`detection.py` the same for the Detect tab (typed boxes, the synthetic shapes found, scores per
box, the key frame drawn); `menu.py` the model menu, `pictures.py` the timelines and the
animation, `preview.py` what the browser can play; the reading of an upload
(`slowfast_edu.views`), the models (`slowfast_edu.models.load_model`, `load_default_detector`)
and their domain checks come from the library; `ui.py` the `gr.Blocks` page and `launch`;
`serve.py` the port and the temporary folder; `cli.py` the `demo` command.
"""

__all__ = ["build_demo", "launch"]


def __getattr__(name: str):
    # gradio takes seconds to import: only when the app is used, not for every `slowfast-edu` call
    if name in __all__:
        from . import ui

        return getattr(ui, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
