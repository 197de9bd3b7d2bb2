/**
 * Exit codes, as kubectl uses them: 1 when an operation failed (not found, refused, a run failed), 2 for a
 * mistake in the command line itself (an unknown verb, type, option or format). Throw UsageError for the second.
 */
export class UsageError extends Error {}
