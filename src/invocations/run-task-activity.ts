/**
 * The `runTask` activity (the seeds' "Run provisioning task"): a workflow starts a scheduled task
 * of the same namespace now, and optionally waits for its result.
 *   input: { task: "hr-employees", wait?: boolean, timeoutSeconds?: number (default 600) }
 */
import type { ActionResult } from '../connectors/types.js';
import { InvalidInvocationError } from '../connectors/types.js';
import { refKey } from '../model/resources.js';
import type { TaskGate } from './task-gate.js';

export async function runTaskActivity(
  gate: TaskGate,
  namespace: string,
  input: Record<string, unknown>,
): Promise<ActionResult> {
  const { task, wait = false, timeoutSeconds = 600 } = input;
  if (typeof task !== 'string' || task === '')
    throw new InvalidInvocationError('input.task must name a scheduled task of this namespace');
  if (typeof wait !== 'boolean') throw new InvalidInvocationError('input.wait must be true or false');
  if (typeof timeoutSeconds !== 'number' || timeoutSeconds <= 0) {
    throw new InvalidInvocationError('input.timeoutSeconds must be a positive number');
  }
  const key = refKey(namespace, task);
  // Subscribe before triggering: a short run could otherwise finish unseen.
  const finished = wait ? gate.nextRunFinished(key, timeoutSeconds * 1000) : undefined;
  const answer = gate.startRun(key);
  if (answer === 'unknown' || answer === 'suspended' || answer === 'closed') {
    const why =
      answer === 'suspended'
        ? 'it is suspended'
        : answer === 'closed'
          ? 'the controller is shutting down'
          : 'it is not a scheduled task that can run (missing, invalid, blocked, or not usage: scheduled)';
    return {
      state: 'Exception',
      statusCode: undefined,
      response: { task: key, result: answer },
      exception: `task ${key} was not started: ${why}`,
    };
  }
  if (!finished)
    return { state: 'Completed', statusCode: 202, response: { task: key, result: answer }, exception: null };
  const run = await finished;
  if (!run) {
    return {
      state: 'Exception',
      response: { task: key, result: answer },
      exception: `task ${key} did not finish within ${timeoutSeconds}s; it goes on running`,
    };
  }
  const ok = run.extract?.status === 'Succeeded' && run.load?.status === 'Succeeded';
  return {
    state: ok ? 'Completed' : 'Exception',
    statusCode: 200,
    response: run,
    exception: ok
      ? null
      : `run ${run.id} of ${key} failed: ${run.extract?.status !== 'Succeeded' ? run.extract?.info : run.load?.info}`,
  };
}
