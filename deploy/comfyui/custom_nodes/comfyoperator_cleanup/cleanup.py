"""Deletes files the ComfyOperator router names inside ComfyUI's input, output and temp folders.

Pure Python (no ComfyUI, no aiohttp), so the path rules can be tested on their own. The route in
__init__.py hands every request to handle().
"""

import hmac
import os

ROUTE = "/comfyoperator/cleanup"
TOKEN_HEADER = "X-ComfyOperator-Token"
TOKEN_VARIABLE = "COMFYOPERATOR_CLEANUP_TOKEN"
FOLDER_TYPES = ("input", "output", "temp")
MAX_FILES = 1000


class Refused(Exception):
    """A named file that must not be deleted; the message says why."""


def _inside(root, path):
    return path == root or path.startswith(root + os.sep)


def resolve(roots, folder_type, subfolder, filename):
    """The absolute path of an existing or missing file inside roots[folder_type], or Refused.

    Refused: an unknown folder type; a file name that is empty, '.', '..' or holds a separator or NUL;
    a subfolder that is absolute, holds '..', a backslash or NUL; a folder that resolves (through
    symlinks) outside the root; a symlink that points outside the root; a directory.
    """
    if folder_type not in FOLDER_TYPES or folder_type not in roots or not roots[folder_type]:
        raise Refused("unknown folder type")
    if not isinstance(filename, str) or filename in ("", ".", "..") or any(c in filename for c in "/\\\0"):
        raise Refused("not a plain file name")
    if subfolder is None:
        subfolder = ""
    if not isinstance(subfolder, str) or any(c in subfolder for c in "\\\0"):
        raise Refused("not a relative folder")
    if subfolder.startswith("/") or os.path.isabs(subfolder) or ".." in subfolder.split("/"):
        raise Refused("not a relative folder")

    root = os.path.realpath(roots[folder_type])
    folder = os.path.realpath(os.path.join(root, subfolder))
    if not _inside(root, folder):
        raise Refused("outside the folder")
    path = os.path.join(folder, filename)
    if os.path.islink(path):
        if not _inside(root, os.path.realpath(path)):
            raise Refused("a symlink out of the folder")
    elif os.path.isdir(path):
        raise Refused("not a file")
    return path


def handle(expected_token, given_token, body, roots):
    """(HTTP status, JSON answer) for one request."""
    if not expected_token:
        return 403, {"error": TOKEN_VARIABLE + " is not set: cleanup is off"}
    if not isinstance(given_token, str) or not hmac.compare_digest(given_token.encode("utf-8"), expected_token.encode("utf-8")):
        return 401, {"error": "missing or wrong " + TOKEN_HEADER}
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list) or len(files) > MAX_FILES:
        return 400, {"error": "the body must be {\"files\": [{\"type\", \"subfolder\", \"filename\"}]} with at most %d files" % MAX_FILES}

    deleted, missing, refused = [], [], []
    for entry in files:
        named = entry if isinstance(entry, dict) else {}
        answer = {"type": named.get("type"), "subfolder": named.get("subfolder") or "", "filename": named.get("filename")}
        try:
            path = resolve(roots, named.get("type"), named.get("subfolder"), named.get("filename"))
            os.unlink(path)
            deleted.append(answer)
        except Refused as reason:
            refused.append(dict(answer, reason=str(reason)))
        except FileNotFoundError:
            missing.append(answer)
        except OSError as error:
            refused.append(dict(answer, reason=error.strerror or "cannot delete"))
    return 200, {"deleted": deleted, "missing": missing, "refused": refused}
