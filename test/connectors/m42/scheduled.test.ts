/**
 * Scheduled M42 tasks: cards of another instance (the simulated REST API over HTTPS) read into the local
 * target. The filter is EQL's WHERE part or a whole SELECT; folderCode narrows it; pages follow filterId;
 * mapping paths address attribute codes, references by name and id, multi-values as lists.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runTask } from '../../../src/engine/run-task.js';
import type { Connector, Task } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { type EngineFixture, engineFixture } from '../../engine/helpers.js';
import { partnerConnector, type Remote, startRemote } from './helpers.js';

let remote: Remote;
let fx: EngineFixture;
let runNo = 0;

beforeAll(async () => {
  remote = await startRemote();
});
afterAll(() => remote.stop());
beforeEach(async () => {
  await fx?.close();
  fx = engineFixture();
  fx.deps.secrets = new LocalSecretResolver(undefined, remote.secretsEnv);
  remote.api.reset();
  seeded = 0;
});

const connector = (): Connector => parse(partnerConnector(remote.api.url)) as Connector;

const task = (
  source: Record<string, unknown>,
  attributes: Array<{ external: string; local: string; unique?: boolean }>,
): Task => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'partner-resolved', namespace: 'iga' },
  spec: {
    connectorRef: { name: 'partner-itsm' },
    usage: 'scheduled',
    mappingsType: 'generic',
    schedule: { interval: '15m' },
    source: { m42: source as { templateCode: string } },
    mappings: { generic: { template: 'incident', taskIdAttribute: 'task_id', attributes } },
  },
});

const run = (t: Task) =>
  runTask(fx.deps, {
    task: t,
    connector: connector(),
    runId: `run-${++runNo}`,
    trigger: 'manual',
    plannedTime: new Date(),
    signal: new AbortController().signal,
  });

let seeded = 0;
function seed(n: number, folder = 'escalated_from_acme', status = '07 - Resolved') {
  for (let i = seeded + 1; i <= seeded + n; i++) {
    remote.api.insert('incident', folder, {
      efecte_id: `INC-${String(i).padStart(5, '0')}`,
      acme_incident_id: `ACME-${i}`,
      status,
      origin_system: 'acme',
      solution: `fixed ${i}`,
    });
  }
  seeded += n;
}

describe('M42 scheduled tasks', () => {
  it('reads every card the filter selects across pages, mapping attribute codes', async () => {
    seed(450);
    seed(5, 'escalated_from_acme', '02 - Solving');
    const t = task(
      {
        templateCode: 'incident',
        folderCode: 'escalated_from_acme',
        filter: "$status$ = '07 - Resolved' AND entity.deleted = 0",
      },
      [
        { external: 'acme_incident_id', local: 'efecte_id', unique: true },
        { external: 'efecte_id', local: 'partner_incident_id' },
        { external: 'status', local: 'partner_status' },
        { external: 'solution', local: 'partner_solution' },
      ],
    );
    const r = await run(t);
    expect(r.reason).toBe('Succeeded');
    expect(r.extract?.records).toBe(450);
    const cards = await fx.cards('incident');
    expect(cards).toHaveLength(450);
    expect(cards.find((c) => c.efecte_id === 'ACME-17')).toMatchObject({
      partner_incident_id: 'INC-00017',
      partner_status: '07 - Resolved',
      partner_solution: 'fixed 17',
    });
    // 450 cards in pages of 200 (filterId), each request with the WHERE part and the folder.
    const lists = remote.api.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/dc/incident/data'));
    expect(lists).toHaveLength(3);
    expect(lists[1].query.filterId).toBeDefined();
    expect(lists[0].query.filter).toContain("entity.folder.code = 'escalated_from_acme'");
    expect(lists[0].query.selectedAttributes?.split(',').sort()).toEqual([
      'acme_incident_id',
      'efecte_id',
      'solution',
      'status',
    ]);
  });

  it('takes a whole SELECT statement as the seeds write it, reduced to its WHERE part', async () => {
    seed(3);
    seed(2, 'internal');
    const t = task(
      {
        templateCode: 'incident',
        filter: "SELECT entity FROM entity WHERE entity.template.code = 'incident' AND $origin_system$ = 'acme'",
      },
      [{ external: 'efecte_id', local: 'efecte_id', unique: true }],
    );
    const r = await run(t);
    expect(r.reason).toBe('Succeeded');
    expect(r.extract?.records).toBe(5);
  });

  it('maps references by name and id, and multi-values as lists', async () => {
    const owner = remote.api.insert('person', 'people', { person_id: 'ada', full_name: 'Ada Lovelace' });
    remote.api.insert('incident', 'internal', {
      efecte_id: 'INC-1',
      owner: { values: [{ dataCardId: owner.dataCardId }] },
      tags: { values: [{ value: 'vpn' }, { value: 'urgent' }] },
    });
    const t = task({ templateCode: 'incident' }, [
      { external: 'efecte_id', local: 'efecte_id', unique: true },
      { external: 'owner.name', local: 'owner_name' },
      { external: 'owner.dataCardId', local: 'owner_id' },
      { external: 'tags', local: 'tags' },
    ]);
    const r = await run(t);
    expect(r.reason).toBe('Succeeded');
    const [card] = await fx.cards('incident');
    expect(card).toMatchObject({ efecte_id: 'INC-1', owner_id: owner.dataCardId, tags: ['vpn', 'urgent'] });
    // A reference reads as the referenced card's name, as the API names it.
    expect(card.owner_name).toBe(remote.api.card(owner.dataCardId)?.name);
  });

  it('an attribute code the remote template lacks fails the run, naming the mapping', async () => {
    seed(1);
    const t = task({ templateCode: 'incident' }, [
      { external: 'efecte_id', local: 'efecte_id', unique: true },
      { external: 'colour', local: 'colour' },
    ]);
    const r = await run(t);
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toContain(
      'spec.mappings.generic.attributes[1].external "colour": template "incident" of the other instance has no attribute "colour"',
    );
  });

  it('an EQL syntax error comes back with the API message and marks nothing', async () => {
    seed(2);
    const t = task({ templateCode: 'incident', filter: "$status$ = = 'x'" }, [
      { external: 'efecte_id', local: 'efecte_id', unique: true },
    ]);
    const r = await run(t);
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toMatch(/HTTP 400/);
  });
});

describe('M42 loop guard', () => {
  it('warns when a scheduled task reads back what an event task of the same connector writes', async () => {
    const { validatePaths } = await import('../../../src/validation/validate.js');
    const { typeRules } = await import('../../../src/connectors/registry.js');
    const file = join(fx.dir, 'loop.yaml');
    writeFileSync(
      file,
      `${partnerConnector('https://partner.example.net/rest-api/itsm/v1')}---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: read-back, namespace: iga}
spec:
  connectorRef: {name: partner-itsm}
  usage: scheduled
  schedule: {interval: 15m}
  source: {m42: {templateCode: incident, filter: "$origin_system$ = 'acme'"}}
  mappings:
    generic:
      template: incident
      attributes:
        - {external: acme_incident_id, local: efecte_id, unique: true}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: escalate, namespace: iga}
spec:
  connectorRef: {name: partner-itsm}
  usage: event
  event: {timeout: 30s}
  source: {m42: {templateCode: incident, folderCode: escalated_from_acme}}
  mappings:
    generic:
      template: incident
      attributes:
        - {external: acme_incident_id, local: efecte_id, unique: true}
        - {external: origin_system, local: origin_system}
`,
    );
    const result = await validatePaths([file], { types: typeRules });
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
    const loop = warnings.find((w) => w.message.includes('endless loop'));
    expect(loop?.message).toContain(
      'Task read-back reads the remote template "incident" that event task escalate writes',
    );
    expect(loop?.field).toBe('spec.source.m42.filter');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // The example's filter on the partner's status breaks the loop: no warning there.
    const example = await validatePaths(['examples/m42/partner-itsm.yaml'], { types: typeRules });
    expect(example.diagnostics.map((d) => d.message).join('\n')).not.toContain('endless loop');
  });
});
