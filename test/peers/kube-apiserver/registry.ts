/**
 * What create, update, patch, delete, get and list do to objects: k8s.io/apiserver's generic registry and the
 * strategies, reduced to what a controller can observe. resourceVersion preconditions (409 Conflict, 422 for a
 * custom resource updated without one), generation (bumped only when something besides metadata changes; the
 * status subresource never bumps it), status carried over by main-resource writes and everything but status
 * carried over by `/status` writes, no-op writes that do not bump resourceVersion, finalizers and
 * deletionTimestamp, generateName, namespace admission (404 for a missing namespace), unknown-field pruning with
 * `fieldValidation` (Warn by default, Strict → 400), dryRun, and paged lists with real continue tokens served
 * from a consistent snapshot (410 Expired once it is compacted away).
 */
import { clone, deepEqual, isObject, type KubeObject, type Obj, withoutMetadata } from './json.js';
import { generateName, nowTime, validateMeta } from './meta.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
} from './patch.js';
import { groupResource, type ResourceType, type TypeRegistry } from './resources.js';
import { fieldSelector, labelSelector } from './selectors.js';
import { errors, type FieldError, fieldErrors, GoValue, type Status, success } from './status.js';
import type { Store } from './store.js';

export interface RegistryOptions {
  /** Creating in a namespace that does not exist answers 404, as the NamespaceLifecycle admission plugin does. */
  requireNamespace: boolean;
  /** Largest stored object (etcd's request limit); bigger writes fail with `etcdserver: request is too large`. */
  maxObjectBytes: number;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** 'status' to write through the status subresource. */
  subresource?: string;
}

export interface WriteResult {
  /** The object as the API returns it (or a Status for a completed delete). */
  object: KubeObject | Status;
  code: number;
  warnings: string[];
}

export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export class Registry {
  constructor(
    readonly store: Store,
    readonly types: TypeRegistry,
    private readonly options: RegistryOptions,
  ) {}

  /** A stored object in the API form of `type` (a copy). */
  external(type: ResourceType, stored: KubeObject): KubeObject {
    return type.fromStorage(clone(stored));
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const stored = this.store.get(type.storage, scope(type, namespace), name);
    if (!stored) throw errors.notFound(groupResource(type), name);
    return this.external(type, stored);
  }

  /** A predicate for list and watch filters: namespace, label selector, field selector. */
  matcher(type: ResourceType, namespace: string | undefined, q: ListQuery): (o: KubeObject) => boolean {
    const byLabel = labelSelector(q.labelSelector ?? null);
    const byField = fieldSelector(q.fieldSelector ?? null, type);
    const ns = scope(type, namespace);
    return (o) => (ns === undefined || o.metadata.namespace === ns) && byLabel(o) && byField(o);
  }

  list(type: ResourceType, namespace: string | undefined, q: ListQuery): KubeObject {
    const ns = scope(type, namespace);
    const match = this.matcher(type, namespace, q);
    let rv = this.store.resourceVersion;
    let start = '';
    let source: KubeObject[];
    if (q.continue) {
      const token = decodeContinue(q.continue);
      start = token.start;
      if (token.rv === -1) {
        source = this.store.list(type.storage, ns);
      } else {
        const snapshot = this.store.snapshotAt(type.storage, token.rv);
        if (!snapshot) {
          const err = errors.expired(INCONSISTENT_CONTINUE);
          err.status.metadata.continue = encodeContinue({ v: 'meta.k8s.io/v1', rv: -1, start });
          throw err;
        }
        rv = token.rv;
        source = snapshot;
      }
    } else {
      source = this.store.list(type.storage, ns);
    }
    const relKey = (o: KubeObject) =>
      (ns === undefined && type.namespaced ? `${o.metadata.namespace}/` : '') + o.metadata.name;
    const candidates = source.filter(
      (o) => (!start || relKey(o) >= start) && (ns === undefined || o.metadata.namespace === ns),
    );
    const items = candidates.map((o) => this.external(type, o)).filter(match);
    const metadata: Obj = { resourceVersion: String(rv) };
    let page = items;
    if (q.limit && q.limit > 0 && items.length > q.limit) {
      page = items.slice(0, q.limit);
      metadata.continue = encodeContinue({ v: 'meta.k8s.io/v1', rv, start: `${relKey(page[page.length - 1])}\u0000` });
      if (!q.labelSelector && !q.fieldSelector) metadata.remainingItemCount = items.length - q.limit;
    }
    if (!type.custom) {
      for (const item of page) {
        delete item.apiVersion;
        delete item.kind;
      }
    }
    return { apiVersion: type.apiVersion, kind: type.listKind, metadata, items: page } as unknown as KubeObject;
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): WriteResult {
    const obj = decodeBody(type, body);
    if (type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
    return this.createDecoded(type, obj, opts);
  }

  private createDecoded(type: ResourceType, obj: KubeObject, opts: WriteOptions): WriteResult {
    this.requireNamespace(type, obj.metadata.namespace);
    const warnings = this.normalize(type, obj, opts);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    const requestedResourceVersion = meta.resourceVersion;
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = nowTime();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (type.generation) meta.generation = 1;
    else delete meta.generation;
    type.prepareForCreate(obj);
    const errs = [...validateMeta(meta, type.namespaced, type.nameRule), ...type.validate(obj)];
    if (errs.length > 0) throw errors.invalid(type.group, type.kind, String(meta.name ?? ''), errs);
    if (requestedResourceVersion) throw errors.unknown('resourceVersion should not be set on objects to be created');
    delete meta.resourceVersion;
    const name = String(meta.name);
    if (this.store.get(type.storage, meta.namespace, name)) throw errors.alreadyExists(groupResource(type), name);
    const stored = type.toStorage(obj);
    this.checkSize(stored);
    if (opts.dryRun) return { object: this.external(type, stored), code: 201, warnings };
    this.store.commit(type.storage, 'ADDED', stored);
    return { object: this.external(type, stored), code: 201, warnings };
  }

  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): WriteResult {
    const obj = decodeBody(type, body);
    const objName = obj.metadata.name ?? '';
    if (objName !== name) {
      throw errors.badRequest(`the name of the object (${objName}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw errors.badRequest(
          `the namespace of the object (${obj.metadata.namespace}) does not match the namespace on the request (${namespace})`,
        );
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
    const stored = this.store.get(type.storage, scope(type, namespace), name);
    if (!stored) {
      if (opts.subresource || !type.allowCreateOnUpdate) throw errors.notFound(groupResource(type), name);
      return this.createDecoded(type, obj, opts);
    }
    const old = this.external(type, stored);
    const rv = obj.metadata.resourceVersion;
    if (!rv) {
      if (!type.allowUnconditionalUpdate) {
        // The real server builds this Invalid error from the resource, not the kind.
        throw errors.invalid(type.group, type.plural, name, [
          fieldErrors.invalid('metadata.resourceVersion', new GoValue('0x0'), 'must be specified for an update'),
        ]);
      }
    } else if (rv !== old.metadata.resourceVersion) {
      throw errors.conflict(groupResource(type), name);
    }
    return this.updateFrom(type, old, obj, opts);
  }

  /** The rest of an update once the precondition held: strategy, validation, no-op detection, commit. */
  private updateFrom(type: ResourceType, old: KubeObject, obj: KubeObject, opts: WriteOptions): WriteResult {
    const warnings = this.normalize(type, obj, opts);
    const name = String(old.metadata.name);
    let next: KubeObject;
    const errs: FieldError[] = [];
    if (opts.subresource === 'status') {
      next = clone(old);
      if (obj.status !== undefined) next.status = obj.status;
      else delete next.status;
    } else {
      next = obj;
      const m = next.metadata;
      const o = old.metadata;
      if (m.uid && m.uid !== o.uid) errs.push(fieldErrors.invalid('metadata.uid', m.uid, 'field is immutable'));
      m.uid = o.uid;
      m.creationTimestamp = o.creationTimestamp;
      if (o.deletionTimestamp) m.deletionTimestamp = o.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (o.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      delete m.selfLink;
      if (type.generation) m.generation = o.generation;
      else delete m.generation;
      type.prepareForUpdate(next, old);
      if (o.deletionTimestamp) {
        const added = (m.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f));
        if (added.length > 0) {
          errs.push(
            fieldErrors.forbidden(
              'metadata.finalizers',
              `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
            ),
          );
        }
      }
      if (type.generation && !deepEqual(withoutMetadata(next), withoutMetadata(old))) {
        m.generation = (o.generation ?? 0) + 1;
      }
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    errs.push(...validateMeta(next.metadata, type.namespaced, type.nameRule), ...type.validate(next, old));
    if (errs.length > 0) throw errors.invalid(type.group, type.kind, name, errs);
    if (deepEqual(next, old)) return { object: old, code: 200, warnings };
    const stored = type.toStorage(next);
    this.checkSize(stored);
    if (opts.dryRun) return { object: this.external(type, stored), code: 200, warnings };
    this.store.commit(type.storage, 'MODIFIED', stored, opts.subresource);
    const result = this.external(type, stored);
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0) {
      this.store.commit(type.storage, 'DELETED', clone(stored));
    }
    return { object: result, code: 200, warnings };
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    opts: WriteOptions = {},
  ): WriteResult {
    if (contentType === STRATEGIC_MERGE_PATCH && !type.strategicMerge) {
      throw errors.unsupportedMediaType(
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      );
    }
    const stored = this.store.get(type.storage, scope(type, namespace), name);
    if (!stored) throw errors.notFound(groupResource(type), name);
    const old = this.external(type, stored);
    let patched: Obj;
    if (contentType === MERGE_PATCH) patched = applyMergePatch(old, body);
    else if (contentType === JSON_PATCH) patched = applyJsonPatch(old, body);
    else if (contentType === STRATEGIC_MERGE_PATCH) patched = applyStrategicMergePatch(old, body);
    else {
      throw errors.unsupportedMediaType(
        `the fake kube-apiserver does not implement ${contentType} (server-side apply); use a merge or JSON patch`,
      );
    }
    const obj = decodeBody(type, patched);
    if ((obj.metadata.name ?? '') !== name) {
      throw errors.badRequest(
        `the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    obj.metadata.namespace = old.metadata.namespace;
    if (!obj.metadata.namespace) delete obj.metadata.namespace;
    // A patch keeps the current resourceVersion unless it sets one itself: then it is a precondition.
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw errors.conflict(groupResource(type), name);
    if (!rv) obj.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.updateFrom(type, old, obj, opts);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): WriteResult {
    const stored = this.store.get(type.storage, scope(type, namespace), name);
    if (!stored) throw errors.notFound(groupResource(type), name);
    const old = this.external(type, stored);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw errors.conflict(
        groupResource(type),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(
        groupResource(type),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp) return { object: old, code: 200, warnings: [] };
      const next = clone(stored);
      next.metadata.deletionTimestamp = nowTime();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (next.metadata.generation) next.metadata.generation += 1;
      if (!options.dryRun) this.store.commit(type.storage, 'MODIFIED', next);
      return { object: this.external(type, next), code: 200, warnings: [] };
    }
    if (type.plural === 'namespaces' && !type.group && !options.dryRun) this.emptyNamespace(name);
    if (!options.dryRun) this.store.commit(type.storage, 'DELETED', clone(stored));
    return {
      object: success({ name, group: type.group, kind: type.plural, uid: old.metadata.uid }),
      code: 200,
      warnings: [],
    };
  }

  deleteCollection(
    type: ResourceType,
    namespace: string | undefined,
    q: ListQuery,
    options: DeleteOptions = {},
  ): WriteResult {
    const list = this.list(type, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const deleted: KubeObject[] = [];
    for (const item of list.items as KubeObject[]) {
      const r = this.delete(type, item.metadata.namespace, String(item.metadata.name), { dryRun: options.dryRun });
      deleted.push((r.object as KubeObject).kind === 'Status' ? item : (r.object as KubeObject));
    }
    return { object: { ...list, items: deleted } as KubeObject, code: 200, warnings: [] };
  }

  /** The namespace controller's job, done at once: every object in the namespace is deleted. */
  private emptyNamespace(ns: string): void {
    const storages = new Set(this.types.types.filter((t) => t.namespaced).map((t) => t.storage));
    for (const storage of storages) {
      for (const o of this.store.list(storage, ns)) this.store.commit(storage, 'DELETED', clone(o));
    }
  }

  private requireNamespace(type: ResourceType, ns: string | undefined): void {
    if (!type.namespaced || !this.options.requireNamespace || !ns) return;
    if (!this.store.get('core/namespaces', undefined, ns))
      throw errors.notFound({ group: '', resource: 'namespaces' }, ns);
  }

  /** Decoding: prune/default/normalize; unknown fields are warnings, or a 400 with fieldValidation=Strict. */
  private normalize(type: ResourceType, obj: KubeObject, opts: WriteOptions): string[] {
    const unknown = type.normalize(obj);
    const mode = opts.fieldValidation ?? 'Warn';
    if (unknown.length === 0 || mode === 'Ignore') return [];
    if (mode === 'Strict') {
      throw errors.badRequest(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      );
    }
    return unknown.map((u) => `unknown field "${u}"`);
  }

  private checkSize(o: KubeObject): void {
    if (Buffer.byteLength(JSON.stringify(o)) > this.options.maxObjectBytes) {
      throw errors.unknown('etcdserver: request is too large');
    }
  }
}

const scope = (type: ResourceType, namespace: string | undefined): string | undefined =>
  type.namespaced ? namespace : undefined;

/** Checks apiVersion and kind of a request body and returns a copy with both set and metadata present. */
function decodeBody(type: ResourceType, body: unknown): KubeObject {
  if (!isObject(body)) {
    const got = Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body;
    throw errors.badRequest(
      `json: cannot unmarshal ${got} into Go value of type ${type.custom ? 'map[string]interface {}' : `v1.${type.kind}`}`,
    );
  }
  const obj = clone(body) as KubeObject;
  if (type.custom) {
    if (!obj.kind) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (!obj.apiVersion) throw errors.badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== type.apiVersion) {
    throw errors.badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${type.apiVersion})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== type.kind) {
    throw errors.badRequest(
      `${obj.kind} in version "${type.version}" cannot be handled as a ${type.kind}: the kind in the data (${obj.kind}) does not match the expected kind`,
    );
  }
  obj.apiVersion = type.apiVersion;
  obj.kind = type.kind;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (!isObject(obj.metadata)) {
    throw errors.badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: json: cannot unmarshal ${typeof obj.metadata} into Go struct field ${type.kind}.metadata of type v1.ObjectMeta`,
    );
  }
  return obj;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error();
    return t;
  } catch {
    throw errors.badRequest(`continue key is not valid: ${s}`);
  }
}
