/**
 * The benchmark's source data and the resources that read it. Records are generated from their index
 * alone (no state, no randomness), so every page is identical across requests, runs and processes:
 * an unchanged rerun really sees unchanged data.
 *
 * A record has 27 attributes of the shapes HR APIs answer with: strings, numbers, booleans, nulls,
 * ISO dates, nested objects (`name`, `department`, `manager`, `location`, `custom`), arrays of strings,
 * and keys that need bracket notation in mapping paths (`employment-type`, `name['first-name']`,
 * `@odata.etag`). About 1 KB of JSON each.
 */
import type { Connector, Task, TaskAttributeMapping } from '../../src/model/resources.js';

export const PAGE_SIZE = 1000;
export const VALUE_MARKER = 'items';
export const QUERY = '/employees';

const FIRST = ['Aino', 'Eero', 'Helmi', 'Juho', 'Kaisa', 'Lauri', 'Maria', 'Niko', 'Olivia', 'Pekka', 'Sofia', 'Ville'];
const LAST = [
  'Virtanen',
  'Korhonen',
  'Mäkinen',
  'Nieminen',
  'Hämäläinen',
  'Laine',
  'Heikkinen',
  'Koskinen',
  'Järvinen',
];
const DEPARTMENTS = [
  { code: 'FIN', name: 'Finance', 'cost-center': 'CC-1100' },
  { code: 'HR', name: 'Human Resources', 'cost-center': 'CC-1200' },
  { code: 'ENG', name: 'Engineering', 'cost-center': 'CC-2100' },
  { code: 'OPS', name: 'Operations', 'cost-center': 'CC-2200' },
  { code: 'SAL', name: 'Sales & Marketing', 'cost-center': 'CC-3100' },
  { code: 'LEG', name: 'Legal', 'cost-center': 'CC-4100' },
];
const TITLES = ['Analyst', 'Engineer', 'Senior Engineer', 'Team Lead', 'Manager', 'Specialist', 'Director', 'Trainee'];
const SITES = [
  { site: 'HEL-01', city: 'Helsinki', country: 'FI', 'postal-code': '00100' },
  { site: 'TRE-02', city: 'Tampere', country: 'FI', 'postal-code': '33100' },
  { site: 'STO-01', city: 'Stockholm', country: 'SE', 'postal-code': '111 20' },
  { site: 'BER-03', city: 'Berlin', country: 'DE', 'postal-code': '10115' },
];
const EMPLOYMENT = ['permanent', 'permanent', 'permanent', 'fixed-term', 'contractor', 'trainee'];
const LANGUAGES = [['fi', 'en'], ['sv', 'en'], ['de', 'en'], ['en']];

/** A 32-bit integer hash of the index and a salt (splitmix-like), for picks that look random. */
function mix(i: number, salt: number): number {
  let h = Math.imul(i ^ (salt * 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const DAY_MS = 86_400_000;
const EPOCH_2010 = Date.UTC(2010, 0, 1);
const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const employeeId = (i: number): string => `E${pad(i + 1, 7)}`;

/** Record number `i` (0-based) of the source. */
export function employee(i: number): Record<string, unknown> {
  const first = FIRST[mix(i, 1) % FIRST.length];
  const last = LAST[mix(i, 2) % LAST.length];
  const dept = DEPARTMENTS[mix(i, 3) % DEPARTMENTS.length];
  const site = SITES[mix(i, 4) % SITES.length];
  const hired = EPOCH_2010 + (mix(i, 5) % 5000) * DAY_MS;
  const leaving = mix(i, 6) % 20 === 0;
  const user = `${first}.${last}${i + 1}`
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
  const managerIndex = i < 10 ? 0 : mix(i, 7) % Math.max(1, Math.floor(i / 10));
  return {
    id: employeeId(i),
    '@odata.etag': `W/"${mix(i, 8).toString(16)}"`,
    employeeNumber: 100_000 + i,
    userName: user,
    name: { 'first-name': first, 'last-name': last, 'display-name': `${first} ${last}` },
    email: `${user}@acme.example.com`,
    phone: `+358 40 ${pad(mix(i, 9) % 1000, 3)} ${pad(mix(i, 10) % 10_000, 4)}`,
    title: TITLES[mix(i, 11) % TITLES.length],
    department: dept,
    manager: { id: employeeId(managerIndex), email: `manager${managerIndex + 1}@acme.example.com` },
    location: site,
    'employment-type': EMPLOYMENT[mix(i, 12) % EMPLOYMENT.length],
    hireDate: isoDate(hired),
    terminationDate: leaving ? isoDate(hired + 900 * DAY_MS) : null,
    active: !leaving,
    fte: [1, 1, 1, 0.8, 0.6, 0.5][mix(i, 13) % 6],
    salaryGrade: 3 + (mix(i, 14) % 12),
    languages: LANGUAGES[mix(i, 15) % LANGUAGES.length],
    groups: [`grp-${dept.code.toLowerCase()}`, 'grp-all-staff', `grp-site-${site.site.toLowerCase()}`],
    costCenter: dept['cost-center'],
    badge: `B-${pad(mix(i, 16) % 1_000_000, 6)}`,
    remote: mix(i, 17) % 3 === 0,
    custom: { 'shirt-size': ['S', 'M', 'L', 'XL'][mix(i, 18) % 4], parkingSpot: mix(i, 19) % 5 === 0 ? 'P-12' : null },
    createdAt: new Date(hired).toISOString(),
    updatedAt: new Date(hired + (mix(i, 20) % 400) * DAY_MS).toISOString(),
  };
}

/** The JSON body of page `page` (1-based) of `size` records out of `total`. */
export function pageBody(total: number, page: number, size: number): string {
  const start = (page - 1) * size;
  const end = Math.min(total, start + size);
  const items: unknown[] = [];
  for (let i = start; i < end; i++) items.push(employee(i));
  return JSON.stringify({ [VALUE_MARKER]: items, page, size, total });
}

/** The 20 mapped attributes: plain names, nested paths, bracket notation, a table index, a multi-value. */
export const MAPPED_ATTRIBUTES: TaskAttributeMapping[] = [
  { external: 'id', local: 'employee_id', unique: true },
  { external: 'employeeNumber', local: 'employee_number' },
  { external: 'userName', local: 'user_name' },
  { external: "name['first-name']", local: 'first_name' },
  { external: "name['last-name']", local: 'last_name' },
  { external: 'email', local: 'email' },
  { external: 'phone', local: 'phone' },
  { external: 'title', local: 'job_title' },
  { external: 'department.name', local: 'department' },
  { external: "department['cost-center']", local: 'cost_center' },
  { external: 'manager.id', local: 'manager_id' },
  { external: 'location.city', local: 'city' },
  { external: 'location.country', local: 'country' },
  { external: "['employment-type']", local: 'employment_type' },
  { external: 'hireDate', local: 'hire_date' },
  { external: 'terminationDate', local: 'termination_date' },
  { external: 'active', local: 'active' },
  { external: 'fte', local: 'fte' },
  { external: 'groups.0', local: 'primary_group' },
  { external: 'languages', local: 'languages' },
];

export function benchConnector(baseUrl: string): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'bench-hr', namespace: 'bench' },
    spec: {
      type: 'rest',
      description: 'Benchmark HR source (bench/source-server.ts)',
      rest: {
        baseUrl,
        auth: { type: 'none' },
        pagination: { type: 'pageIncrement', pageParam: 'page', sizeParam: 'size', firstPage: 1, pageSize: PAGE_SIZE },
      },
    },
  };
}

export function benchTask(records: number): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'bench-employees', namespace: 'bench' },
    spec: {
      connectorRef: { name: 'bench-hr' },
      usage: 'scheduled',
      mappingsType: 'generic',
      schedule: { interval: '30m' },
      fetch: 'full',
      source: {
        rest: {
          query: QUERY,
          valueMarker: VALUE_MARKER,
          errorMarker: 'errors',
          uniqueAttribute: 'id',
          // Every page plus the empty one that ends the extract, with room to spare.
          safetyThreshold: Math.ceil(records / PAGE_SIZE) + 10,
        },
      },
      mappings: {
        generic: {
          template: 'employee',
          folder: 'employees',
          taskIdAttribute: 'task_id',
          dataSourceTypeAttribute: 'source_type',
          onDeleted: { attribute: 'status', value: 'Deleted' },
          attributes: MAPPED_ATTRIBUTES,
        },
      },
      deletion: { maxFraction: 0.2 },
      failure: { template: 'failure', folder: 'failures', attribute: 'message' },
      // The daily cache clear twelve hours away from now, so that a benchmark run near 00:00 UTC (the default)
      // cannot clear the cache between the full run and the unchanged rerun.
      cache: { clearAt: [clearTimeAwayFromNow()] },
    },
  };
}

function clearTimeAwayFromNow(now = new Date()): string {
  const h = (now.getUTCHours() + 12) % 24;
  return `${String(h).padStart(2, '0')}:00`;
}
