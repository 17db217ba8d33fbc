"""A contents manager that reads (Voila loads the notebook through it) and refuses every write."""
from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

READ_ONLY = "This dashboard server is read-only: it never changes files in the owner's home directory"


def _refuse(*args, **kwargs):
    raise HTTPError(403, READ_ONLY)


async def _refuse_async(*args, **kwargs):
    raise HTTPError(403, READ_ONLY)


class ReadOnlyContentsManager(AsyncLargeFileManager):
    """Jupyter's file contents manager with save, new, copy, rename, delete and checkpoints refused (403)."""

    # every public method that writes, whatever route reaches it (the gate already refuses the routes)
    save = new = new_untitled = copy = update = rename = rename_file = delete = delete_file = _refuse_async
    create_checkpoint = restore_checkpoint = delete_checkpoint = trust_notebook = _refuse_async
    # the synchronous hooks a subclass or extension might call directly
    run_pre_save_hook = run_post_save_hook = run_pre_save_hooks = run_post_save_hooks = _refuse
