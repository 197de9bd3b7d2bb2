#!/usr/bin/env python3
"""Legacy HR connector script for Provisio (seed-style).

Scheduled run (task legacy-hr-employees): Provisio starts the script with its JSON argument set
(argv[1], also in PROVISIO_SCRIPT_ARGS). initialize_script() from the helper module reads it. The
script reads the one HR export CSV file, writes a JSON array with one flat object per employee to
the expected output file (keys = the requested attribute names), and touches the heartbeat file
at least every five minutes.

Event call (task legacy-hr-update-employee, "Execute Custom Backend Task" node): no argument set;
stdin carries exactly two lines, the connector parameters JSON and the task mappings JSON. The
script posts the change to the HR system's import endpoint. Raising an exception (non-zero exit)
sends the workflow down its Exception path with the message.
"""

import csv
import glob
import json
import os
import sys
import time
import urllib.request

from common_subroutines_efecte_library import (
    get_timestamp,
    get_value_from_json,
    initialize_script,
    log_line,
)

# import system_info_efecte_library
# system_info_efecte_library.printOsName()
# system_info_efecte_library.printReleaseVersion()

HEARTBEAT_EVERY_SECONDS = 60


def touch_heartbeat(heartbeat_filename):
    # the heartbeat file must be updated at least once every 5 minutes, or the run is stopped
    with open(heartbeat_filename, "w+") as f:
        f.write("heartbeat updated: " + get_timestamp())


def find_export_file(parameters):
    pattern = os.path.join(
        parameters.get("export_directory") or ".",
        parameters.get("file_path") or "./employees_*.csv",
    )
    matches = sorted(glob.glob(pattern))
    if len(matches) != 1:
        raise RuntimeError(
            "expected exactly one HR export file matching %s, found %d" % (pattern, len(matches))
        )
    return matches[0]


def run_scheduled():
    arguments_dictionary = initialize_script()

    data_extraction_attributes = arguments_dictionary["data_extraction_attributes"]
    working_directory = arguments_dictionary["script_current_working_directory"]
    error_filename = arguments_dictionary["error_filename"]
    output_filename = arguments_dictionary["expected_output_filename"]
    heartbeat_filename = arguments_dictionary["heartbeat_filename"]
    log_filename = arguments_dictionary["log_filename"]
    parameters = arguments_dictionary.get("connector_parameters") or {}

    log_line(log_filename, "script started processing")
    os.chdir(working_directory)

    # attribute name -> "True"/"False": whether the local attribute is multi-valued
    requested = {}
    for attribute in data_extraction_attributes:
        name = get_value_from_json(attribute, "attributeName")
        requested[name] = str(get_value_from_json(attribute, "multivalue"))
    log_line(log_filename, "attributes requested: " + ", ".join(sorted(requested)))

    try:
        export_file = find_export_file(parameters)
        separator = parameters.get("csv_separator") or ";"
        encoding = parameters.get("encoding") or "utf-8"
        log_line(log_filename, "reading " + export_file)

        rows = []
        last_beat = time.monotonic()
        with open(export_file, newline="", encoding=encoding) as f:
            for record in csv.DictReader(f, delimiter=separator):
                row = {}
                for name, multivalue in requested.items():
                    value = (record.get(name) or "").strip()
                    if multivalue == "True":
                        row[name] = [v.strip() for v in value.split("|") if v.strip()]
                    else:
                        row[name] = value
                rows.append(row)
                if time.monotonic() - last_beat > HEARTBEAT_EVERY_SECONDS:
                    touch_heartbeat(heartbeat_filename)
                    last_beat = time.monotonic()
    except Exception as e:
        with open(error_filename, "w") as f:
            f.write(str(e))
        log_line(log_filename, "failed: " + str(e))
        touch_heartbeat(heartbeat_filename)
        sys.exit(1)

    log_line(log_filename, "creating output with %d rows" % len(rows))
    with open(output_filename, "w", encoding="utf-8") as f:
        f.write(json.dumps(rows, indent=4, sort_keys=True))
    log_line(log_filename, "script completed")

    touch_heartbeat(heartbeat_filename)


def run_event():
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    if len(lines) != 2:
        print("expected 2 lines on stdin (connector parameters, task mappings), got %d" % len(lines))
        raise ValueError("wrong number of input lines")
    try:
        parameters = json.loads(lines[0])
    except json.JSONDecodeError as e:
        raise ValueError("connector parameters not valid JSON") from e
    try:
        mappings = json.loads(lines[1])
    except json.JSONDecodeError as e:
        raise ValueError("task mappings not valid JSON") from e

    employee_number = mappings.get("employeeNumber")
    if not employee_number:
        raise ValueError("employeeNumber is empty: nothing to update")

    request = urllib.request.Request(
        parameters["host"].rstrip("/") + "/import/employees/" + employee_number,
        data=json.dumps(mappings).encode("utf-8"),
        method="PUT",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer " + (parameters.get("password") or ""),
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        print("HR import answered %d for employee %s" % (response.status, employee_number))


def main():
    scheduled = len(sys.argv) > 1 or "PROVISIO_SCRIPT_ARGS" in os.environ
    try:
        if scheduled:
            run_scheduled()
        else:
            run_event()
    except (ValueError, RuntimeError, OSError):
        raise
    except Exception as e:
        raise RuntimeError("unexpected error: " + str(e)) from e


if __name__ == "__main__":
    main()
