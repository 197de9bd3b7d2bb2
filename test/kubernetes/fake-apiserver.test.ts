/**
 * The fake kube-apiserver (test/peers/kube-apiserver) against the real @kubernetes/client-node 1.4.0 over HTTP:
 * the behaviours Provisio's Kubernetes mode depends on, with the statuses, reasons and messages the real server
 * answers. If one of these fails, the fake drifted from kube-apiserver, not the controller.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type FakeApiServer, type KubeObject, type Status, startFakeApiServer } from '../peers/kube-apiserver/index.js';

const GROUP = 'provisio.dev';
const VERSION = 'v1alpha1';
const NS = 'iga';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const CRON_PATTERN = String.raw`^(@(yearly|annually|monthly|weekly|daily|hourly)|\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*)$`;
const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

interface TaskObject extends KubeObject {
  spec: Record<string, unknown> & { schedule?: Record<string, unknown> };
  status?: Record<string, unknown>;
}

/** The quickstart example's Task (a valid one), moved to the test namespace and renamed. */
const exampleTask = (() => {
  const docs = parseAllDocuments(readFileSync(join('examples', 'quickstart', 'hr.yaml'), 'utf8')).map((d) => d.toJS());
  return docs.find((d) => d.kind === 'Task') as TaskObject;
})();

function task(
  name: string,
  patch: { labels?: Record<string, string>; spec?: Record<string, unknown>; namespace?: string } = {},
) {
  const t = structuredClone(exampleTask);
  t.metadata = { name, namespace: patch.namespace ?? NS, ...(patch.labels ? { labels: patch.labels } : {}) };
  Object.assign(t.spec, patch.spec ?? {});
  return t;
}

let api: FakeApiServer;
let kc: KubeConfig;
let crs: CustomObjectsApi;
let core: CoreV1Api;

const ref = (name: string, namespace = NS) => ({ group: GROUP, version: VERSION, namespace, plural: 'tasks', name });
const createTask = async (t: TaskObject, namespace = NS): Promise<TaskObject> =>
  crs.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'tasks', body: t });
const getTask = async (name: string): Promise<TaskObject> => crs.getNamespacedCustomObject(ref(name));
const listTasks = async (
  q: { namespace?: string; limit?: number; _continue?: string; labelSelector?: string; fieldSelector?: string } = {},
) =>
  (await crs.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'tasks',
    ...q,
    namespace: q.namespace ?? NS,
  })) as { metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: TaskObject[] };

/** The Status of a failed client-node call (ApiException.body is the raw JSON text). */
async function failure(call: Promise<unknown>): Promise<{ code: number; body: Status }> {
  try {
    await call;
  } catch (e) {
    if (e instanceof ApiException) {
      return { code: e.code, body: typeof e.body === 'string' && e.body ? JSON.parse(e.body) : e.body };
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  api = await startFakeApiServer({ namespaces: [NS, 'other'] });
  kc = api.kubeConfig();
  crs = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  api.clearFaults();
  for (const ns of [NS, 'other', 'paging']) {
    for (const t of api.objects('tasks', ns)) {
      if (t.metadata.finalizers) api.apply({ ...t, metadata: { ...t.metadata, finalizers: [] } });
      api.delete('tasks', ns, String(t.metadata.name));
    }
  }
});

describe('authentication', () => {
  it('answers 401 Unauthorized without the bearer token, and with a wrong one', async () => {
    const res = await fetch(`${api.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const wrong = api.kubeConfig({ token: 'not-the-token' }).makeApiClient(CustomObjectsApi);
    const err = await failure(
      wrong.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'tasks' }),
    );
    // client-node 1.4.0 drops the body of a 401.
    expect(err).toEqual({ code: 401, body: undefined });
  });
});

describe('custom resources: create, get, list', () => {
  it('creates a Task with server-set metadata and schema defaults, and gets it back', async () => {
    const before = Number(api.resourceVersion);
    const created = await createTask(task('hr-employees'));
    expect(created.metadata).toEqual({
      name: 'hr-employees',
      namespace: NS,
      uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      generation: 1,
      resourceVersion: String(before + 1),
    });
    // Defaults from the CRD schema are applied (suspend, fetch, timeout, the REST source's safetyThreshold).
    expect(created.spec).toMatchObject({ suspend: false, fetch: 'full', timeout: '2h', mappingsType: 'generic' });
    expect(await getTask('hr-employees')).toEqual(created);
  });

  it('answers 409 AlreadyExists and 404 NotFound as the real server words them', async () => {
    await createTask(task('dup'));
    expect(await failure(createTask(task('dup')))).toEqual({
      code: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'tasks.provisio.dev "dup" already exists',
        reason: 'AlreadyExists',
        details: { name: 'dup', group: GROUP, kind: 'tasks' },
        code: 409,
      },
    });
    const missing = await failure(getTask('missing'));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      message: 'tasks.provisio.dev "missing" not found',
      reason: 'NotFound',
      details: { name: 'missing', group: GROUP, kind: 'tasks' },
    });
  });

  it('generates names from generateName, refuses a missing namespace and a resourceVersion on create', async () => {
    const t = task('ignored');
    t.metadata = { generateName: 'hr-' };
    const created = await createTask(t);
    expect(created.metadata.name).toMatch(/^hr-[bcdfghjklmnpqrstvwxz2456789]{5}$/);

    const nowhere = await failure(createTask(task('x', { namespace: 'nowhere' }), 'nowhere'));
    expect(nowhere.code).toBe(404);
    expect(nowhere.body).toMatchObject({ message: 'namespaces "nowhere" not found', reason: 'NotFound' });

    const withRv = task('with-rv');
    withRv.metadata.resourceVersion = '5';
    const rv = await failure(createTask(withRv));
    expect(rv.code).toBe(500);
    expect(rv.body.message).toBe('resourceVersion should not be set on objects to be created');
  });

  it('pages a list with limit and continue over a consistent snapshot', async () => {
    for (const n of [1, 2, 3, 4, 5]) await createTask(task(`t-${n}`));
    const first = await listTasks({ limit: 2 });
    expect(first.items.map((t) => t.metadata.name)).toEqual(['t-1', 't-2']);
    expect(first.metadata.remainingItemCount).toBe(3);
    expect(first.metadata.continue).toBeTruthy();
    // Created after the first page: not in the rest of this list (it reads the snapshot of the first page).
    await createTask(task('t-9'));
    const second = await listTasks({ limit: 2, _continue: first.metadata.continue });
    expect(second.items.map((t) => t.metadata.name)).toEqual(['t-3', 't-4']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = await listTasks({ limit: 2, _continue: second.metadata.continue });
    expect(third.items.map((t) => t.metadata.name)).toEqual(['t-5']);
    expect(third.metadata.continue).toBeUndefined();
    expect(third.metadata.remainingItemCount).toBeUndefined();
    expect((await listTasks()).items.map((t) => t.metadata.name)).toEqual(['t-1', 't-2', 't-3', 't-4', 't-5', 't-9']);
  });

  it('answers 410 Expired for a continue token whose snapshot was compacted, with a token to go on inconsistently', async () => {
    for (const n of [1, 2, 3]) await createTask(task(`t-${n}`));
    const first = await listTasks({ limit: 1 });
    await createTask(task('t-4'));
    api.compactHistory();
    const gone = await failure(listTasks({ limit: 1, _continue: first.metadata.continue }));
    expect(gone.code).toBe(410);
    expect(gone.body.reason).toBe('Expired');
    expect(gone.body.message).toMatch(
      /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter, or use the continue token in this response/,
    );
    const rest = await listTasks({ _continue: gone.body.metadata.continue });
    expect(rest.items.map((t) => t.metadata.name)).toEqual(['t-2', 't-3', 't-4']);
  });

  it('filters lists by label and field selectors, and lists across namespaces', async () => {
    await createTask(task('a1', { labels: { team: 'a' } }));
    await createTask(task('b1', { labels: { team: 'b' } }));
    await createTask(task('n1'));
    await createTask(task('o1', { labels: { team: 'a' }, namespace: 'other' }), 'other');
    const names = async (q: Parameters<typeof listTasks>[0]) => (await listTasks(q)).items.map((t) => t.metadata.name);
    expect(await names({ labelSelector: 'team=a' })).toEqual(['a1']);
    expect(await names({ labelSelector: 'team==b' })).toEqual(['b1']);
    expect(await names({ labelSelector: 'team!=a' })).toEqual(['b1', 'n1']);
    expect(await names({ labelSelector: 'team in (a,b)' })).toEqual(['a1', 'b1']);
    expect(await names({ labelSelector: '!team' })).toEqual(['n1']);
    expect(await names({ fieldSelector: 'metadata.name=b1' })).toEqual(['b1']);
    expect(await names({ fieldSelector: 'metadata.name!=b1', labelSelector: 'team' })).toEqual(['a1']);
    const bad = await failure(listTasks({ fieldSelector: 'spec.usage=event' }));
    expect(bad.code).toBe(400);
    expect(bad.body.message).toBe(
      '"spec.usage" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );

    const all = (await crs.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'tasks',
      labelSelector: 'team=a',
    })) as {
      items: TaskObject[];
    };
    expect(all.items.map((t) => `${t.metadata.namespace}/${t.metadata.name}`)).toEqual([`${NS}/a1`, 'other/o1']);
  });
});

describe('generation and the status subresource', () => {
  it('bumps generation for spec changes only; status and metadata changes bump only resourceVersion', async () => {
    const created = await createTask(task('gen'));
    const specChanged: TaskObject = await crs.patchNamespacedCustomObject(
      { ...ref('gen'), body: { spec: { description: 'HR employees' } } },
      MERGE,
    );
    expect(specChanged.metadata.generation).toBe(2);
    expect(Number(specChanged.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

    const labelled: TaskObject = await crs.patchNamespacedCustomObject(
      { ...ref('gen'), body: { metadata: { labels: { team: 'iga' } } } },
      MERGE,
    );
    expect(labelled.metadata.generation).toBe(2);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(specChanged.metadata.resourceVersion));

    const status = { phase: 'Idle', observedGeneration: 2, nextRunTime: '2030-01-01T00:30:00Z' };
    const withStatus: TaskObject = await crs.patchNamespacedCustomObjectStatus(
      { ...ref('gen'), body: { status } },
      MERGE,
    );
    expect(withStatus.status).toEqual(status);
    expect(withStatus.metadata.generation).toBe(2);
    expect(Number(withStatus.metadata.resourceVersion)).toBeGreaterThan(Number(labelled.metadata.resourceVersion));
    expect((await getTask('gen')).status).toEqual(status);
    expect(api.requests.at(-2)).toMatchObject({
      method: 'PATCH',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks/gen/status`,
      contentType: 'application/merge-patch+json',
      body: { status },
      status: 200,
    });
  });

  it('ignores status on create and on main-resource writes, and everything but status on /status writes', async () => {
    const t = task('split');
    t.status = { phase: 'Running' };
    const created = await createTask(t);
    expect(created.status).toBeUndefined();

    const withStatus: TaskObject = await crs.patchNamespacedCustomObjectStatus(
      { ...ref('split'), body: { status: { phase: 'Idle' } } },
      MERGE,
    );
    // A main-resource update carrying a different status changes nothing: a no-op, same resourceVersion.
    const replaced: TaskObject = await crs.replaceNamespacedCustomObject({
      ...ref('split'),
      body: { ...withStatus, status: { phase: 'Stopped' } },
    });
    expect(replaced.status).toEqual({ phase: 'Idle' });
    expect(replaced.metadata.resourceVersion).toBe(withStatus.metadata.resourceVersion);

    // A /status update carrying spec and label changes writes only the status, and keeps the generation.
    const statusWrite: TaskObject = await crs.replaceNamespacedCustomObjectStatus({
      ...ref('split'),
      body: {
        ...withStatus,
        metadata: { ...withStatus.metadata, labels: { ignored: 'yes' } },
        spec: { ...withStatus.spec, description: 'ignored' },
        status: { phase: 'Running' },
      },
    });
    expect(statusWrite.status).toEqual({ phase: 'Running' });
    expect(statusWrite.spec.description).toBeUndefined();
    expect(statusWrite.metadata.labels).toBeUndefined();
    expect(statusWrite.metadata.generation).toBe(1);
  });

  it('does not bump resourceVersion (nor record a write) for a write that changes nothing', async () => {
    await createTask(task('noop'));
    const first: TaskObject = await crs.patchNamespacedCustomObjectStatus(
      { ...ref('noop'), body: { status: { phase: 'Idle' } } },
      MERGE,
    );
    const writes = api.writes.length;
    const again: TaskObject = await crs.patchNamespacedCustomObjectStatus(
      { ...ref('noop'), body: { status: { phase: 'Idle' } } },
      MERGE,
    );
    expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const sameSpec: TaskObject = await crs.patchNamespacedCustomObject(
      { ...ref('noop'), body: { spec: { suspend: false } } },
      MERGE,
    );
    expect(sameSpec.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(api.writes.length).toBe(writes);
    expect(api.writes.at(-1)).toMatchObject({ type: 'MODIFIED', name: 'noop', subresource: 'status' });
  });
});

describe('patches', () => {
  it('defaults to JSON patch, and answers a failed test operation with the real 422', async () => {
    const created = await createTask(task('jp'));
    const patched: TaskObject = await crs.patchNamespacedCustomObject({
      ...ref('jp'),
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: created.metadata.resourceVersion },
        { op: 'add', path: '/spec/description', value: 'patched' },
      ],
    });
    expect(patched.spec.description).toBe('patched');
    expect(api.requests.at(-1)?.contentType).toBe('application/json-patch+json');

    // The same guarded patch again: the resourceVersion moved on, the test fails.
    const stale = await failure(
      crs.patchNamespacedCustomObject({
        ...ref('jp'),
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: created.metadata.resourceVersion },
          { op: 'replace', path: '/spec/description', value: 'lost' },
        ],
      }),
    );
    expect(stale).toEqual({
      code: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server rejected our request due to an error in our request',
        reason: 'Invalid',
        details: {},
        code: 422,
      },
    });
    expect((await getTask('jp')).spec.description).toBe('patched');
  });

  it('treats a resourceVersion in a merge patch as a precondition (409 when stale)', async () => {
    const created = await createTask(task('mp'));
    await crs.patchNamespacedCustomObject({ ...ref('mp'), body: { spec: { description: 'one' } } }, MERGE);
    const err = await failure(
      crs.patchNamespacedCustomObject(
        {
          ...ref('mp'),
          body: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { description: 'two' } },
        },
        MERGE,
      ),
    );
    expect(err.code).toBe(409);
    expect(err.body.message).toBe(`Operation cannot be fulfilled on tasks.provisio.dev "mp": ${OBJECT_MODIFIED}`);
  });

  it('refuses strategic merge patch for custom resources with 415, also from KubernetesObjectApi.patch', async () => {
    await createTask(task('smp'));
    const expected = {
      code: 415,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        reason: 'UnsupportedMediaType',
        code: 415,
      },
    };
    expect(
      await failure(
        crs.patchNamespacedCustomObject(
          { ...ref('smp'), body: { spec: { suspend: true } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      ),
    ).toEqual(expected);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    // KubernetesObjectApi resolves the resource through discovery, then patches strategic by default.
    const read = await objects.read({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Task',
      metadata: { name: 'smp', namespace: NS },
    });
    expect(read.metadata?.name).toBe('smp');
    expect(
      await failure(
        objects.patch({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Task', metadata: { name: 'smp', namespace: NS } }),
      ),
    ).toEqual(expected);
    const merged = await objects.patch(
      {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Task',
        metadata: { name: 'smp', namespace: NS, labels: { via: 'object-api' } },
      },
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    expect(merged.metadata?.labels).toEqual({ via: 'object-api' });
  });
});

describe('optimistic concurrency', () => {
  it('answers 409 Conflict for an update with a stale resourceVersion', async () => {
    const created = await createTask(task('occ'));
    await crs.replaceNamespacedCustomObject({
      ...ref('occ'),
      body: { ...created, spec: { ...created.spec, suspend: true } },
    });
    expect(
      await failure(
        crs.replaceNamespacedCustomObject({
          ...ref('occ'),
          body: { ...created, spec: { ...created.spec, description: 'x' } },
        }),
      ),
    ).toEqual({
      code: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `Operation cannot be fulfilled on tasks.provisio.dev "occ": ${OBJECT_MODIFIED}`,
        reason: 'Conflict',
        details: { name: 'occ', group: GROUP, kind: 'tasks' },
        code: 409,
      },
    });
  });

  it('refuses an update of a custom resource without a resourceVersion (422)', async () => {
    const created = await createTask(task('nov'));
    const { resourceVersion: _rv, ...meta } = created.metadata;
    const err = await failure(
      crs.replaceNamespacedCustomObject({ ...ref('nov'), body: { ...created, metadata: meta } }),
    );
    expect(err.code).toBe(422);
    expect(err.body.message).toBe(
      'tasks.provisio.dev "nov" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
  });
});

describe('schema validation', () => {
  it('answers 422 Invalid with the field path for a Task that breaks the schema', async () => {
    const err = await failure(createTask(task('bad-cron', { spec: { schedule: { cron: 'every day' } } })));
    const detail = `Invalid value: "every day": spec.schedule.cron in body should match '${CRON_PATTERN}'`;
    expect(err).toEqual({
      code: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `Task.provisio.dev "bad-cron" is invalid: spec.schedule.cron: ${detail}`,
        reason: 'Invalid',
        details: {
          name: 'bad-cron',
          group: GROUP,
          kind: 'Task',
          causes: [{ reason: 'FieldValueInvalid', message: detail, field: 'spec.schedule.cron' }],
        },
        code: 422,
      },
    });
    expect(api.get('tasks', NS, 'bad-cron')).toBeUndefined();
  });

  it('reports enum and type errors, then skips the CEL rules as the real server does', async () => {
    const err = await failure(createTask(task('bad-usage', { spec: { usage: 'nightly', suspend: 'no' } })));
    expect(err.body.message).toBe(
      'Task.provisio.dev "bad-usage" is invalid: [spec.usage: Unsupported value: "nightly": supported values: "scheduled", "event", "authentication", ' +
        'spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string", ' +
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]',
    );
    expect(err.body.details?.causes?.map((c) => [c.reason, c.field])).toEqual([
      ['FieldValueNotSupported', 'spec.usage'],
      ['FieldValueTypeInvalid', 'spec.suspend'],
      ['FieldValueInvalid', '<nil>'],
    ]);
  });

  it('evaluates the x-kubernetes-validations CEL rules', async () => {
    const err = await failure(createTask(task('both', { spec: { schedule: { cron: '@hourly', interval: '1h' } } })));
    expect(err.code).toBe(422);
    expect(err.body.message).toBe(
      'Task.provisio.dev "both" is invalid: spec.schedule: Invalid value: "object": set exactly one of cron or interval',
    );
    const tz = await failure(createTask(task('tz', { spec: { schedule: { interval: '1h', timeZone: 'UTC' } } })));
    expect(tz.body.details?.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "object": timeZone is only used with cron',
        field: 'spec.schedule.timeZone',
      },
    ]);
  });

  it('validates metadata.name as an RFC 1123 subdomain', async () => {
    const err = await failure(createTask(task('Bad_Name')));
    expect(err.body.message).toBe(
      `Task.provisio.dev "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
  });

  it('prunes unknown fields with a warning, and refuses them with fieldValidation=Strict', async () => {
    const body = task('pruned', { spec: { color: 'blue' } });
    const url = `${api.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks`;
    const headers = { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' };
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ ...body, extra: 1 }) });
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBe(
      '299 - "unknown field \\"spec.color\\"", 299 - "unknown field \\"extra\\""',
    );
    const stored = (await res.json()) as TaskObject;
    expect(stored.spec.color).toBeUndefined();
    expect(stored.extra).toBeUndefined();

    const strict = await fetch(`${url}?fieldValidation=Strict`, {
      method: 'POST',
      headers,
      body: JSON.stringify(task('strict', { spec: { color: 'blue' } })),
    });
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as Status).message).toBe(
      'Task in version "v1alpha1" cannot be handled as a Task: strict decoding error: unknown field "spec.color"',
    );
  });
});

describe('delete', () => {
  it('answers a Status and removes the object', async () => {
    const created = await createTask(task('gone'));
    const answer = await crs.deleteNamespacedCustomObject(ref('gone'));
    expect(answer).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'gone', group: GROUP, kind: 'tasks', uid: created.metadata.uid },
    });
    expect((await failure(getTask('gone'))).code).toBe(404);
  });

  it('marks an object with finalizers as deleting and removes it once they are cleared', async () => {
    const t = task('final');
    t.metadata.finalizers = ['provisio.dev/cleanup'];
    await createTask(t);
    const marked = (await crs.deleteNamespacedCustomObject(ref('final'))) as TaskObject;
    expect(marked.metadata.deletionTimestamp).toMatch(/Z$/);
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(marked.metadata.generation).toBe(2);
    const added = await failure(
      crs.patchNamespacedCustomObject(
        { ...ref('final'), body: { metadata: { finalizers: ['provisio.dev/cleanup', 'x.dev/y'] } } },
        MERGE,
      ),
    );
    expect(added.body.message).toBe(
      'Task.provisio.dev "final" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"x.dev/y"}',
    );
    await crs.patchNamespacedCustomObject({ ...ref('final'), body: { metadata: { finalizers: null } } }, MERGE);
    expect((await failure(getTask('final'))).code).toBe(404);
  });

  it('honours delete preconditions', async () => {
    await createTask(task('pre'));
    const err = await failure(
      crs.deleteNamespacedCustomObject({ ...ref('pre'), body: { preconditions: { resourceVersion: '1' } } }),
    );
    expect(err.code).toBe(409);
    expect(err.body.message).toMatch(
      /^Operation cannot be fulfilled on tasks\.provisio\.dev "pre": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: \d+$/,
    );
  });
});

describe('watches and informers', () => {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks`;
  const listFn = () =>
    crs.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'tasks' });
  const lists = () => api.requests.filter((r) => r.method === 'GET' && r.path === path && !r.watch).length;

  function informer() {
    const inf = makeInformer<KubernetesObject>(kc, path, listFn);
    const events: string[] = [];
    const errors: unknown[] = [];
    inf.on('add', (o) => events.push(`add ${o.metadata?.name}`));
    inf.on('update', (o) =>
      events.push(`update ${o.metadata?.name} ${(o as TaskObject).spec.description ?? ''}`.trim()),
    );
    inf.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
    inf.on('error', (e) => errors.push(e));
    return { inf, events, errors };
  }

  it('delivers ADDED, MODIFIED and DELETED to an informer', async () => {
    await createTask(task('w-1'));
    const { inf, events } = informer();
    await inf.start();
    expect(events).toEqual(['add w-1']);
    await createTask(task('w-2'));
    await crs.patchNamespacedCustomObject({ ...ref('w-1'), body: { spec: { description: 'changed' } } }, MERGE);
    await crs.deleteNamespacedCustomObject(ref('w-2'));
    await waitFor('three events', () => events.length === 4);
    expect(events).toEqual(['add w-1', 'add w-2', 'update w-1 changed', 'delete w-2']);
    await inf.stop();
  });

  it('resumes from its resourceVersion after the server closes the watch, missing nothing and not re-listing', async () => {
    const { inf, events, errors } = informer();
    await inf.start();
    await api.waitForWatches(1);
    const listsBefore = lists();
    expect(api.closeWatches()).toBe(1);
    await createTask(task('while-down')); // written before the informer reconnects
    await waitFor('the change made while the watch was down', () => events.includes('add while-down'));
    expect(lists()).toBe(listsBefore);
    const watches = api.requests.filter((r) => r.watch && r.path === path);
    expect(Number(watches.at(-1)?.query.resourceVersion)).toBeLessThan(Number(api.resourceVersion));
    expect(errors).toEqual([]);
    await inf.stop();
  });

  it('re-lists after a 410 Gone when the history it would resume from was compacted', async () => {
    await createTask(task('kept'));
    await createTask(task('dropped'));
    const { inf, events } = informer();
    await inf.start();
    await api.waitForWatches(1);
    const listsBefore = lists();
    api.closeWatches();
    api.delete('tasks', NS, 'dropped');
    api.apply({ ...task('kept'), spec: { ...task('kept').spec, description: 'after compaction' } });
    api.compactHistory();
    await waitFor(
      'the re-list',
      () => events.includes('delete dropped') && events.includes('update kept after compaction'),
    );
    expect(lists()).toBe(listsBefore + 1);
    const watchAnswers = api.requests.filter((r) => r.watch && r.path === path);
    expect(watchAnswers.length).toBeGreaterThanOrEqual(2);
    await inf.stop();
  });

  it('sends an ERROR event with a 410 Expired Status to a watch from a compacted resourceVersion, then ends it', async () => {
    const created = await createTask(task('old'));
    await crs.patchNamespacedCustomObject({ ...ref('old'), body: { spec: { description: 'newer' } } }, MERGE);
    api.compactHistory();
    const oldest = api.resourceVersion;
    const events: { type: string; object: unknown }[] = [];
    const done = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        path,
        { resourceVersion: created.metadata.resourceVersion },
        (type, object) => events.push({ type, object }),
        resolve,
      );
    });
    expect(await done).toBeNull();
    expect(events).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${created.metadata.resourceVersion} (${oldest})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
  });

  it('replays from a resourceVersion, reports objects leaving a label selector as DELETED, and sends bookmarks', async () => {
    const start = api.resourceVersion;
    await createTask(task('sel', { labels: { team: 'a' } }));
    await createTask(task('other-team', { labels: { team: 'b' } }));
    const events: string[] = [];
    const controller = await new Watch(kc).watch(
      path,
      { resourceVersion: start, labelSelector: 'team=a', allowWatchBookmarks: true },
      (type, object: KubeObject) =>
        events.push(
          `${type} ${object.metadata.name ?? ''}${type === 'BOOKMARK' ? object.metadata.resourceVersion : ''}`,
        ),
      () => {},
    );
    await waitFor('the replayed ADDED', () => events.length === 1);
    await crs.patchNamespacedCustomObject({ ...ref('sel'), body: { metadata: { labels: { team: 'b' } } } }, MERGE);
    await crs.patchNamespacedCustomObject(
      { ...ref('other-team'), body: { metadata: { labels: { team: 'a' } } } },
      MERGE,
    );
    api.bookmark();
    await waitFor('four events', () => events.length === 4);
    expect(events).toEqual(['ADDED sel', 'DELETED sel', 'ADDED other-team', `BOOKMARK ${api.resourceVersion}`]);
    controller.abort();
  });

  it('lists current objects as ADDED for a watch without a resourceVersion, and honours timeoutSeconds', async () => {
    await createTask(task('present'));
    const events: string[] = [];
    const started = Date.now();
    const done = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        path,
        { timeoutSeconds: 1 },
        (type, o: KubeObject) => events.push(`${type} ${o.metadata.name}`),
        resolve,
      );
    });
    expect(await done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(events).toEqual(['ADDED present']);
  });

  it('reports an abrupt connection loss to the informer as an error and stops it (client-node 1.4.0)', async () => {
    const { inf, events, errors } = informer();
    await inf.start();
    await api.waitForWatches(1);
    api.closeWatches({ abrupt: true });
    await waitFor('the error', () => errors.length === 1);
    await createTask(task('after-reset'));
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual([]); // stopped: the controller has to start() it again
    await inf.start();
    await waitFor('the object after restart', () => events.includes('add after-reset'));
    await inf.stop();
  });
});

describe('leases', () => {
  it('creates and renews a Lease with resourceVersion semantics, 409 on a stale update', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const acquired = new V1MicroTime('2030-01-01T00:00:00.123Z');
    const lease = await leases.createNamespacedLease({
      namespace: NS,
      body: {
        metadata: { name: 'provisio-leader' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired },
      },
    });
    expect(lease.metadata?.generation).toBeUndefined();
    expect(api.get('leases', NS, 'provisio-leader')?.spec).toEqual({
      holderIdentity: 'pod-a',
      leaseDurationSeconds: 15,
      acquireTime: '2030-01-01T00:00:00.123000Z',
      renewTime: '2030-01-01T00:00:00.123000Z',
    });
    const renewed = await leases.replaceNamespacedLease({
      name: 'provisio-leader',
      namespace: NS,
      body: { ...lease, spec: { ...lease.spec, renewTime: new V1MicroTime('2030-01-01T00:00:05Z') } },
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(lease.metadata?.resourceVersion));
    const stale = await failure(
      leases.replaceNamespacedLease({
        name: 'provisio-leader',
        namespace: NS,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'pod-b', leaseTransitions: 1 } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      message: `Operation cannot be fulfilled on leases.coordination.k8s.io "provisio-leader": ${OBJECT_MODIFIED}`,
      reason: 'Conflict',
      details: { name: 'provisio-leader', group: 'coordination.k8s.io', kind: 'leases' },
    });
    await leases.deleteNamespacedLease({ name: 'provisio-leader', namespace: NS });
  });

  it('refuses MicroTimes without six fractional digits (a plain Date) with 400, and a zero duration with 422', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const millis = await failure(
      leases.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: 'l-ms' }, spec: { renewTime: new Date('2030-01-01T00:00:00.123Z') } },
      }),
    );
    expect(millis).toMatchObject({
      code: 400,
      body: {
        reason: 'BadRequest',
        message:
          'Lease in version "v1" cannot be handled as a Lease: parsing time "2030-01-01T00:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
      },
    });
    const zero = await failure(
      leases.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: 'l-0' }, spec: { leaseDurationSeconds: 0 } },
      }),
    );
    expect(zero.code).toBe(422);
    expect(zero.body.message).toBe(
      'Lease.coordination.k8s.io "l-0" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    );
  });
});

describe('secrets, events and namespaces', () => {
  it('stores stringData as base64 data and reads Secrets back', async () => {
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'hr-api-credentials' }, stringData: { username: 'svc', password: 'p@ss' } },
    });
    const secret = await core.readNamespacedSecret({ name: 'hr-api-credentials', namespace: NS });
    expect(secret.type).toBe('Opaque');
    expect(secret.stringData).toBeUndefined();
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('p@ss');
    const missing = await failure(core.readNamespacedSecret({ name: 'nope', namespace: NS }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      message: 'secrets "nope" not found',
      details: { name: 'nope', kind: 'secrets' },
    });
    // Strategic merge patch is accepted for built-in types (finalizers merge as a set).
    const patched = await core.patchNamespacedSecret(
      {
        name: 'hr-api-credentials',
        namespace: NS,
        body: { metadata: { finalizers: ['a.dev/b'] }, stringData: { token: 't' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(Object.keys(patched.data ?? {}).sort()).toEqual(['password', 'token', 'username']);
    expect(patched.metadata?.finalizers).toEqual(['a.dev/b']);
    await core.patchNamespacedSecret(
      { name: 'hr-api-credentials', namespace: NS, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const badData = await failure(
      core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'bad' }, data: { k: 'not base64!' } } }),
    );
    expect(badData.body.message).toBe(
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3',
    );
  });

  it('stores core/v1 and events.k8s.io/v1 Events once, each API showing its own field names', async () => {
    const events = kc.makeApiClient(EventsV1Api);
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'hr-employees.1' },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Task', name: 'hr-employees', namespace: NS },
        reason: 'RunSucceeded',
        message: 'loaded 3 records',
        type: 'Normal',
      },
    });
    await events.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'hr-employees.2' },
        eventTime: new V1MicroTime('2030-01-01T00:00:00Z'),
        action: 'Run',
        reason: 'RunFailed',
        note: 'upstream 503',
        type: 'Warning',
        reportingController: 'provisio.dev/controller',
        reportingInstance: 'provisio-0',
        regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Task', name: 'hr-employees', namespace: NS },
      },
    });
    const coreList = await core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: 'involvedObject.name=hr-employees',
    });
    expect(coreList.items.map((e) => [e.reason, e.message, e.reportingComponent ?? ''])).toEqual([
      ['RunSucceeded', 'loaded 3 records', ''],
      ['RunFailed', 'upstream 503', 'provisio.dev/controller'],
    ]);
    const v1List = await events.listNamespacedEvent({ namespace: NS });
    expect(v1List.items.map((e) => [e.reason, e.note, e.regarding?.name])).toEqual([
      ['RunSucceeded', 'loaded 3 records', 'hr-employees'],
      ['RunFailed', 'upstream 503', 'hr-employees'],
    ]);
    const invalid = await failure(
      events.createNamespacedEvent({
        namespace: NS,
        body: { metadata: { name: 'incomplete' }, reason: 'X', type: 'Normal' } as EventsV1Event,
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.body.message).toBe(
      'Event.events.k8s.io "incomplete" is invalid: [involvedObject.namespace: Invalid value: "": does not match event.namespace, eventTime: Required value]',
    );
  });

  it('serves Namespaces (404 for objects in a missing one) and discovery', async () => {
    await core.createNamespace({ body: { metadata: { name: 'fresh' } } });
    const ns = await core.readNamespace({ name: 'fresh' });
    expect(ns.status?.phase).toBe('Active');
    expect(ns.metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': 'fresh' });
    const groups = await fetch(`${api.url}/apis/${GROUP}/${VERSION}`, {
      headers: { Authorization: `Bearer ${api.token}` },
    });
    expect(((await groups.json()) as { resources: { name: string }[] }).resources.map((r) => r.name)).toEqual([
      'connectors',
      'connectors/status',
      'tasks',
      'tasks/status',
    ]);
    await core.deleteNamespace({ name: 'fresh' });
    expect((await failure(core.readNamespace({ name: 'fresh' }))).body.message).toBe('namespaces "fresh" not found');
  });
});

describe('test hooks', () => {
  it('applies objects (with status) through the write path, and logs requests and writes', async () => {
    const t = task('seeded');
    t.status = { phase: 'Suspended' };
    const stored = api.apply(t);
    expect(stored.status).toEqual({ phase: 'Suspended' });
    expect(stored.metadata.generation).toBe(1);
    expect(api.writes.slice(-2).map((w) => [w.type, w.name, w.subresource])).toEqual([
      ['ADDED', 'seeded', undefined],
      ['MODIFIED', 'seeded', 'status'],
    ]);
    expect(api.objects('Task', NS).map((o) => o.metadata.name)).toEqual(['seeded']);
    expect(() => api.apply({ ...task('seeded'), spec: { usage: 'x' } } as TaskObject)).toThrow(/is invalid/);
  });

  it('injects faults for the next matching requests', async () => {
    await createTask(task('flaky'));
    api.fault({ method: 'PATCH', path: /\/tasks\/flaky\/status$/, status: 500, times: 2 });
    api.fault({ method: 'PUT', path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks/flaky`, status: 409 });
    const patch = () =>
      crs.patchNamespacedCustomObjectStatus({ ...ref('flaky'), body: { status: { phase: 'Idle' } } }, MERGE);
    expect((await failure(patch())).code).toBe(500);
    expect((await failure(patch())).body.reason).toBe('InternalError');
    expect(((await patch()) as TaskObject).status).toEqual({ phase: 'Idle' });
    const current = await getTask('flaky');
    const conflict = await failure(crs.replaceNamespacedCustomObject({ ...ref('flaky'), body: current }));
    expect(conflict.body.message).toBe(
      `Operation cannot be fulfilled on tasks.provisio.dev "flaky": ${OBJECT_MODIFIED}`,
    );
  });
});
