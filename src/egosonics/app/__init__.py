"""The Gradio web demo (``egosonics app``).

    limits   what an upload may be: size, a readable video, duration; the sampling settings' ranges (no gradio)
    web      the page, the queue and the launch; generation goes through ``egosonics.generate.generate_files``

gradio is an optional dependency (``pip install 'egosonics[app]'``); only ``web`` imports it, when the app is built.
"""

from egosonics.app.limits import Limits, UploadError, check_upload

__all__ = ["Limits", "UploadError", "check_upload"]
