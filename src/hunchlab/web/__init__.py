"""``hunch ui``: a local web dashboard over the project.

Starlette serves server-rendered Jinja pages (autoescaped), each with a JSON twin at
the same path plus ``.json``; charts are drawn in the browser by uPlot, vendored under
``static/vendor/`` so the dashboard works offline and needs no build step. The pages
call the same library functions as the CLI (``hunchlab.runs_table``, ``run_page`` and friends); no
SQL lives here.
"""

from hunchlab.web.app import create_app

__all__ = ["create_app"]
