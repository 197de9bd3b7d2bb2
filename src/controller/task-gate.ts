/** The invocation service's task gate (invocations/task-gate.ts), over the Controller and the resource store. */
import type { TaskGate } from '../invocations/task-gate.js';
import type { Task } from '../model/resources.js';
import { declaredFile, type ResourceStore } from '../store/resource-store.js';
import type { Controller } from './controller.js';

export function controllerTaskGate(controller: Controller, store: ResourceStore): TaskGate {
  return {
    task: (key) => store.get<Task>('Task', key),
    connectorOf: (task) => controller.connectorFor(task)?.effective,
    connectorFile: (task) => declaredFile(controller.connectorFor(task)),
    blocker: (stored) => controller.blocker(stored),
    suspended: (stored) => controller.suspended(stored),
    startRun: (key) => controller.scheduler.trigger(key, 'workflow'),
    nextRunFinished: (key, timeoutMs) => controller.nextRunFinished(key, timeoutMs),
  };
}
