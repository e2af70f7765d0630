"""The web app: upload a clip, see the top-5 and where each pathway looked (Gradio).

    slowfast-edu demo                       # http://127.0.0.1:7860, the embedded default model
    from slowfast_edu.app import launch
    demo = launch(port=7861, prevent_thread_lock=True); ...; demo.close()

`analysis.py` holds everything but the page (testable without Gradio): `menu.py` the model menu,
`pictures.py` the timelines and the animation; the reading of an upload (`slowfast_edu.views`),
the model (`slowfast_edu.models.load_model`) and its domain check come from the library; `ui.py`
the `gr.Blocks` page and `launch`; `cli.py` the `demo` command. (`inference.py` and `models.py`
are the old names of `analysis.py` and `menu.py`, kept for notebook 10 until it moves.)
"""

__all__ = ["build_demo", "launch"]


def __getattr__(name: str):
    # gradio takes seconds to import: only when the app is used, not for every `slowfast-edu` call
    if name in __all__:
        from . import ui

        return getattr(ui, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
