/**
 * Events in both APIs the real server offers: core/v1 and events.k8s.io/v1 share one storage (the core form) and
 * are converted field by field (note ↔ message, regarding ↔ involvedObject, ...), so an Event written through one
 * API is listed and watched through the other. Validation follows pkg/apis/core/validation/events.go: the legacy
 * rules for every Event, the strict ones (eventTime, reportingController, action, ...) for events.k8s.io/v1.
 */
import type { KubeObject, Obj } from './json.js';
import type { ResourceType } from './resources.js';
import { type FieldError, fieldErrors } from './status.js';
import { builtin, OBJECT_REFERENCE, struct } from './typed.js';

const SERIES = struct({ count: 'int32', lastObservedTime: 'microtime' });
const SOURCE = struct({ component: 'string', host: 'string' });

/** core/v1 field ↔ events.k8s.io/v1 field, for the fields whose names differ. */
const EVENT_RENAMES: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function renameFields(o: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: KubeObject = { ...o, apiVersion };
  for (const [from, to] of pairs) {
    delete out[from];
    if (o[from] !== undefined) out[to] = o[from];
  }
  return out;
}

const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** Event validation (pkg/apis/core/validation/events.go): the legacy rules, and the strict ones for events.k8s.io. */
function validateEvent(o: KubeObject, strict: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ns = o.metadata.namespace ?? '';
  const involved = (o.involvedObject ?? {}) as Obj;
  const involvedNs = String(involved.namespace ?? '');
  const controllerField = strict ? 'reportingController' : 'reportingComponent';
  if (!o.eventTime) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default')
        errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) {
      errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system')
      errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    if (!o.reportingComponent) errs.push(fieldErrors.required(controllerField));
    if (!o.reportingInstance) errs.push(fieldErrors.required('reportingInstance'));
    else if (String(o.reportingInstance).length > 128)
      errs.push(fieldErrors.invalid('reportingInstance', '', 'can have at most 128 characters'));
    if (!o.action) errs.push(fieldErrors.required('action'));
    else if (String(o.action).length > 128)
      errs.push(fieldErrors.invalid('action', '', 'can have at most 128 characters'));
    if (!o.reason) errs.push(fieldErrors.required('reason'));
    else if (String(o.reason).length > REASON_LIMIT)
      errs.push(fieldErrors.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if (String(o.message ?? '').length > NOTE_LIMIT)
      errs.push(fieldErrors.invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  if (strict) {
    if (!o.eventTime) errs.push(fieldErrors.required('eventTime'));
    if (o.type !== 'Normal' && o.type !== 'Warning')
      errs.push(fieldErrors.invalid('type', '', `has invalid value: ${o.type ?? ''}`));
    if (o.firstTimestamp) errs.push(fieldErrors.invalid('firstTimestamp', '', 'needs to be unset'));
    if (o.lastTimestamp) errs.push(fieldErrors.invalid('lastTimestamp', '', 'needs to be unset'));
    if (o.count) errs.push(fieldErrors.invalid('count', '', 'needs to be unset'));
    const src = (o.source ?? {}) as Obj;
    if (src.component || src.host) errs.push(fieldErrors.invalid('source', '', 'needs to be unset'));
  }
  return errs;
}

const EVENT_FIELD_LABELS: ResourceType['fieldLabels'] = {
  ...Object.fromEntries(
    ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].flatMap((f) => {
      const get = (o: KubeObject) => String(((o.involvedObject ?? o.regarding ?? {}) as Obj)[f] ?? '');
      return [
        [`involvedObject.${f}`, get],
        [`regarding.${f}`, get],
      ];
    }),
  ),
  reason: (o) => String(o.reason ?? ''),
  type: (o) => String(o.type ?? ''),
  reportingComponent: (o) => String(o.reportingComponent ?? o.reportingController ?? ''),
  reportingController: (o) => String(o.reportingComponent ?? o.reportingController ?? ''),
  source: (o) => String(((o.source ?? o.deprecatedSource ?? {}) as Obj).component ?? ''),
};

export const coreEvents = builtin({
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'core/events',
  allowCreateOnUpdate: true,
  // core/v1 Events skip ObjectMeta name validation in their strategy: only the path-segment rule applies.
  nameRule: 'path',
  fields: {
    involvedObject: OBJECT_REFERENCE,
    reason: 'string',
    message: 'string',
    source: SOURCE,
    firstTimestamp: 'time',
    lastTimestamp: 'time',
    count: 'int32',
    type: 'string',
    eventTime: 'microtime',
    series: SERIES,
    action: 'string',
    related: OBJECT_REFERENCE,
    reportingComponent: 'string',
    reportingInstance: 'string',
  },
  fieldLabels: EVENT_FIELD_LABELS,
  validate: (o) => validateEvent(o, false),
});

export const eventsV1 = builtin({
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'core/events',
  allowCreateOnUpdate: true,
  fields: {
    eventTime: 'microtime',
    series: SERIES,
    reportingController: 'string',
    reportingInstance: 'string',
    action: 'string',
    reason: 'string',
    regarding: OBJECT_REFERENCE,
    related: OBJECT_REFERENCE,
    note: 'string',
    type: 'string',
    deprecatedSource: SOURCE,
    deprecatedFirstTimestamp: 'time',
    deprecatedLastTimestamp: 'time',
    deprecatedCount: 'int32',
  },
  fieldLabels: EVENT_FIELD_LABELS,
  // Validated in the stored (core) form, as the real server validates the internal type.
  validate: (o) =>
    validateEvent(
      renameFields(
        o,
        EVENT_RENAMES.map(([a, b]) => [b, a]),
        'v1',
      ),
      true,
    ),
  toStorage: (o) =>
    renameFields(
      o,
      EVENT_RENAMES.map(([a, b]) => [b, a]),
      'v1',
    ),
  fromStorage: (o) => renameFields(o, EVENT_RENAMES, 'events.k8s.io/v1'),
});
