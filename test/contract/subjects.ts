/**
 * The connector types and targets the contract kit runs against. A subject serves a list of user-like rows
 * the way its connector type reads them, and can misbehave in the ways every type can: fail part-way, or
 * deliver less than everything. Adding a connector type or a target adds an entry here.
 */
import { builtInConnectorTypes, type ConnectorRegistry, createRegistry } from '../../src/connectors/registry.js';
import { silentLogger } from '../../src/log/logger.js';
import type { RecordKind } from '../../src/model/records.js';
import type { Connector, Task, TaskMapping } from '../../src/model/resources.js';
import { LocalSecretResolver, type SecretResolver } from '../../src/secrets/resolver.js';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import { M42Targets } from '../../src/targets/m42/m42-targets.js';
import type { Target } from '../../src/targets/types.js';
import { restConnector } from '../engine/helpers.js';
import { type M42Api, startM42Api, type TemplateConfig } from '../peers/m42-api/index.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { ScimServer } from '../peers/scim-server.js';
import { type ScriptedType, scriptedConnectorType } from './scripted-connector.js';

export type Row = { id: string; name: string };

export interface Serving {
  /** The extract fails after about this many rows (the next page, for paged sources). */
  failAfter?: number;
  /** The extract cannot deliver everything: it ends Incomplete. */
  incomplete?: boolean;
}

export interface ConnectorSubject {
  name: string;
  /** What the type's contract covers beyond streaming generic records. */
  can: { cursors: boolean; deletes: boolean; references: boolean };
  start(): Promise<void>;
  stop(): Promise<void>;
  registry: ConnectorRegistry;
  connector(): Connector;
  /** A scheduled full task loading the rows as generic cards of template `person`. */
  task(spec?: Partial<Task['spec']>): Task;
  serve(rows: Row[], how?: Serving): void;
  scripted?: ScriptedType;
  /** The secrets the connector references (none when absent). */
  secrets?: SecretResolver;
}

export const personMapping = (): TaskMapping => ({
  template: 'person',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Deleted' },
  attributes: [
    { external: 'id', local: 'person_id', unique: true },
    { external: 'name', local: 'name' },
  ],
});

const baseTask = (source: Task['spec']['source'], spec: Partial<Task['spec']>): Task => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'people', namespace: 'contract' },
  spec: {
    connectorRef: { name: 'source' },
    usage: 'scheduled',
    mappingsType: 'generic',
    schedule: { interval: '1h' },
    fetch: 'full',
    source,
    mappings: { generic: personMapping() },
    deletion: { maxFraction: 0.5 },
    ...spec,
  },
});

function restSubject(): ConnectorSubject {
  let server: RestFixtureServer;
  // The REST type ends Incomplete when a run needs more calls than its safety threshold allows.
  let safetyThreshold = 1000;
  return {
    name: 'rest (Generic REST API, against the REST fixture server)',
    can: { cursors: false, deletes: false, references: false },
    async start() {
      server = await RestFixtureServer.start();
    },
    stop: () => server.close(),
    registry: builtInConnectorTypes,
    connector: () => ({ ...restConnector(server.url, 10), metadata: { name: 'source', namespace: 'contract' } }),
    task: (spec = {}) => baseTask({ rest: { query: '/people', safetyThreshold } }, spec),
    serve(rows, how = {}) {
      server.reset();
      server.collection('/people', rows, { paging: 'page' });
      if (how.failAfter !== undefined) {
        const page = String(Math.floor(how.failAfter / 10) + 1);
        server.fault((r) => r.path === '/people' && r.query.get('page') === page, {
          kind: 'status',
          status: 400,
          body: 'the source broke',
        });
      }
      safetyThreshold = how.incomplete ? 3 : 1000;
    },
  };
}

function scimSubject(): ConnectorSubject {
  let server: ScimServer;
  const password = 'contract-pa55';
  return {
    name: 'scim (SCIM 2.0, against SCIMMY on express 4)',
    // The cursor, delete and reference cases drive the scripted type's scripts; SCIM's own cursors
    // (meta.lastModified) and references (groups, members) are pinned in test/connectors/scim. SCIM reports
    // no deletes.
    can: { cursors: false, deletes: false, references: false },
    async start() {
      server = await ScimServer.start({ auth: { type: 'basic', username: 'svc', password } });
    },
    stop: () => server.close(),
    registry: builtInConnectorTypes,
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_SCIM_USERNAME: 'svc',
      PROVISIO_SECRET_SCIM_PASSWORD: password,
    }),
    connector: () => ({
      apiVersion: 'provisio.dev/v1alpha1',
      kind: 'Connector',
      metadata: { name: 'source', namespace: 'contract' },
      spec: {
        type: 'scim',
        scim: {
          host: '127.0.0.1',
          port: server.port,
          pageSize: 10,
          tls: { enabled: false },
          auth: { type: 'basic', secretRef: { name: 'scim' } },
        },
      },
    }),
    task: (spec = {}) =>
      baseTask(
        { scim: {} },
        {
          mappingsType: 'identity',
          mappings: {
            identity: {
              ...personMapping(),
              attributes: [
                { external: 'id', local: 'person_id', unique: true },
                { external: 'displayName', local: 'name' },
              ],
            },
          },
          ...spec,
        },
      ),
    serve(rows, how = {}) {
      server.reset();
      for (const r of rows) server.user({ id: r.id, userName: r.id.toLowerCase(), displayName: r.name });
      const total = rows.length;
      server.intercept = (req) => {
        const start = Number(req.query.startIndex ?? '1');
        if (req.path !== '/scim/v2/Users') return undefined;
        if (how.failAfter !== undefined && start > how.failAfter) {
          return { status: 400, scimType: 'invalidValue', detail: 'the source broke' };
        }
        if (how.incomplete && start > total / 2) {
          // A page short of totalResults with no further data.
          const json = {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
            totalResults: total,
            startIndex: start,
            itemsPerPage: 10,
            Resources: [],
          };
          return { status: 200, json };
        }
        return undefined;
      };
    },
  };
}

function scriptedSubject(): ConnectorSubject {
  const scripted = scriptedConnectorType();
  return {
    name: 'scripted (the engine side of the contract: cursors, delete ops, references)',
    can: { cursors: true, deletes: true, references: true },
    start: async () => {},
    stop: async () => {},
    registry: createRegistry([scripted]),
    scripted,
    connector: () => ({
      apiVersion: 'provisio.dev/v1alpha1',
      kind: 'Connector',
      metadata: { name: 'source', namespace: 'contract' },
      spec: {
        type: 'msgraph',
        msgraph: { tenantId: 't', clientId: 'c', auth: { type: 'secret', secretRef: { name: 's' } } },
      },
    }),
    task: (spec = {}) => baseTask({ msgraph: {} }, spec),
    serve(rows, how = {}) {
      const kind: RecordKind = 'generic';
      scripted.scripts.set('people', {
        records: rows.map((data) => ({ kind, data })),
        failAfter: how.failAfter,
        outcome: how.incomplete
          ? { complete: false, reason: 'the source announced more records than it sent' }
          : undefined,
      });
    },
  };
}

export const connectorSubjects = (): ConnectorSubject[] => [restSubject(), scimSubject(), scriptedSubject()];

export interface TargetSubject {
  name: string;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /**
   * A fresh, empty target. Its `list` yields cards as the contract compares them: attributes by local name,
   * references as the unique values of the cards they point to, empty attributes left out.
   */
  open(dir: string): Target & { list(template: string): AsyncIterable<Record<string, unknown>> };
}

/** The home solution's templates the contract writes to, in the simulator of its REST API. */
const contractTemplates = (): TemplateConfig[] => [
  {
    code: 'person',
    folders: [{ code: 'contract' }],
    attributes: {
      person_id: { type: 'string' as const, unique: true },
      name: { type: 'string' as const },
      task_id: { type: 'string' as const },
      status: { type: 'string' as const },
    },
  },
  {
    code: 'user',
    folders: [{ code: 'contract' }],
    attributes: {
      user_id: { type: 'string' as const, unique: true },
      groups: { type: 'reference' as const, multiValue: true, target: ['group'] },
    },
  },
  {
    code: 'group',
    folders: [{ code: 'contract' }],
    attributes: { group_id: { type: 'string' as const, unique: true } },
  },
];

function m42TargetSubject(): TargetSubject {
  let api: M42Api;
  let targets: M42Targets | undefined;
  const uniqueOf: Record<string, string> = { person: 'person_id', user: 'user_id', group: 'group_id' };
  /** A card of the simulator as the contract compares it. */
  const view = (card: ReturnType<M42Api['cards']>[number]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [code, attr] of Object.entries(card.data ?? {})) {
      const values = ((attr as { values?: Array<Record<string, unknown>> }).values ?? []).map((v) => {
        if (!('dataCardId' in v)) return v.value;
        const ref = [...Object.keys(uniqueOf)].flatMap((t) => api.cards(t)).find((c) => c.dataCardId === v.dataCardId);
        const code2 = ref ? uniqueOf[ref.templateCode ?? ''] : undefined;
        return code2
          ? (ref?.data?.[code2] as unknown as { values?: Array<{ value: unknown }> } | undefined)?.values?.[0]?.value
          : v.dataCardId;
      });
      if (values.length === 0) continue;
      out[code] = (attr as { type?: string }).type === 'reference' || values.length > 1 ? values : values[0];
    }
    return out;
  };
  return {
    name: 'm42 (the home solution REST API, simulated, over HTTP)',
    async start() {
      api = await startM42Api({
        users: [{ login: 'contract', password: 'contract-pw-1' }],
        templates: contractTemplates(),
      });
    },
    async stop() {
      await api.stop();
    },
    open() {
      api.reset();
      targets = new M42Targets({
        url: api.url,
        secrets: new LocalSecretResolver(undefined, {
          PROVISIO_SECRET_WEBAPI_USERNAME: 'contract',
          PROVISIO_SECRET_WEBAPI_PASSWORD: 'contract-pw-1',
        }),
        log: silentLogger,
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
      });
      const connector = {
        metadata: { name: 'source', namespace: 'contract' },
        spec: { webApi: { secretRef: { name: 'webapi' } } },
      };
      const target = targets.targetFor(connector as Connector);
      const own = targets;
      return Object.assign(Object.create(target) as Target, {
        name: target.name,
        check: (r: Parameters<NonNullable<Target['check']>>[0]) => target.check!(r),
        upsert: target.upsert.bind(target),
        ownedCards: target.ownedCards.bind(target),
        markDeleted: target.markDeleted.bind(target),
        createCard: target.createCard.bind(target),
        async *list(template: string) {
          for (const card of api.cards(template)) yield view(card);
        },
        close: () => own.close(),
      });
    },
  };
}

export const targetSubjects: TargetSubject[] = [
  { name: 'local (embedded SQLite data cards)', open: (dir) => new LocalTarget(`${dir}/cards.db`) },
  m42TargetSubject(),
];
