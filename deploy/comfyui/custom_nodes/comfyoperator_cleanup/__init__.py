"""ComfyOperator's cleanup route for ComfyUI: POST /comfyoperator/cleanup (and /api/comfyoperator/cleanup).

The router calls it after a run to delete the outputs it has copied to its output store and the
input files it uploaded. Only files inside ComfyUI's input, output and temp folders can be named,
and only with the token in COMFYOPERATOR_CLEANUP_TOKEN; without that variable every request is
refused. The rules are in cleanup.py.
"""

import os

import folder_paths
from aiohttp import web
from server import PromptServer

from . import cleanup

# A module of routes only: no node classes.
NODE_CLASS_MAPPINGS = {}


@PromptServer.instance.routes.post(cleanup.ROUTE)
async def comfyoperator_cleanup(request):
    try:
        body = await request.json()
    except ValueError:
        body = None
    roots = {folder_type: folder_paths.get_directory_by_type(folder_type) for folder_type in cleanup.FOLDER_TYPES}
    status, answer = cleanup.handle(
        os.environ.get(cleanup.TOKEN_VARIABLE, ""),
        request.headers.get(cleanup.TOKEN_HEADER, ""),
        body,
        roots)
    return web.json_response(answer, status=status)
