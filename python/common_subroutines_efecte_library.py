"""Provisio's helper module for seed-style Python scripts (Generic Python Script connector).

Scripts written for the seeds' product import ``common_subroutines_efecte_library``; Provisio puts this
module on the script's PYTHONPATH so that they run unchanged. It offers the functions those scripts use:

- ``initialize_script()``: the argument set of a scheduled run (a dict): ``data_extraction_attributes``
  (a list of ``{"attributeName": ..., "multivalue": true|false}``, one per mapped external attribute),
  ``script_current_working_directory``, ``error_filename``, ``expected_output_filename``,
  ``heartbeat_filename``, ``log_filename``, plus ``connector_parameters`` (the Connector's ``parameters``
  with the keys of ``parametersSecretRef`` merged in) and ``task_arguments`` (the Task's
  ``source.script.arguments``).
- ``get_value_from_json(obj, key)``: a value of a dict (or of a JSON text); ``a.b`` reaches into nested objects.
- ``log_line(log_filename, text)``: appends a time-stamped line to the run's log file; Provisio copies the
  lines into the run's log (secret values scrubbed).
- ``get_timestamp()``: the current local time as ``YYYY-MM-DD HH:MM:SS``.

Where the values come from: the argument set is the first command-line argument (JSON; it never holds a
secret) and also ``PROVISIO_SCRIPT_ARGS``. The connector parameters, secrets included, are read from the
file that ``PROVISIO_SCRIPT_PARAMETERS_FILE`` names: a file of the run's own working directory that only
the script's user can read, removed when the run ends. They are never on the command line.
"""

import datetime
import json
import os
import sys

ARGS_ENV = "PROVISIO_SCRIPT_ARGS"
PARAMETERS_FILE_ENV = "PROVISIO_SCRIPT_PARAMETERS_FILE"


def _read_parameters():
    path = os.environ.get(PARAMETERS_FILE_ENV)
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def initialize_script():
    """The argument set of this run, as a dict (see the module's documentation)."""
    text = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(ARGS_ENV)
    if not text:
        raise RuntimeError(
            "no argument set: this script is started by Provisio for a scheduled task "
            "(the argument set is the first command-line argument, or " + ARGS_ENV + ")"
        )
    arguments = json.loads(text)
    if not isinstance(arguments, dict):
        raise RuntimeError("the argument set is not a JSON object")
    arguments.setdefault("connector_parameters", _read_parameters())
    arguments.setdefault("task_arguments", {})
    return arguments


def read_event_input(stream=None):
    """For event scripts: the two stdin lines as (connector_parameters, task_mappings) dicts."""
    lines = [line for line in (stream or sys.stdin).read().splitlines() if line.strip()]
    if len(lines) != 2:
        raise Exception("Expected exactly two lines of input.")
    return json.loads(lines[0]), json.loads(lines[1])


def get_value_from_json(json_object, key, default=None):
    """The value at ``key`` of a dict or JSON text; ``a.b`` reaches nested objects; ``default`` if absent."""
    if isinstance(json_object, (str, bytes, bytearray)):
        json_object = json.loads(json_object)
    if isinstance(json_object, dict) and key in json_object:
        return json_object[key]
    value = json_object
    for part in str(key).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def get_timestamp():
    """The current local time, ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def log_line(log_filename, text):
    """Appends ``<timestamp> - <text>`` to the log file (created when missing)."""
    with open(log_filename, "a", encoding="utf-8") as f:
        f.write(get_timestamp() + " - " + str(text) + "\n")


def write_heartbeat(heartbeat_filename):
    """Touches the heartbeat file: a scheduled script must do so at least every heartbeatTimeout (default 5m)."""
    with open(heartbeat_filename, "w+", encoding="utf-8") as f:
        f.write("heartbeat updated: " + get_timestamp())


def write_error(error_filename, text):
    """Writes the run's failure message; a run whose error file is not empty fails with its content."""
    with open(error_filename, "w", encoding="utf-8") as f:
        f.write(str(text))
