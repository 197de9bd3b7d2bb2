"""Provisio's stand-in for the seeds' ``system_info_efecte_library``: what the host runs, for script logs.

The seeds' example script names ``printOsName()`` and ``printReleaseVersion()`` (commented out there);
both print one line to stdout, which Provisio keeps with the run (the last lines appear in a failure).
"""

import platform


def get_os_name():
    return platform.system()


def get_release_version():
    return platform.release()


def printOsName():
    print("OS name: " + get_os_name())


def printReleaseVersion():
    print("Release version: " + get_release_version())


def printPythonVersion():
    print("Python version: " + platform.python_version())
