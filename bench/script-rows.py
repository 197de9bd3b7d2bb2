#!/usr/bin/env python3
"""Benchmark script for `npm run bench:script`: writes task_arguments.rows rows of the requested attributes
to the expected output file as one JSON array, row by row (as a script with a large output should), touching
the heartbeat file now and then. Prints its own peak RSS (KB) to stderr at the end."""

import json
import resource
import sys

from common_subroutines_efecte_library import initialize_script, log_line, write_heartbeat

arguments = initialize_script()
names = [a["attributeName"] for a in arguments["data_extraction_attributes"]]
rows = int(arguments["task_arguments"].get("rows", 200000))
log_line(arguments["log_filename"], "writing %d rows" % rows)
with open(arguments["expected_output_filename"], "w", encoding="utf-8") as f:
    f.write("[\n")
    for i in range(rows):
        row = {name: "%s-%d" % (name, i) for name in names}
        row["id"] = "E%07d" % i
        f.write((",\n" if i else "") + json.dumps(row))
        if i % 50000 == 0:
            write_heartbeat(arguments["heartbeat_filename"])
    f.write("\n]\n")
write_heartbeat(arguments["heartbeat_filename"])
log_line(arguments["log_filename"], "done")
print("maxrss_kb=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
