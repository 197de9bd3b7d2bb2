/**
 * The built-in types a controller touches besides Events (events.ts), with the parts of their real strategies it
 * can observe: Secrets (stringData folded into base64 data, key and size validation, immutability), Leases (spec
 * validation; MicroTime fields), Namespaces (phase, finalizer and the kubernetes.io/metadata.name label).
 */
import { coreEvents, eventsV1 } from './events.js';
import { clone, deepEqual, isObject, type Obj } from './json.js';
import type { ResourceType } from './resources.js';
import { type FieldError, fieldErrors } from './status.js';
import { builtin, struct } from './typed.js';

// --- Secrets -----------------------------------------------------------------------------------------------------

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_SECRET_SIZE = 1024 * 1024;

const secrets = builtin({
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
  namespaced: true,
  fields: { data: { map: 'bytes' }, stringData: { map: 'string' }, type: 'string', immutable: 'bool' },
  fieldLabels: { type: (o) => String(o.type ?? '') },
  normalize(o) {
    // v1 → internal conversion: stringData overwrites data, base64-encoded, and is not stored.
    if (isObject(o.stringData)) {
      const data = (isObject(o.data) ? o.data : {}) as Record<string, string>;
      for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      o.data = data;
    }
    delete o.stringData;
    if (!o.type) o.type = 'Opaque';
  },
  validate(o, old) {
    const errs: FieldError[] = [];
    let size = 0;
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
      if (k.length > 253 || !CONFIG_KEY.test(k)) {
        errs.push(
          fieldErrors.invalid(
            `data[${k}]`,
            k,
            k.length > 253
              ? 'must be no more than 253 characters'
              : "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
          ),
        );
      }
      size += Buffer.from(v, 'base64').length;
    }
    if (size > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('data', MAX_SECRET_SIZE));
    if (old) {
      if (old.type !== o.type) errs.push(fieldErrors.invalid('type', o.type, 'field is immutable'));
      if (old.immutable === true) {
        if (o.immutable !== true)
          errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
        if (!deepEqual(old.data ?? {}, o.data ?? {}))
          errs.push(fieldErrors.forbidden('data', 'field is immutable when `immutable` is set'));
      }
    }
    return errs;
  },
});

// --- Leases ------------------------------------------------------------------------------------------------------

const leases = builtin({
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
  allowCreateOnUpdate: true,
  fields: {
    spec: struct({
      holderIdentity: 'string',
      leaseDurationSeconds: 'int32',
      acquireTime: 'microtime',
      renewTime: 'microtime',
      leaseTransitions: 'int32',
      strategy: 'string',
      preferredHolder: 'string',
    }),
  },
  validate(o) {
    const spec = (o.spec ?? {}) as Obj;
    const errs: FieldError[] = [];
    if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
      errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
    }
    if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
      errs.push(
        fieldErrors.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'),
      );
    }
    return errs;
  },
});

// --- Namespaces --------------------------------------------------------------------------------------------------

const namespaces = builtin({
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  nameRule: 'label',
  fields: {
    spec: struct({ finalizers: { list: 'string' } }),
    status: struct({ phase: 'string', conditions: { list: 'any' } }),
  },
  fieldLabels: { 'status.phase': (o) => String((o.status as Obj | undefined)?.phase ?? '') },
  normalize(o) {
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': String(o.metadata.name ?? '') };
  },
  prepareForCreate(o) {
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
  },
  prepareForUpdate(o, old) {
    o.spec = clone(old.spec);
    o.status = clone(old.status);
  },
});

/** The built-in types, in discovery order. */
export function builtinTypes(): ResourceType[] {
  return [namespaces, secrets, coreEvents, leases, eventsV1];
}
